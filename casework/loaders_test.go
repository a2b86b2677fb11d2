package casework_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aidhub/aidhub"
	"github.com/aidhub/aidhub/casework"
	"github.com/aidhub/aidhub/db"
	"github.com/aidhub/aidhub/db/dbtest"
)

// The one-record getters answer the same through a request's loaders,
// asked all at once so that they batch, as through the one-off loaders
// they make for callers without any: the same record or the same error
// code for every caller, consent revoked or not.
func TestGettersSameWithRequestLoaders(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		r := f.publish(t, f.orgA, resourcePatch(10, "AFTER_SCHOOL_CARE"))
		type family struct {
			h       *casework.Household
			ps      []*casework.Person
			need    *casework.Need
			ref     *casework.Referral
			consent *casework.Consent
		}
		var fams []family
		for range 3 {
			h, ps := f.family(t)
			c := f.share(t, h, ps[0])
			_, needs, err := f.svc.CreateAssessment(cmCtx, casework.AssessmentInput{HouseholdID: h.ID, Needs: []casework.NeedInput{
				{PersonID: &ps[2].ID, CategoryCode: "CHILD_CARE", Severity: 3},
			}})
			if err != nil {
				t.Fatal(err)
			}
			ref := f.refer(t, casework.ReferralInput{NeedID: &needs[0].ID, ResourceID: r.ID})
			fams = append(fams, family{h, ps, needs[0], ref, c})
		}
		// The last family no longer consents: charityA gets CONSENT_REQUIRED.
		if _, err := f.svc.RevokeConsent(cmCtx, fams[2].consent.ID, "家属撤回授权"); err != nil {
			t.Fatal(err)
		}
		type call struct {
			name string
			get  func(ctx context.Context) (int64, error)
		}
		var calls []call
		add := func(name string, get func(ctx context.Context) (int64, error)) {
			calls = append(calls, call{name, get})
		}
		ids := []int64{99999}
		for _, fam := range fams {
			ids = append(ids, fam.h.ID)
			for _, p := range fam.ps {
				ids = append(ids, p.ID)
			}
			ids = append(ids, fam.need.ID, fam.ref.ID)
		}
		for _, id := range ids {
			add(fmt.Sprint("household ", id), func(ctx context.Context) (int64, error) {
				h, err := f.svc.Household(ctx, id)
				if h == nil {
					return 0, err
				}
				return h.ID, err
			})
			add(fmt.Sprint("person ", id), func(ctx context.Context) (int64, error) {
				p, err := f.svc.Person(ctx, id)
				if err != nil {
					return 0, err
				}
				return p.ID, nil
			})
			add(fmt.Sprint("need ", id), func(ctx context.Context) (int64, error) {
				n, err := f.svc.Need(ctx, id)
				if err != nil {
					return 0, err
				}
				return n.ID, nil
			})
			add(fmt.Sprint("referral ", id), func(ctx context.Context) (int64, error) {
				rf, err := f.svc.Referral(ctx, id)
				if err != nil {
					return 0, err
				}
				return rf.ID, nil
			})
			add(fmt.Sprint("sharing ", id), func(ctx context.Context) (int64, error) {
				ok, err := f.svc.SharingConsented(ctx, id)
				if ok {
					return 1, err
				}
				return 0, err
			})
		}
		for _, fam := range fams {
			add(fmt.Sprint("persons of ", fam.h.ID), func(ctx context.Context) (int64, error) {
				ps, err := f.svc.Persons(ctx, fam.h)
				sum := int64(0)
				for _, p := range ps {
					sum = sum*1000 + p.ID
				}
				return sum, err
			})
		}
		callers := map[string]context.Context{
			"admin": adminCtx, "caseManager": cmCtx, "otherRegion": cmOtherCtx, "donor": donorCtx,
			"charityA": f.charityA(), "charityB": f.charityB(),
		}
		type answer struct {
			id   int64
			code string
		}
		// A few answers spelled out, so both paths are held to the rules.
		spelled := map[string]answer{
			"charityA/household " + fmt.Sprint(fams[0].h.ID):  {fams[0].h.ID, ""},
			"charityA/household " + fmt.Sprint(fams[2].h.ID):  {0, aidhub.ECONSENT},
			"charityA/person " + fmt.Sprint(fams[0].ps[2].ID): {fams[0].ps[2].ID, ""},
			"charityA/person " + fmt.Sprint(fams[0].ps[1].ID): {0, aidhub.ENOTFOUND},
			"charityA/person " + fmt.Sprint(fams[2].ps[2].ID): {0, aidhub.ECONSENT},
			"charityA/need " + fmt.Sprint(fams[0].need.ID):    {0, aidhub.ENOTFOUND},
			"charityA/referral " + fmt.Sprint(fams[2].ref.ID): {fams[2].ref.ID, ""},
			"charityB/household " + fmt.Sprint(fams[0].h.ID):  {0, aidhub.ENOTFOUND},
			"charityB/referral " + fmt.Sprint(fams[0].ref.ID): {0, aidhub.ENOTFOUND},
			"otherRegion/need " + fmt.Sprint(fams[0].need.ID): {0, aidhub.ENOTFOUND},
			"caseManager/need " + fmt.Sprint(fams[0].need.ID): {fams[0].need.ID, ""},
			"caseManager/person 99999":                        {0, aidhub.ENOTFOUND},
			"donor/household " + fmt.Sprint(fams[0].h.ID):     {0, aidhub.EFORBIDDEN},
		}
		for name, ctx := range callers {
			want := make([]answer, len(calls))
			for i, c := range calls {
				id, err := c.get(ctx)
				want[i] = answer{id, aidhub.ErrorCode(err)}
				if err != nil && want[i].code == aidhub.EINTERNAL {
					t.Fatalf("%s, %s: %v", name, c.name, err)
				}
				if a, ok := spelled[name+"/"+c.name]; ok && a != want[i] {
					t.Errorf("%s, %s: %+v, want %+v", name, c.name, want[i], a)
				}
			}
			batched := f.svc.NewLoaderContext(ctx, 5*time.Millisecond)
			got := make([]answer, len(calls))
			var wg sync.WaitGroup
			for i, c := range calls {
				wg.Go(func() {
					id, err := c.get(batched)
					got[i] = answer{id, aidhub.ErrorCode(err)}
				})
			}
			wg.Wait()
			for i, c := range calls {
				if got[i] != want[i] {
					t.Errorf("%s, %s: through request loaders %+v, without %+v", name, c.name, got[i], want[i])
				}
			}
		}
	})
}
