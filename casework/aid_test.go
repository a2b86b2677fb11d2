package casework_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/aidhub/aidhub"
	"github.com/aidhub/aidhub/casework"
	"github.com/aidhub/aidhub/db"
	"github.com/aidhub/aidhub/db/dbtest"
)

// gov is direct government aid to a person (or nil for the household).
func gov(t testing.TB, h *casework.Household, p *casework.Person, category, start, end string) casework.AidInput {
	in := casework.AidInput{
		HouseholdID: h.ID, CategoryCode: category, ProviderKind: casework.ProviderGovernment, ProviderName: "渝中区医疗保障局",
		AmountFen: 50_000, Period: period(t, start, end),
	}
	if p != nil {
		in.PersonID = &p.ID
	}
	return in
}

func aidIDs(p *aidhub.Page[*casework.AidRecord]) []int64 {
	out := []int64{}
	for _, r := range p.Items {
		out = append(out, r.ID)
	}
	return out
}

func TestRecordAid(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		h, ps := f.sharedFamily(t)
		head, spouse, child := ps[0], ps[1], ps[2]

		first, err := f.svc.RecordAid(cmCtx, gov(t, h, child, "MEDICAL_OUTPATIENT", "2026-11-01", "2026-11-30"))
		if err != nil {
			t.Fatal(err)
		}
		if first.ID == 0 || *first.PersonID != child.ID || first.Source != casework.SourceDirect || first.ProviderOrgID != nil ||
			first.ProviderName != "渝中区医疗保障局" || first.AmountFen != 50_000 || *first.RecordedByTokenID != 3 ||
			first.PeriodStart.String() != "2026-11-01" || first.PeriodEnd.String() != "2026-11-30" || first.OverrideReason != "" {
			t.Fatalf("recorded %+v", first)
		}
		e := lastAudit(t, d, "recordAid")
		if *e.SubjectID != first.ID || strings.Contains(e.Summary, "医疗保障局") || !strings.Contains(e.Summary, `"override":false`) {
			t.Fatalf("audit %s", e.Summary)
		}

		t.Run("Overlap", func(t *testing.T) {
			before := rowCounts(t, d)
			in := gov(t, h, child, "MEDICAL_OUTPATIENT", "2026-11-30", "2026-12-30")
			in.ProviderKind, in.ProviderName = casework.ProviderCharity, "某基金会"
			_, err := f.svc.RecordAid(cmCtx, in)
			wantCode(t, err, aidhub.EDUPLICATEAID)
			wantMessage(t, err, "渝中区医疗保障局", "2026-11-01", "2026-11-30", "MEDICAL_OUTPATIENT", "override")
			// Starting before and ending inside, or containing it.
			_, err = f.svc.RecordAid(cmCtx, gov(t, h, child, "MEDICAL_OUTPATIENT", "2026-10-01", "2026-11-01"))
			wantCode(t, err, aidhub.EDUPLICATEAID)
			_, err = f.svc.RecordAid(cmCtx, gov(t, h, child, "MEDICAL_OUTPATIENT", "2026-01-01", "2026-12-31"))
			wantCode(t, err, aidhub.EDUPLICATEAID)
			unchanged(t, d, before)
		})
		t.Run("NoOverlap", func(t *testing.T) {
			if _, err := f.svc.RecordAid(cmCtx, gov(t, h, child, "MEDICAL_OUTPATIENT", "2026-12-01", "2026-12-31")); err != nil {
				t.Fatalf("adjacent period: %v", err)
			}
			if _, err := f.svc.RecordAid(cmCtx, gov(t, h, spouse, "MEDICAL_OUTPATIENT", "2026-11-01", "2026-11-30")); err != nil {
				t.Fatalf("another person: %v", err)
			}
			if _, err := f.svc.RecordAid(cmCtx, gov(t, h, child, "MEDICAL_INPATIENT", "2026-11-01", "2026-11-30")); err != nil {
				t.Fatalf("another category: %v", err)
			}
			// A one-off aid before the window of the first.
			if _, err := f.svc.RecordAid(cmCtx, gov(t, h, child, "MEDICAL_OUTPATIENT", "2026-10-01", "2026-10-01")); err != nil {
				t.Fatalf("one-off 31 days before: %v", err)
			}
		})
		t.Run("OneOffCoversWindow", func(t *testing.T) {
			// EMERGENCY has a window of 90 days: a one-day grant on
			// 2026-06-01 counts to 2026-08-29.
			if _, err := f.svc.RecordAid(cmCtx, gov(t, h, spouse, "EMERGENCY", "2026-06-01", "2026-06-01")); err != nil {
				t.Fatal(err)
			}
			_, err := f.svc.RecordAid(cmCtx, gov(t, h, spouse, "EMERGENCY", "2026-08-29", "2026-08-29"))
			wantCode(t, err, aidhub.EDUPLICATEAID)
			wantMessage(t, err, "2026-06-01")
			// And a new one-off before it covers it as well.
			_, err = f.svc.RecordAid(cmCtx, gov(t, h, spouse, "EMERGENCY", "2026-03-04", "2026-03-04"))
			wantCode(t, err, aidhub.EDUPLICATEAID)
			if _, err := f.svc.RecordAid(cmCtx, gov(t, h, spouse, "EMERGENCY", "2026-08-30", "2026-08-30")); err != nil {
				t.Fatalf("the day after the window: %v", err)
			}
			if _, err := f.svc.RecordAid(cmCtx, gov(t, h, spouse, "EMERGENCY", "2026-03-03", "2026-03-03")); err != nil {
				t.Fatalf("90 days before: %v", err)
			}
		})
		t.Run("HouseholdLevel", func(t *testing.T) {
			// A living allowance is for the household: naming the head
			// records it for the household as a whole.
			in := gov(t, h, head, "", "2026-11-01", "2026-11-30")
			in.ItemCode = ptr("LIVING_ALLOWANCE")
			rec, err := f.svc.RecordAid(cmCtx, in)
			if err != nil {
				t.Fatal(err)
			}
			if rec.PersonID != nil || rec.CategoryCode != "BASIC_LIVING" {
				t.Fatalf("household-level aid %+v", rec)
			}
			// Any member's aid in the category now conflicts, either way.
			child1 := gov(t, h, child, "BASIC_LIVING", "2026-11-15", "2026-11-15")
			child1.ItemCode = ptr("MEAL_ASSISTANCE")
			_, err = f.svc.RecordAid(cmCtx, child1)
			wantCode(t, err, aidhub.EDUPLICATEAID)
			in.PersonID = &spouse.ID
			_, err = f.svc.RecordAid(cmCtx, in)
			wantCode(t, err, aidhub.EDUPLICATEAID)
			// Person-level aid of two members in one category does not.
			h2, ps2 := f.sharedFamily(t)
			a := gov(t, h2, ps2[1], "BASIC_LIVING", "2026-11-01", "2026-11-30")
			a.ItemCode = ptr("MEAL_ASSISTANCE")
			if _, err := f.svc.RecordAid(cmCtx, a); err != nil {
				t.Fatal(err)
			}
			a.PersonID = &ps2[2].ID
			a.ItemCode = ptr("CHILD_LIVING_ALLOWANCE")
			if _, err := f.svc.RecordAid(cmCtx, a); err != nil {
				t.Fatalf("another member, person-level: %v", err)
			}
			// But then household-level aid conflicts with either.
			hh := gov(t, h2, nil, "", "2026-11-20", "2026-11-20")
			hh.ItemCode = ptr("TEMP_LIVING_SUPPLIES")
			_, err = f.svc.RecordAid(cmCtx, hh)
			wantCode(t, err, aidhub.EDUPLICATEAID)
		})
		t.Run("NoWindow", func(t *testing.T) {
			for range 3 {
				if _, err := f.svc.RecordAid(cmCtx, gov(t, h, child, "PSYCHOLOGICAL", "2026-11-01", "2026-11-30")); err != nil {
					t.Fatalf("PSYCHOLOGICAL has no duplicate rule: %v", err)
				}
			}
		})
		t.Run("Override", func(t *testing.T) {
			in := gov(t, h, child, "MEDICAL_OUTPATIENT", "2026-11-10", "2026-11-20")
			before := rowCounts(t, d)
			for _, c := range []struct {
				ctx  context.Context
				code string
			}{{f.charityA(), aidhub.EFORBIDDEN}, {adminCtx, aidhub.EFORBIDDEN}} {
				in.OverrideReason = "病情加重，需要追加救助"
				_, err := f.svc.RecordAid(c.ctx, in)
				wantCode(t, err, c.code)
			}
			in.OverrideReason = "加"
			_, err := f.svc.RecordAid(cmCtx, in)
			wantInvalid(t, err, "reason")
			unchanged(t, d, before)
			in.OverrideReason = "病情加重，需要追加救助"
			rec, err := f.svc.RecordAid(cmCtx, in)
			if err != nil {
				t.Fatal(err)
			}
			if rec.OverrideReason != "病情加重，需要追加救助" {
				t.Fatalf("override reason %q", rec.OverrideReason)
			}
			e := lastAudit(t, d, "recordAid")
			if !strings.Contains(e.Summary, `"override":true`) || strings.Contains(e.Summary, "病情") {
				t.Fatalf("override audit %s", e.Summary)
			}
		})
		t.Run("Charity", func(t *testing.T) {
			// A charity the household was referred to records its own aid.
			r := f.publish(t, f.orgA, resourcePatch(10, "HOME_CARE"))
			f.refer(t, casework.ReferralInput{HouseholdID: h.ID, PersonID: &head.ID, ResourceID: r.ID, CategoryCode: "ELDERLY_CARE"})
			in := casework.AidInput{HouseholdID: h.ID, PersonID: &child.ID, CategoryCode: "MEDICAL_OUTPATIENT", Units: 2, Period: period(t, "2026-11-05", "2026-11-05")}
			before := rowCounts(t, d)
			// Only what was referred to it: not the child's outpatient care
			// (nor the spouse's rehabilitation) yet.
			_, err := f.svc.RecordAid(f.charityA(), in)
			wantCode(t, err, aidhub.EFORBIDDEN)
			rehab := in
			rehab.CategoryCode, rehab.PersonID = "DISABILITY_REHAB", &spouse.ID
			_, err = f.svc.RecordAid(f.charityA(), rehab)
			wantCode(t, err, aidhub.EFORBIDDEN)
			unchanged(t, d, before)
			outpatient := f.publish(t, f.orgA, resourcePatch(10, "OUTPATIENT_SUBSIDY"))
			f.refer(t, casework.ReferralInput{HouseholdID: h.ID, PersonID: &child.ID, ResourceID: outpatient.ID, CategoryCode: "MEDICAL_OUTPATIENT", OverrideReason: "门诊费用仍有缺口"})
			rehabRes := f.publish(t, f.orgA, resourcePatch(10, "REHAB_TRAINING"))
			f.refer(t, casework.ReferralInput{HouseholdID: h.ID, PersonID: &spouse.ID, ResourceID: rehabRes.ID, CategoryCode: "DISABILITY_REHAB"})
			before = rowCounts(t, d)
			_, err = f.svc.RecordAid(f.charityA(), in)
			wantCode(t, err, aidhub.EDUPLICATEAID)
			wantMessage(t, err, "another provider", "2026-11-01")
			wantNoMessage(t, err, "医疗保障局", "override")
			other := in
			other.ProviderOrgID = &f.orgB.ID
			_, err = f.svc.RecordAid(f.charityA(), other)
			wantCode(t, err, aidhub.EFORBIDDEN)
			_, err = f.svc.RecordAid(f.charityB(), in)
			wantCode(t, err, aidhub.ENOTFOUND) // not referred to B
			unchanged(t, d, before)

			// After its referral's period and the category's window.
			in.CategoryCode, in.PersonID, in.Period = "DISABILITY_REHAB", &spouse.ID, period(t, "2027-06-01", "2027-06-01")
			rec, err := f.svc.RecordAid(f.charityA(), in)
			if err != nil {
				t.Fatal(err)
			}
			if *rec.ProviderOrgID != f.orgA.ID || rec.ProviderName != f.orgA.Name || rec.ProviderKind != casework.ProviderCharity {
				t.Fatalf("charity aid %+v", rec)
			}
			// Its own aid is named to it.
			_, err = f.svc.RecordAid(f.charityA(), in)
			wantCode(t, err, aidhub.EDUPLICATEAID)
			wantMessage(t, err, f.orgA.Name)
			// A case manager sees the provider.
			cm := in
			cm.ProviderKind, cm.ProviderName = casework.ProviderOther, "邻居"
			_, err = f.svc.RecordAid(cmCtx, cm)
			wantCode(t, err, aidhub.EDUPLICATEAID)
			wantMessage(t, err, f.orgA.Name)

			// The charity's history shows its own aid only.
			p, err := f.svc.AidHistory(f.charityA(), casework.AidFilter{HouseholdID: h.ID}, page(50))
			if err != nil || !slices.Equal(aidIDs(p), []int64{rec.ID}) || p.TotalCount != 1 {
				t.Fatalf("charity history %v, %v", aidIDs(p), err)
			}
		})
		t.Run("History", func(t *testing.T) {
			all, err := f.svc.AidHistory(cmCtx, casework.AidFilter{HouseholdID: h.ID}, page(100))
			if err != nil {
				t.Fatal(err)
			}
			if all.TotalCount != len(all.Items) || len(all.Items) < 10 {
				t.Fatalf("history of %d, total %d", len(all.Items), all.TotalCount)
			}
			ids := aidIDs(all)
			if !slices.IsSortedFunc(ids, func(a, b int64) int { return int(b - a) }) {
				t.Fatalf("history not newest first: %v", ids)
			}
			// Paged one by one, the same.
			var paged []int64
			var after int64
			for {
				p, err := f.svc.AidHistory(cmCtx, casework.AidFilter{HouseholdID: h.ID}, aidhub.PageArgs{First: 3, After: after})
				if err != nil {
					t.Fatal(err)
				}
				paged = append(paged, aidIDs(p)...)
				if !p.HasNextPage {
					break
				}
				after = p.IDs[len(p.IDs)-1]
			}
			if !slices.Equal(paged, ids) {
				t.Fatalf("paged %v, want %v", paged, ids)
			}
			// By person: the child's own and the household's.
			byChild, _ := f.svc.AidHistory(cmCtx, casework.AidFilter{HouseholdID: h.ID, PersonID: &child.ID, CategoryCode: "BASIC_LIVING"}, page(100))
			if len(byChild.Items) != 1 || byChild.Items[0].PersonID != nil {
				t.Fatalf("child's basic living: %+v", byChild.Items)
			}
			for _, r := range all.Items {
				if r.Source != casework.SourceDirect {
					t.Errorf("source %s", r.Source)
				}
			}
		})
	})
}

func TestRecordAid_BadInput(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		h, ps := f.sharedFamily(t)
		_, other := f.family(t)
		valid := func() casework.AidInput { return gov(t, h, ps[1], "MEDICAL_OUTPATIENT", "2026-11-01", "2026-11-30") }
		// A need of another category.
		_, _, needs, err := f.classify(t, h, casework.NeedInput{CategoryCode: "EDUCATION", Severity: 2})
		if err != nil {
			t.Fatal(err)
		}
		before := rowCounts(t, d)
		for _, c := range []struct {
			name  string
			edit  func(*casework.AidInput)
			field string
		}{
			{"NegativeAmount", func(in *casework.AidInput) { in.AmountFen = -1 }, "amountFen"},
			{"NegativeUnits", func(in *casework.AidInput) { in.Units = -5 }, "units"},
			{"Nothing", func(in *casework.AidInput) { in.AmountFen = 0 }, "amountFen"},
			{"EndBeforeStart", func(in *casework.AidInput) { in.Period = period(t, "2026-11-30", "2026-11-01") }, "period"},
			{"NoPeriod", func(in *casework.AidInput) { in.Period = casework.Period{} }, "period"},
			{"TooLong", func(in *casework.AidInput) { in.Period = period(t, "2020-01-01", "2035-01-01") }, "period"},
			{"UnknownCategory", func(in *casework.AidInput) { in.CategoryCode = "GOLD" }, "categoryCode"},
			{"ItemOfOtherCategory", func(in *casework.AidInput) { in.ItemCode = ptr("SCHOOL_GRANT") }, "itemCode"},
			{"UnknownProviderKind", func(in *casework.AidInput) { in.ProviderKind = "ALIENS" }, "providerKind"},
			{"NoProviderName", func(in *casework.AidInput) { in.ProviderName = " " }, "providerName"},
			{"UnknownProviderOrg", func(in *casework.AidInput) { in.ProviderOrgID = ptr(int64(9999)) }, "providerOrganizationId"},
			{"PersonOfOtherHousehold", func(in *casework.AidInput) { in.PersonID = &other[0].ID }, "personId"},
			{"ReferralSource", func(in *casework.AidInput) { in.Source = casework.SourceReferral }, "source"},
			{"NeedOfOtherCategory", func(in *casework.AidInput) { in.NeedID = &needs[0].ID }, "needId"},
			{"UnknownNeed", func(in *casework.AidInput) { in.NeedID = ptr(int64(9999)) }, "needId"},
		} {
			in := valid()
			c.edit(&in)
			_, err := f.svc.RecordAid(cmCtx, in)
			if aidhub.ErrorCode(err) != aidhub.EBADINPUT {
				t.Errorf("%s: %v", c.name, err)
				continue
			}
			wantInvalid(t, err, c.field)
		}
		_, err = f.svc.RecordAid(cmCtx, casework.AidInput{HouseholdID: 9999, CategoryCode: "LEGAL", ProviderKind: casework.ProviderOther, ProviderName: "x", Units: 1, Period: period(t, "2026-11-01", "2026-11-01")})
		wantCode(t, err, aidhub.ENOTFOUND)
		unchanged(t, d, before)

		// With a provider organization, its name and kind are used; the
		// need is met.
		in := valid()
		in.ProviderOrgID, in.ProviderKind, in.ProviderName = &f.orgS.ID, "", ""
		in.CategoryCode, in.NeedID = "EDUCATION", &needs[0].ID
		rec, err := f.svc.RecordAid(cmCtx, in)
		if err != nil {
			t.Fatal(err)
		}
		if rec.ProviderKind != casework.ProviderSocialOrg || rec.ProviderName != f.orgS.Name {
			t.Fatalf("provider %s %s", rec.ProviderKind, rec.ProviderName)
		}
		ns, _ := f.svc.Needs(context.Background(), needs[0].AssessmentID)
		if ns[0].Status != casework.NeedMet || ns[0].ClosedAt == nil {
			t.Fatalf("need %s", ns[0].Status)
		}
	})
}

// classify submits an application for h and classifies it into needs.
func (f *fixture) classify(t testing.TB, h *casework.Household, needs ...casework.NeedInput) (*casework.Application, *casework.Assessment, []*casework.Need, error) {
	t.Helper()
	app, err := f.svc.SubmitApplication(cmCtx, casework.ApplicationInput{HouseholdID: h.ID, Channel: casework.ChannelCaseManager, HelpText: "入户走访"})
	if err != nil {
		t.Fatal(err)
	}
	return f.svc.ClassifyApplication(cmCtx, app.ID, casework.AssessmentInput{Needs: needs})
}
