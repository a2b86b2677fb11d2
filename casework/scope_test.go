package casework_test

import (
	"context"
	"slices"
	"testing"

	"github.com/aidhub/aidhub"
	"github.com/aidhub/aidhub/casework"
	"github.com/aidhub/aidhub/db"
	"github.com/aidhub/aidhub/db/dbtest"
)

func householdIDs(p *aidhub.Page[*casework.Household]) []int64 {
	out := []int64{}
	for _, h := range p.Items {
		out = append(out, h.ID)
	}
	return out
}

// listAll lists every household ctx sees, following the cursor one by one.
func listAll(t *testing.T, svc *casework.Service, ctx context.Context, f casework.HouseholdFilter) ([]int64, int) {
	t.Helper()
	var out []int64
	var after int64
	total := -1
	for range 100 {
		p, err := svc.Households(ctx, f, aidhub.PageArgs{First: 1, After: after})
		if err != nil {
			t.Fatalf("Households: %v", err)
		}
		if total >= 0 && p.TotalCount != total {
			t.Fatalf("total count changed between pages: %d, %d", total, p.TotalCount)
		}
		total = p.TotalCount
		out = append(out, householdIDs(p)...)
		if !p.HasNextPage {
			if len(out) != total {
				t.Fatalf("listed %v, but totalCount is %d", out, total)
			}
			return out, total
		}
		if len(p.Items) == 0 {
			t.Fatalf("empty page with a next page")
		}
		after = p.IDs[len(p.IDs)-1]
	}
	t.Fatal("too many pages")
	return nil, 0
}

func TestRegionScope(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		h1, ps1 := f.sharedFamily(t)
		h2, _ := f.register(t, cmCtx, yuzhongVillages[len(yuzhongVillages)-1], person("渝中二", "HEAD"))
		h3, ps3 := f.register(t, cmOtherCtx, dadukouVillages[0], person("大渡口", "HEAD"))
		f.share(t, h1, ps1[0])

		t.Run("RegisterOutsideRegion", func(t *testing.T) {
			before := rowCounts(t, d)
			_, _, err := f.svc.RegisterHousehold(cmCtx, casework.HouseholdInput{RegionCode: dadukouVillages[0], Members: []casework.PersonInput{person("越区", "HEAD")}})
			wantCode(t, err, aidhub.EFORBIDDEN)
			_, _, err = f.svc.RegisterHousehold(cmStreetCtx, casework.HouseholdInput{RegionCode: h2.RegionCode, Members: []casework.PersonInput{person("越街", "HEAD")}})
			wantCode(t, err, aidhub.EFORBIDDEN)
			_, _, err = f.svc.RegisterHousehold(donorCtx, casework.HouseholdInput{RegionCode: huayipo, Members: []casework.PersonInput{person("捐", "HEAD")}})
			wantCode(t, err, aidhub.EFORBIDDEN)
			_, _, err = f.svc.RegisterHousehold(f.charityA(), casework.HouseholdInput{RegionCode: huayipo, Members: []casework.PersonInput{person("慈", "HEAD")}})
			wantCode(t, err, aidhub.EFORBIDDEN)
			_, _, err = f.svc.RegisterHousehold(anonCtx, casework.HouseholdInput{RegionCode: huayipo, Members: []casework.PersonInput{person("匿", "HEAD")}})
			wantCode(t, err, aidhub.EUNAUTHENTICATED)
			unchanged(t, d, before)
		})

		t.Run("ReadOutsideRegion", func(t *testing.T) {
			for _, c := range []struct {
				ctx  context.Context
				id   int64
				code string
			}{
				{cmCtx, h1.ID, ""}, {cmCtx, h3.ID, aidhub.ENOTFOUND},
				{cmOtherCtx, h3.ID, ""}, {cmOtherCtx, h1.ID, aidhub.ENOTFOUND},
				{cmStreetCtx, h1.ID, ""}, {cmStreetCtx, h2.ID, aidhub.ENOTFOUND},
				{adminCtx, h3.ID, ""}, {cmCtx, 9999, aidhub.ENOTFOUND},
				{donorCtx, h1.ID, aidhub.EFORBIDDEN}, {anonCtx, h1.ID, aidhub.EUNAUTHENTICATED},
				{f.charityA(), h1.ID, aidhub.ENOTFOUND}, // no referral yet
			} {
				_, err := f.svc.Household(c.ctx, c.id)
				wantCode(t, err, c.code)
			}
			ps, err := f.svc.Persons(donorCtx, h1)
			if err != nil || len(ps) != 0 {
				t.Fatalf("a donor sees persons %v, %v", ps, err)
			}
			ps, err = f.svc.Persons(cmOtherCtx, h1)
			if err != nil || len(ps) != 0 {
				t.Fatalf("another region's case manager sees persons %v, %v", ps, err)
			}
		})

		t.Run("WriteOutsideRegion", func(t *testing.T) {
			before := rowCounts(t, d)
			ctx := cmOtherCtx
			_, err := f.svc.AddPerson(ctx, h1.ID, person("越区", "CHILD"))
			wantCode(t, err, aidhub.ENOTFOUND)
			_, err = f.svc.RecordConsent(ctx, casework.ConsentInput{HouseholdID: h1.ID, Purposes: []casework.Purpose{casework.ShareWithCharities}, GrantedByPersonID: ps1[0].ID, Method: casework.Paper})
			wantCode(t, err, aidhub.ENOTFOUND)
			cs, _ := f.svc.Consents(context.Background(), h1.ID)
			_, err = f.svc.RevokeConsent(ctx, cs[0].ID, "")
			wantCode(t, err, aidhub.ENOTFOUND)
			_, err = f.svc.SubmitApplication(ctx, casework.ApplicationInput{HouseholdID: h1.ID, Channel: casework.ChannelHotline, HelpText: "求助"})
			wantCode(t, err, aidhub.ENOTFOUND)
			_, _, err = f.svc.CreateAssessment(ctx, casework.AssessmentInput{HouseholdID: h1.ID, Needs: []casework.NeedInput{{CategoryCode: "BASIC_LIVING", Severity: 3}}})
			wantCode(t, err, aidhub.ENOTFOUND)
			_, err = f.svc.RecordAid(ctx, casework.AidInput{HouseholdID: h1.ID, CategoryCode: "LEGAL", ProviderKind: casework.ProviderGovernment, ProviderName: "司法局", Units: 1, Period: period(t, "2026-11-01", "2026-11-01")})
			wantCode(t, err, aidhub.ENOTFOUND)
			_, err = f.svc.AidHistory(ctx, casework.AidFilter{HouseholdID: h1.ID}, page(10))
			wantCode(t, err, aidhub.ENOTFOUND)
			r := f.publish(t, f.orgA, resourcePatch(10, "MEAL_ASSISTANCE"))
			_, err = f.svc.CreateReferral(ctx, casework.ReferralInput{HouseholdID: h1.ID, PersonID: &ps1[0].ID, ResourceID: r.ID, CategoryCode: "BASIC_LIVING"})
			wantCode(t, err, aidhub.ENOTFOUND)
			_, err = f.svc.RevealResidentID(ctx, ps1[0].ID, "核对身份信息")
			wantCode(t, err, aidhub.ENOTFOUND)
			// And the other way round.
			_, err = f.svc.AddPerson(cmCtx, h3.ID, person("越区2", "CHILD"))
			wantCode(t, err, aidhub.ENOTFOUND)
			_, err = f.svc.RevealResidentID(cmCtx, ps3[0].ID, "核对身份信息")
			wantCode(t, err, aidhub.ENOTFOUND)
			unchanged(t, d, before)
		})

		t.Run("ListInRegion", func(t *testing.T) {
			for _, c := range []struct {
				name string
				ctx  context.Context
				f    casework.HouseholdFilter
				want []int64
			}{
				{"CaseManager", cmCtx, casework.HouseholdFilter{}, []int64{h1.ID, h2.ID}},
				{"OtherCaseManager", cmOtherCtx, casework.HouseholdFilter{}, []int64{h3.ID}},
				{"StreetCaseManager", cmStreetCtx, casework.HouseholdFilter{}, []int64{h1.ID}},
				{"Admin", adminCtx, casework.HouseholdFilter{}, []int64{h1.ID, h2.ID, h3.ID}},
				{"AdminFiltered", adminCtx, casework.HouseholdFilter{RegionPrefix: dadukou}, []int64{h3.ID}},
				{"FilterOutsideScope", cmCtx, casework.HouseholdFilter{RegionPrefix: dadukou}, []int64{}},
				{"FilterInsideScope", cmCtx, casework.HouseholdFilter{RegionPrefix: huayipo}, []int64{h1.ID}},
				{"CharityWithoutReferral", f.charityA(), casework.HouseholdFilter{}, []int64{}},
			} {
				got, _ := listAll(t, f.svc, c.ctx, c.f)
				if got == nil {
					got = []int64{}
				}
				if !slices.Equal(got, c.want) {
					t.Errorf("%s lists %v, want %v", c.name, got, c.want)
				}
			}
			_, err := f.svc.Households(donorCtx, casework.HouseholdFilter{}, page(10))
			wantCode(t, err, aidhub.EFORBIDDEN)
			_, err = f.svc.Households(anonCtx, casework.HouseholdFilter{}, page(10))
			wantCode(t, err, aidhub.EUNAUTHENTICATED)
			_, err = f.svc.Households(cmCtx, casework.HouseholdFilter{RegionPrefix: "50%"}, page(10))
			wantInvalid(t, err, "regionPrefix")
			_, err = f.svc.Households(cmCtx, casework.HouseholdFilter{}, page(101))
			wantInvalid(t, err, "first")
			_, err = f.svc.Households(cmCtx, casework.HouseholdFilter{ResidentID: "123"}, page(10))
			wantInvalid(t, err, "residentId")
		})

		t.Run("DonorAndAnonymous", func(t *testing.T) {
			for _, c := range []struct {
				ctx  context.Context
				code string
			}{{donorCtx, aidhub.EFORBIDDEN}, {anonCtx, aidhub.EUNAUTHENTICATED}} {
				_, err := f.svc.AidHistory(c.ctx, casework.AidFilter{HouseholdID: h1.ID}, page(10))
				wantCode(t, err, c.code)
				_, err = f.svc.Referrals(c.ctx, casework.ReferralFilter{}, page(10))
				wantCode(t, err, c.code)
				_, err = f.svc.SubmitApplication(c.ctx, casework.ApplicationInput{HouseholdID: h1.ID, Channel: casework.ChannelApp, HelpText: "x"})
				wantCode(t, err, c.code)
				_, err = f.svc.RecordAid(c.ctx, casework.AidInput{HouseholdID: h1.ID})
				wantCode(t, err, c.code)
				_, err = f.svc.TransitionReferral(c.ctx, casework.Transition{ReferralID: 1, To: casework.Accepted})
				wantCode(t, err, c.code)
				_, err = f.svc.RecordConsent(c.ctx, casework.ConsentInput{HouseholdID: h1.ID})
				wantCode(t, err, c.code)
			}
		})
	})
}
