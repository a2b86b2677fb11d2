package casework_test

import (
	"testing"

	"github.com/aidhub/aidhub"
	"github.com/aidhub/aidhub/auth"
	"github.com/aidhub/aidhub/casework"
	"github.com/aidhub/aidhub/db"
	"github.com/aidhub/aidhub/db/dbtest"
)

// A charity referred one member of a household learns nothing of the
// others and cannot act on them; a case manager of another region cannot
// learn that a need exists.
func TestCharityStaysWithinItsReferral(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		h, ps := f.sharedFamily(t)
		head, spouse, child := ps[0], ps[1], ps[2]
		_, needs, err := f.svc.CreateAssessment(cmCtx, casework.AssessmentInput{HouseholdID: h.ID, Needs: []casework.NeedInput{
			{PersonID: &child.ID, CategoryCode: "CHILD_CARE", Severity: 3},
			{PersonID: &spouse.ID, CategoryCode: "MEDICAL_OUTPATIENT", Severity: 4},
		}})
		if err != nil {
			t.Fatal(err)
		}
		r := f.publish(t, f.orgA, resourcePatch(10, "AFTER_SCHOOL_CARE"))
		f.refer(t, casework.ReferralInput{NeedID: &needs[0].ID, ResourceID: r.ID})

		for _, filter := range []casework.HouseholdFilter{{GroupCode: "DIBAO"}, {ResidentID: makeIDFor(t, f, spouse)}} {
			if _, err := f.svc.Households(f.charityA(), filter, page(10)); aidhub.ErrorCode(err) != aidhub.EFORBIDDEN {
				t.Errorf("charity filtering by %+v: %v", filter, err)
			}
		}
		before := rowCounts(t, d)
		spouseAid := casework.AidInput{HouseholdID: h.ID, PersonID: &spouse.ID, CategoryCode: "MEDICAL_OUTPATIENT", AmountFen: 100, Period: period(t, "2026-11-20", "2026-11-20"), NeedID: &needs[1].ID}
		if _, err := f.svc.RecordAid(f.charityA(), spouseAid); aidhub.ErrorCode(err) != aidhub.EFORBIDDEN {
			t.Errorf("charity recording aid for a member not referred to it: %v", err)
		}
		childAid := casework.AidInput{HouseholdID: h.ID, PersonID: &child.ID, CategoryCode: "MEDICAL_OUTPATIENT", AmountFen: 100, Period: period(t, "2026-11-20", "2026-11-20"), NeedID: &needs[1].ID}
		if _, err := f.svc.RecordAid(f.charityA(), childAid); aidhub.ErrorCode(err) != aidhub.EFORBIDDEN && aidhub.ErrorCode(err) != aidhub.EBADINPUT {
			t.Errorf("charity meeting a need not referred to it: %v", err)
		}
		unchanged(t, d, before)
		childAid.NeedID = nil
		if _, err := f.svc.RecordAid(f.charityA(), childAid); err != nil {
			t.Errorf("charity recording other aid it gave the referred child: %v", err)
		}
		_ = head

		// A superseded need outside the region is NOT_FOUND, like a missing one.
		if _, _, err := f.svc.CreateAssessment(cmCtx, casework.AssessmentInput{HouseholdID: h.ID, Needs: []casework.NeedInput{{PersonID: &head.ID, CategoryCode: "BASIC_LIVING", Severity: 2}}}); err != nil {
			t.Fatal(err)
		}
		elsewhere := as(auth.Principal{Role: auth.CaseManager, RegionPrefix: "500106", TokenID: 99})
		if _, err := f.svc.CreateReferral(elsewhere, casework.ReferralInput{NeedID: &needs[1].ID, ResourceID: r.ID}); aidhub.ErrorCode(err) != aidhub.ENOTFOUND {
			t.Errorf("another region's case manager referring a superseded need: %v", err)
		}
	})
}

// makeIDFor reveals a person's resident ID as a case manager would.
func makeIDFor(t *testing.T, f *fixture, p *casework.Person) string {
	t.Helper()
	id, err := f.svc.RevealResidentID(cmCtx, p.ID, "核对身份信息")
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// The catalog refuses to delete what casework refers to, with CONFLICT.
func TestCatalogKeepsWhatCaseworkUses(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		h, ps := f.sharedFamily(t)
		_ = h
		if _, _, err := f.svc.CreateAssessment(cmCtx, casework.AssessmentInput{HouseholdID: ps[0].HouseholdID, Needs: []casework.NeedInput{
			{PersonID: &ps[0].ID, ItemCode: ptr("MEAL_ASSISTANCE"), Severity: 3},
		}}); err != nil {
			t.Fatal(err)
		}
		admin := as(auth.Principal{Role: auth.Admin, TokenID: 1})
		if err := f.cat.DeleteItem(admin, "MEAL_ASSISTANCE"); aidhub.ErrorCode(err) != aidhub.ECONFLICT {
			t.Errorf("deleting an item a need names: %v", err)
		}
		if _, _, err := f.svc.RegisterHousehold(cmCtx, casework.HouseholdInput{RegionCode: huayipo, Members: []casework.PersonInput{
			{Name: "成员", ResidentID: newID(), Relation: "HEAD", Groups: []casework.MembershipInput{{GroupCode: "DISABILITY", Since: f.today()}}},
		}}); err != nil {
			t.Fatal(err)
		}
		if err := f.cat.DeleteGroup(admin, "DISABILITY"); aidhub.ErrorCode(err) != aidhub.ECONFLICT {
			t.Errorf("deleting a group a person belongs to: %v", err)
		}
	})
}
