package casework_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aidhub/aidhub"
	"github.com/aidhub/aidhub/casework"
	"github.com/aidhub/aidhub/catalog"
	"github.com/aidhub/aidhub/db"
	"github.com/aidhub/aidhub/db/dbtest"
)

func meal(h *casework.Household, p *casework.Person, resourceID int64) casework.ReferralInput {
	return casework.ReferralInput{HouseholdID: h.ID, PersonID: &p.ID, ResourceID: resourceID, CategoryCode: "BASIC_LIVING", ItemCode: ptr("MEAL_ASSISTANCE")}
}

func TestCreateReferral(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		h, ps := f.sharedFamily(t)
		head, spouse, child := ps[0], ps[1], ps[2]
		meals := f.publish(t, f.orgA, resourcePatch(10, "MEAL_ASSISTANCE"))

		ref := f.refer(t, casework.ReferralInput{HouseholdID: h.ID, PersonID: &child.ID, ResourceID: meals.ID, CategoryCode: "BASIC_LIVING", Note: "每日午餐"})
		today := f.today()
		if ref.Status != casework.Pending || ref.OrganizationID != f.orgA.ID || ref.Units != 1 || ref.ItemCode == nil || *ref.ItemCode != "MEAL_ASSISTANCE" ||
			ref.PeriodStart != today || ref.PeriodEnd != today.AddDays(29) || !ref.RespondBy.Equal(fixedNow().Add(14*24*time.Hour)) ||
			*ref.CreatedByTokenID != 3 || ref.CapacityTaken || ref.Version != 1 || *ref.PersonID != child.ID || ref.Note != "每日午餐" {
			t.Fatalf("referral %+v", ref)
		}
		if n := f.unitsTaken(t, meals.ID); n != 0 {
			t.Fatalf("a pending referral took %d units", n)
		}
		hist, _ := f.svc.ReferralHistory(context.Background(), ref.ID)
		if len(hist) != 1 || hist[0].FromStatus != nil || hist[0].ToStatus != casework.Pending || hist[0].ActorRole != "CASE_MANAGER" {
			t.Fatalf("history %+v", hist)
		}
		e := lastAudit(t, d, "createReferral")
		if *e.SubjectID != ref.ID || strings.Contains(e.Summary, "午餐") {
			t.Fatalf("audit %s", e.Summary)
		}

		draft, err := f.cat.CreateResource(adminCtx, f.orgA.ID, resourcePatch(10, "MEAL_ASSISTANCE"))
		if err != nil {
			t.Fatal(err)
		}
		paused := f.publish(t, f.orgA, resourcePatch(10, "MEAL_ASSISTANCE"))
		if _, err := f.cat.PauseResource(adminCtx, paused.ID, nil); err != nil {
			t.Fatal(err)
		}
		closed := f.publish(t, f.orgA, resourcePatch(10, "MEAL_ASSISTANCE"))
		if _, err := f.cat.CloseResource(adminCtx, closed.ID, nil); err != nil {
			t.Fatal(err)
		}
		ending := resourcePatch(10, "MEAL_ASSISTANCE")
		ending.ValidUntil = aidhub.Some(date(t, "2026-11-28"))
		expired := f.publish(t, f.orgA, ending)
		later := resourcePatch(10, "MEAL_ASSISTANCE")
		later.ValidFrom = aidhub.Some(date(t, "2026-12-20"))
		notYet := f.publish(t, f.orgA, later)
		tiny := f.publish(t, f.orgA, resourcePatch(1, "MEAL_ASSISTANCE"))
		budget := resourcePatch(0, "MEAL_ASSISTANCE")
		budget.CapacityUnits, budget.CapacityBudgetFen = aidhub.Null[int64](), aidhub.Some[int64](10_000)
		money := f.publish(t, f.orgA, budget)
		care := f.publish(t, f.orgA, resourcePatch(10, "HOME_CARE"))
		_, outside := f.register(t, cmOtherCtx, dadukouVillages[0], person("大渡口", "HEAD"))
		// The day after the expiring resource's last day.
		f.clock.advance(24 * time.Hour)

		before := rowCounts(t, d)
		for _, c := range []struct {
			name  string
			ctx   context.Context
			in    casework.ReferralInput
			code  string
			field string
			parts []string
		}{
			{"SamePersonSameCategory", cmCtx, meal(h, child, meals.ID), aidhub.EDUPLICATEAID, "", []string{f.orgA.Name, "PENDING"}},
			{"SameCategoryOtherItem", cmCtx, casework.ReferralInput{HouseholdID: h.ID, PersonID: &child.ID, ResourceID: money.ID, CategoryCode: "BASIC_LIVING", AmountFen: 100}, aidhub.EDUPLICATEAID, "", nil},
			{"Draft", cmCtx, meal(h, spouse, draft.ID), aidhub.ENOTFOUND, "", nil},
			{"Paused", cmCtx, meal(h, spouse, paused.ID), aidhub.ENOTFOUND, "", nil},
			{"Closed", cmCtx, meal(h, spouse, closed.ID), aidhub.ENOTFOUND, "", nil},
			{"PausedAsAdmin", adminCtx, meal(h, spouse, paused.ID), aidhub.ECONFLICT, "", nil},
			{"ClosedAsAdmin", adminCtx, meal(h, spouse, closed.ID), aidhub.ECONFLICT, "", nil},
			{"Expired", cmCtx, meal(h, spouse, expired.ID), aidhub.ECONFLICT, "", nil},
			{"NotYetValid", cmCtx, meal(h, spouse, notYet.ID), aidhub.ECONFLICT, "", nil},
			{"NoSuchResource", cmCtx, meal(h, spouse, 99999), aidhub.ENOTFOUND, "", nil},
			{"CategoryNotOffered", cmCtx, meal(h, spouse, care.ID), aidhub.EBADINPUT, "resourceId", nil},
			{"ItemNotOffered", cmCtx, casework.ReferralInput{HouseholdID: h.ID, PersonID: &spouse.ID, ResourceID: meals.ID, ItemCode: ptr("CHILD_LIVING_ALLOWANCE")}, aidhub.EBADINPUT, "resourceId", nil},
			{"NoCapacity", cmCtx, func() casework.ReferralInput { in := meal(h, spouse, tiny.ID); in.Units = 2; return in }(), aidhub.ECAPACITY, "", nil},
			{"NoAmountForBudget", cmCtx, meal(h, spouse, money.ID), aidhub.EBADINPUT, "amountFen", nil},
			{"OverBudget", cmCtx, func() casework.ReferralInput { in := meal(h, spouse, money.ID); in.AmountFen = 10_001; return in }(), aidhub.ECAPACITY, "", nil},
			{"NegativeUnits", cmCtx, func() casework.ReferralInput { in := meal(h, spouse, meals.ID); in.Units = -1; return in }(), aidhub.EBADINPUT, "units", nil},
			{"NegativeAmount", cmCtx, func() casework.ReferralInput { in := meal(h, spouse, meals.ID); in.AmountFen = -1; return in }(), aidhub.EBADINPUT, "amountFen", nil},
			{"EndBeforeStart", cmCtx, func() casework.ReferralInput {
				in := meal(h, spouse, meals.ID)
				in.Period = ptr(period(t, "2026-12-10", "2026-12-01"))
				return in
			}(), aidhub.EBADINPUT, "period", nil},
			{"RespondTooLate", cmCtx, func() casework.ReferralInput { in := meal(h, spouse, meals.ID); in.RespondWithin = 91; return in }(), aidhub.EBADINPUT, "respondWithinDays", nil},
			{"UnknownCategory", cmCtx, casework.ReferralInput{HouseholdID: h.ID, PersonID: &spouse.ID, ResourceID: meals.ID, CategoryCode: "GOLD"}, aidhub.EBADINPUT, "categoryCode", nil},
			{"ItemOfOtherCategory", cmCtx, casework.ReferralInput{HouseholdID: h.ID, PersonID: &spouse.ID, ResourceID: meals.ID, CategoryCode: "MEDICAL", ItemCode: ptr("MEAL_ASSISTANCE")}, aidhub.EBADINPUT, "itemCode", nil},
			{"PersonOfOtherHousehold", cmCtx, meal(h, outside[0], meals.ID), aidhub.EBADINPUT, "personId", nil},
			{"HouseholdOutsideRegion", cmCtx, casework.ReferralInput{HouseholdID: outside[0].HouseholdID, ResourceID: meals.ID, CategoryCode: "BASIC_LIVING"}, aidhub.ENOTFOUND, "", nil},
			{"NoSuchNeed", cmCtx, casework.ReferralInput{NeedID: ptr(int64(9999)), ResourceID: meals.ID}, aidhub.ENOTFOUND, "", nil},
			{"Charity", f.charityA(), meal(h, spouse, meals.ID), aidhub.EFORBIDDEN, "", nil},
			{"Donor", donorCtx, meal(h, spouse, meals.ID), aidhub.EFORBIDDEN, "", nil},
			{"Anonymous", anonCtx, meal(h, spouse, meals.ID), aidhub.EUNAUTHENTICATED, "", nil},
			{"AdminOverride", adminCtx, func() casework.ReferralInput {
				in := meal(h, child, meals.ID)
				in.OverrideReason = "特殊情况需要"
				return in
			}(), aidhub.EFORBIDDEN, "", nil},
		} {
			_, err := f.svc.CreateReferral(c.ctx, c.in)
			if aidhub.ErrorCode(err) != c.code {
				t.Errorf("%s: %v, want %s", c.name, err, c.code)
				continue
			}
			if c.field != "" {
				wantInvalid(t, err, c.field)
			}
			wantMessage(t, err, c.parts...)
		}
		unchanged(t, d, before)

		// Other persons, items and categories are free.
		f.refer(t, meal(h, spouse, meals.ID))
		f.refer(t, casework.ReferralInput{HouseholdID: h.ID, PersonID: &head.ID, ResourceID: care.ID, ItemCode: ptr("HOME_CARE")})
		f.refer(t, casework.ReferralInput{HouseholdID: h.ID, PersonID: &head.ID, ResourceID: money.ID, CategoryCode: "BASIC_LIVING", AmountFen: 10_000})

		// Override by a case manager: created, and audited as such.
		in := meal(h, child, meals.ID)
		in.OverrideReason = "原午餐点停业，改派"
		over := f.refer(t, in)
		if over.OverrideReason != "原午餐点停业，改派" {
			t.Fatalf("override %+v", over)
		}
		if e := lastAudit(t, d, "createReferral"); !strings.Contains(e.Summary, `"override":true`) || strings.Contains(e.Summary, "停业") {
			t.Fatalf("override audit %s", e.Summary)
		}

		t.Run("FromNeed", func(t *testing.T) {
			h2, ps2 := f.sharedFamily(t)
			_, _, needs, err := f.classify(t, h2,
				casework.NeedInput{PersonID: &ps2[2].ID, CategoryCode: "ELDERLY_CARE", ItemCode: ptr("HOME_CARE"), Severity: 4},
				casework.NeedInput{PersonID: &ps2[1].ID, CategoryCode: "ELDERLY_CARE", Severity: 2})
			if err != nil {
				t.Fatal(err)
			}
			r := f.refer(t, casework.ReferralInput{NeedID: &needs[0].ID, ResourceID: care.ID, HouseholdID: h.ID, CategoryCode: "MEDICAL"})
			if r.HouseholdID != h2.ID || *r.PersonID != ps2[2].ID || r.CategoryCode != "ELDERLY_CARE" || *r.ItemCode != "HOME_CARE" || *r.NeedID != needs[0].ID {
				t.Fatalf("referral from need %+v", r)
			}
			// A need met is not referred again.
			if _, err := f.svc.RecordAid(cmCtx, casework.AidInput{HouseholdID: h2.ID, PersonID: &ps2[1].ID, CategoryCode: "ELDERLY_CARE", ProviderKind: casework.ProviderGovernment,
				ProviderName: "街道", Units: 1, Period: period(t, "2026-11-01", "2026-11-01"), NeedID: &needs[1].ID}); err != nil {
				t.Fatal(err)
			}
			_, err = f.svc.CreateReferral(cmCtx, casework.ReferralInput{NeedID: &needs[1].ID, ResourceID: care.ID})
			wantCode(t, err, aidhub.ECONFLICT)
			// Nor seen from another region.
			_, err = f.svc.CreateReferral(cmOtherCtx, casework.ReferralInput{NeedID: &needs[0].ID, ResourceID: care.ID})
			wantCode(t, err, aidhub.ENOTFOUND)
		})

		t.Run("List", func(t *testing.T) {
			all, err := f.svc.Referrals(cmCtx, casework.ReferralFilter{}, page(100))
			if err != nil || all.TotalCount != 6 || len(all.Items) != 6 {
				t.Fatalf("case manager lists %d (%d), %v", len(all.Items), all.TotalCount, err)
			}
			other, _ := f.svc.Referrals(cmOtherCtx, casework.ReferralFilter{}, page(100))
			if other.TotalCount != 0 {
				t.Fatalf("another region lists %d", other.TotalCount)
			}
			mine, _ := f.svc.Referrals(f.charityA(), casework.ReferralFilter{ResourceID: &meals.ID}, page(100))
			if mine.TotalCount != 3 {
				t.Fatalf("charity lists %d for the meal resource", mine.TotalCount)
			}
			none, _ := f.svc.Referrals(f.charityB(), casework.ReferralFilter{}, page(100))
			if none.TotalCount != 0 {
				t.Fatalf("charity B lists %d", none.TotalCount)
			}
			_, err = f.svc.Referrals(cmCtx, casework.ReferralFilter{Statuses: []casework.ReferralStatus{"LOST"}}, page(10))
			wantInvalid(t, err, "statuses")
			pending, _ := f.svc.Referrals(adminCtx, casework.ReferralFilter{Statuses: []casework.ReferralStatus{casework.Pending}, HouseholdID: &h.ID}, page(2))
			if pending.TotalCount != 5 || len(pending.Items) != 2 || !pending.HasNextPage || pending.Items[0].ID < pending.Items[1].ID {
				t.Fatalf("pending of household: %d, %d items", pending.TotalCount, len(pending.Items))
			}
			_, err = f.svc.Referral(f.charityB(), ref.ID)
			wantCode(t, err, aidhub.ENOTFOUND)
			_, err = f.svc.Referral(cmOtherCtx, ref.ID)
			wantCode(t, err, aidhub.ENOTFOUND)
			if _, err = f.svc.Referral(f.charityA(), ref.ID); err != nil {
				t.Fatal(err)
			}
		})
	})
}

func eventsOf(t *testing.T, f *fixture, id int64) []string {
	t.Helper()
	hist, err := f.svc.ReferralHistory(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range hist {
		from := "-"
		if e.FromStatus != nil {
			from = string(*e.FromStatus)
		}
		out = append(out, from+">"+string(e.ToStatus))
	}
	return out
}

func TestReferralLifecycle(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		h, ps := f.sharedFamily(t)
		head, spouse, child := ps[0], ps[1], ps[2]
		meals := f.publish(t, f.orgA, resourcePatch(10, "MEAL_ASSISTANCE"))
		ca := f.charityA()

		t.Run("Delivered", func(t *testing.T) {
			_, _, needs, err := f.classify(t, h, casework.NeedInput{PersonID: &child.ID, CategoryCode: "BASIC_LIVING", ItemCode: ptr("MEAL_ASSISTANCE"), Severity: 3})
			if err != nil {
				t.Fatal(err)
			}
			r := f.refer(t, casework.ReferralInput{NeedID: &needs[0].ID, ResourceID: meals.ID, Units: 2})
			f.clock.advance(time.Hour)
			r = f.move(t, ca, r.ID, casework.Accepted)
			if r.Status != casework.Accepted || !r.CapacityTaken || r.Version != 2 || !r.UpdatedAt.Equal(f.clock.now()) {
				t.Fatalf("accepted %+v", r)
			}
			if n := f.unitsTaken(t, meals.ID); n != 2 {
				t.Fatalf("units taken %d after accepting 2", n)
			}
			r = f.move(t, ca, r.ID, casework.InProgress)
			before := rowCounts(t, d)
			_, err = f.svc.TransitionReferral(ca, casework.Transition{ReferralID: r.ID, To: casework.Delivered, DeliveredUntil: ptr(r.PeriodStart.AddDays(-1))})
			wantInvalid(t, err, "deliveredUntil")
			unchanged(t, d, before)
			if got := f.referral(t, r.ID); got.Status != casework.InProgress {
				t.Fatalf("a refused delivery left the referral %s", got.Status)
			}
			r, err = f.svc.TransitionReferral(ca, casework.Transition{ReferralID: r.ID, To: casework.Delivered, Note: "已送达",
				DeliveredUnits: ptr(int64(1)), DeliveredUntil: ptr(r.PeriodStart.AddDays(6))})
			if err != nil {
				t.Fatal(err)
			}
			if r.Status != casework.Delivered || !r.CapacityTaken {
				t.Fatalf("delivered %+v", r)
			}
			if n := f.unitsTaken(t, meals.ID); n != 2 {
				t.Fatalf("units taken %d after delivery; capacity stays used", n)
			}
			hist := eventsOf(t, f, r.ID)
			if !slices.Equal(hist, []string{"->PENDING", "PENDING>ACCEPTED", "ACCEPTED>IN_PROGRESS", "IN_PROGRESS>DELIVERED"}) {
				t.Fatalf("history %v", hist)
			}
			aid, err := f.svc.AidHistory(cmCtx, casework.AidFilter{HouseholdID: h.ID, PersonID: &child.ID}, page(10))
			if err != nil || len(aid.Items) != 1 {
				t.Fatalf("aid %v, %v", aid, err)
			}
			rec := aid.Items[0]
			if rec.Source != casework.SourceReferral || *rec.ReferralID != r.ID || *rec.NeedID != needs[0].ID || *rec.ProviderOrgID != f.orgA.ID ||
				rec.ProviderName != f.orgA.Name || rec.ProviderKind != casework.ProviderCharity || rec.Units != 1 || *rec.PersonID != child.ID ||
				rec.CategoryCode != "BASIC_LIVING" || *rec.ItemCode != "MEAL_ASSISTANCE" || rec.PeriodEnd != r.PeriodStart.AddDays(6) {
				t.Fatalf("aid record %+v", rec)
			}
			ns, _ := f.svc.Needs(context.Background(), needs[0].AssessmentID)
			if ns[0].Status != casework.NeedMet {
				t.Fatalf("need %s after delivery", ns[0].Status)
			}
			e := lastAudit(t, d, "transitionReferral")
			if !strings.Contains(e.Summary, `"aidRecordId":`) || !strings.Contains(e.Summary, `"to":"DELIVERED"`) || e.Role != "CHARITY" || *e.OrganizationID != f.orgA.ID {
				t.Fatalf("audit %+v", e)
			}
			// The delivered aid counts: the child cannot be referred
			// again in the category within the window.
			_, err = f.svc.CreateReferral(cmCtx, meal(h, child, meals.ID))
			wantCode(t, err, aidhub.EDUPLICATEAID)
			wantMessage(t, err, f.orgA.Name)
			// Delivered is final.
			for _, to := range []casework.ReferralStatus{casework.Cancelled, casework.Accepted, casework.Declined} {
				tr := casework.Transition{ReferralID: r.ID, To: to}
				if to == casework.Declined {
					tr.DeclineReason = ptr(casework.DeclineReason("OTHER"))
				}
				ctx := ca
				if to == casework.Cancelled {
					ctx = cmCtx
				}
				_, err := f.svc.TransitionReferral(ctx, tr)
				wantCode(t, err, aidhub.ECONFLICT)
			}
		})

		t.Run("Parties", func(t *testing.T) {
			r := f.refer(t, meal(h, spouse, meals.ID))
			before := rowCounts(t, d)
			for _, c := range []struct {
				name  string
				ctx   context.Context
				tr    casework.Transition
				code  string
				field string
			}{
				{"CaseManagerAccepts", cmCtx, casework.Transition{To: casework.Accepted}, aidhub.EFORBIDDEN, ""},
				{"OtherCharityAccepts", f.charityB(), casework.Transition{To: casework.Accepted}, aidhub.ENOTFOUND, ""},
				{"CharityCancels", ca, casework.Transition{To: casework.Cancelled}, aidhub.EFORBIDDEN, ""},
				{"OtherRegionCancels", cmOtherCtx, casework.Transition{To: casework.Cancelled}, aidhub.ENOTFOUND, ""},
				{"AdminExpires", adminCtx, casework.Transition{To: casework.Expired}, aidhub.EFORBIDDEN, ""},
				{"CharityExpires", ca, casework.Transition{To: casework.Expired}, aidhub.EFORBIDDEN, ""},
				{"CaseManagerExpires", cmCtx, casework.Transition{To: casework.Expired}, aidhub.EFORBIDDEN, ""},
				{"Donor", donorCtx, casework.Transition{To: casework.Accepted}, aidhub.EFORBIDDEN, ""},
				{"Anonymous", anonCtx, casework.Transition{To: casework.Accepted}, aidhub.EUNAUTHENTICATED, ""},
				{"PendingToInProgress", ca, casework.Transition{To: casework.InProgress}, aidhub.ECONFLICT, ""},
				{"PendingToDelivered", ca, casework.Transition{To: casework.Delivered}, aidhub.ECONFLICT, ""},
				{"ToPending", ca, casework.Transition{To: casework.Pending}, aidhub.EBADINPUT, "to"},
				{"ToNonsense", ca, casework.Transition{To: "LOST"}, aidhub.EBADINPUT, "to"},
				{"DeclineWithoutReason", ca, casework.Transition{To: casework.Declined}, aidhub.EBADINPUT, "declineReason"},
				{"DeclineWithBadReason", ca, casework.Transition{To: casework.Declined, DeclineReason: ptr(casework.DeclineReason("BORED"))}, aidhub.EBADINPUT, "declineReason"},
				{"ReasonOnAccept", ca, casework.Transition{To: casework.Accepted, DeclineReason: ptr(casework.DeclineReason("OTHER"))}, aidhub.EBADINPUT, "declineReason"},
				{"DeliveredUnitsOnAccept", ca, casework.Transition{To: casework.Accepted, DeliveredUnits: ptr(int64(1))}, aidhub.EBADINPUT, "delivered"},
				{"NegativeDelivery", ca, casework.Transition{To: casework.Delivered, DeliveredAmountFen: ptr(int64(-1))}, aidhub.EBADINPUT, "delivered"},
			} {
				c.tr.ReferralID = r.ID
				_, err := f.svc.TransitionReferral(c.ctx, c.tr)
				if aidhub.ErrorCode(err) != c.code {
					t.Errorf("%s: %v, want %s", c.name, err, c.code)
					continue
				}
				if c.field != "" {
					wantInvalid(t, err, c.field)
				}
			}
			_, err := f.svc.TransitionReferral(ca, casework.Transition{ReferralID: 99999, To: casework.Accepted})
			wantCode(t, err, aidhub.ENOTFOUND)
			unchanged(t, d, before)
			if n := f.unitsTaken(t, meals.ID); n != 2 {
				t.Fatalf("refused transitions moved capacity to %d", n)
			}

			// Accept, then decline with a reason: capacity comes back.
			f.move(t, ca, r.ID, casework.Accepted)
			if n := f.unitsTaken(t, meals.ID); n != 3 {
				t.Fatalf("units taken %d", n)
			}
			got, err := f.svc.TransitionReferral(ca, casework.Transition{ReferralID: r.ID, To: casework.Declined, DeclineReason: ptr(casework.DeclineReason("COULD_NOT_CONTACT")), Note: "电话无人接听"})
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != casework.Declined || *got.DeclineReason != "COULD_NOT_CONTACT" || got.CapacityTaken {
				t.Fatalf("declined %+v", got)
			}
			if n := f.unitsTaken(t, meals.ID); n != 2 {
				t.Fatalf("units taken %d after decline, want 2", n)
			}
			stored := f.referral(t, r.ID)
			if stored.Status != casework.Declined || *stored.DeclineReason != "COULD_NOT_CONTACT" || stored.CapacityTaken || stored.Version != 3 {
				t.Fatalf("stored %+v", stored)
			}
			hist, _ := f.svc.ReferralHistory(context.Background(), r.ID)
			if last := hist[len(hist)-1]; last.Reason != "COULD_NOT_CONTACT: 电话无人接听" || last.ActorRole != "CHARITY" || *last.ActorTokenID != 100+f.orgA.ID {
				t.Fatalf("decline event %+v", last)
			}
			if e := lastAudit(t, d, "transitionReferral"); !strings.Contains(e.Summary, "COULD_NOT_CONTACT") || strings.Contains(e.Summary, "电话") {
				t.Fatalf("audit %s", e.Summary)
			}
			_, err = f.svc.TransitionReferral(ca, casework.Transition{ReferralID: r.ID, To: casework.Accepted})
			wantCode(t, err, aidhub.ECONFLICT)

			// Declined does not count: the spouse can be referred again;
			// a pending cancellation gives nothing back, an accepted one does.
			r2 := f.refer(t, meal(h, spouse, meals.ID))
			f.move(t, cmCtx, r2.ID, casework.Cancelled)
			if n := f.unitsTaken(t, meals.ID); n != 2 {
				t.Fatalf("units taken %d after cancelling a pending referral", n)
			}
			r3 := f.refer(t, meal(h, spouse, meals.ID))
			f.move(t, ca, r3.ID, casework.Accepted)
			f.move(t, adminCtx, r3.ID, casework.InProgress) // an admin may act for the charity
			if n := f.unitsTaken(t, meals.ID); n != 3 {
				t.Fatalf("units taken %d", n)
			}
			f.move(t, cmCtx, r3.ID, casework.Cancelled)
			if n := f.unitsTaken(t, meals.ID); n != 2 {
				t.Fatalf("units taken %d after cancelling an accepted referral", n)
			}
			if hist := eventsOf(t, f, r3.ID); !slices.Equal(hist, []string{"->PENDING", "PENDING>ACCEPTED", "ACCEPTED>IN_PROGRESS", "IN_PROGRESS>CANCELLED"}) {
				t.Fatalf("history %v", hist)
			}
		})

		t.Run("Expiry", func(t *testing.T) {
			h2, ps2 := f.sharedFamily(t)
			soon := meal(h2, ps2[0], meals.ID)
			soon.RespondWithin = 1
			r1 := f.refer(t, soon)
			later := meal(h2, ps2[1], meals.ID)
			later.RespondWithin = 2
			r2 := f.refer(t, later)
			f.move(t, ca, r2.ID, casework.Accepted)
			taken := f.unitsTaken(t, meals.ID)
			started := f.clock.now()

			f.clock.set(started.Add(24 * time.Hour)) // exactly due: not yet overdue
			if n, err := f.svc.ExpireReferrals(context.Background()); err != nil || n != 0 {
				t.Fatalf("expired %d, %v at the deadline", n, err)
			}
			f.clock.set(started.Add(24*time.Hour + time.Second))
			if n, err := f.svc.ExpireReferrals(context.Background()); err != nil || n != 1 {
				t.Fatalf("expired %d, %v; want 1", n, err)
			}
			if got := f.referral(t, r1.ID); got.Status != casework.Expired {
				t.Fatalf("r1 %s", got.Status)
			}
			if got := f.referral(t, r2.ID); got.Status != casework.Accepted {
				t.Fatalf("r2 %s", got.Status)
			}
			if n := f.unitsTaken(t, meals.ID); n != taken {
				t.Fatalf("expiring a pending referral changed capacity to %d", n)
			}
			f.clock.set(started.Add(49 * time.Hour))
			if n, err := f.svc.ExpireReferrals(context.Background()); err != nil || n != 1 {
				t.Fatalf("expired %d, %v; want 1", n, err)
			}
			if n := f.unitsTaken(t, meals.ID); n != taken-1 {
				t.Fatalf("expiring an accepted referral left %d units taken, want %d", n, taken-1)
			}
			if n, err := f.svc.ExpireReferrals(context.Background()); err != nil || n != 0 {
				t.Fatalf("expired %d again, %v", n, err)
			}
			hist, _ := f.svc.ReferralHistory(context.Background(), r2.ID)
			if last := hist[len(hist)-1]; last.ToStatus != casework.Expired || *last.FromStatus != casework.Accepted || last.ActorTokenID != nil {
				t.Fatalf("expiry event %+v", last)
			}
			_, err := f.svc.TransitionReferral(ca, casework.Transition{ReferralID: r2.ID, To: casework.Accepted})
			wantCode(t, err, aidhub.ECONFLICT)
			f.clock.set(started)
		})

		t.Run("DeliveredLongerThanReferred", func(t *testing.T) {
			// The referral covers 30 days (the BASIC_LIVING window); other
			// aid is recorded for the days after. A delivery that claims a
			// longer period must not overlap that aid unseen.
			h5, ps5 := f.sharedFamily(t)
			r := f.refer(t, meal(h5, ps5[2], meals.ID))
			f.move(t, ca, r.ID, casework.Accepted)
			later := gov(t, h5, ps5[2], "BASIC_LIVING", r.PeriodEnd.AddDays(1).String(), r.PeriodEnd.AddDays(30).String())
			if _, err := f.svc.RecordAid(cmCtx, later); err != nil {
				t.Fatalf("aid after the referral's window: %v", err)
			}
			before := rowCounts(t, d)
			_, err := f.svc.TransitionReferral(ca, casework.Transition{ReferralID: r.ID, To: casework.Delivered, DeliveredUntil: ptr(r.PeriodEnd.AddDays(10))})
			wantCode(t, err, aidhub.EDUPLICATEAID)
			wantMessage(t, err, "another provider")
			_, err = f.svc.TransitionReferral(ca, casework.Transition{ReferralID: r.ID, To: casework.Delivered, DeliveredUntil: ptr(r.PeriodStart.AddDays(20_000))})
			wantInvalid(t, err, "deliveredUntil")
			unchanged(t, d, before)
			if got := f.referral(t, r.ID); got.Status != casework.Accepted {
				t.Fatalf("refused delivery left %s", got.Status)
			}
			// Within the referred period it is delivered.
			f.move(t, ca, r.ID, casework.Delivered)
		})

		t.Run("AcceptChecksResource", func(t *testing.T) {
			h3, ps3 := f.sharedFamily(t)
			one := f.publish(t, f.orgA, resourcePatch(1, "HOME_CARE"))
			a := f.refer(t, casework.ReferralInput{HouseholdID: h3.ID, PersonID: &ps3[0].ID, ResourceID: one.ID, ItemCode: ptr("HOME_CARE")})
			b := f.refer(t, casework.ReferralInput{HouseholdID: h3.ID, PersonID: &ps3[1].ID, ResourceID: one.ID, ItemCode: ptr("HOME_CARE")})
			f.move(t, ca, a.ID, casework.Accepted)
			before := rowCounts(t, d)
			_, err := f.svc.TransitionReferral(ca, casework.Transition{ReferralID: b.ID, To: casework.Accepted})
			wantCode(t, err, aidhub.ECAPACITY)
			unchanged(t, d, before)
			f.move(t, ca, a.ID, casework.Declined)
			if _, err := f.cat.PauseResource(adminCtx, one.ID, nil); err != nil {
				t.Fatal(err)
			}
			before = rowCounts(t, d)
			_, err = f.svc.TransitionReferral(ca, casework.Transition{ReferralID: b.ID, To: casework.Accepted})
			wantCode(t, err, aidhub.ECONFLICT)
			unchanged(t, d, before)
			if n := f.unitsTaken(t, one.ID); n != 0 {
				t.Fatalf("units taken %d", n)
			}
			// A paused resource's referrals can still be declined.
			f.move(t, ca, b.ID, casework.Declined)
		})

		t.Run("BudgetOnlyResource", func(t *testing.T) {
			// A resource that counts budget, not units: a referral for
			// units and an amount takes the amount only, and the charity
			// can still edit its resource.
			h4, ps4 := f.sharedFamily(t)
			p := resourcePatch(0, "REHAB_TRAINING")
			p.CapacityUnits, p.CapacityBudgetFen = aidhub.Null[int64](), aidhub.Some[int64](100_000)
			res := f.publish(t, f.orgA, p)
			r := f.refer(t, casework.ReferralInput{HouseholdID: h4.ID, PersonID: &ps4[2].ID, ResourceID: res.ID, ItemCode: ptr("REHAB_TRAINING"), Units: 10, AmountFen: 40_000})
			f.move(t, ca, r.ID, casework.Accepted)
			got := f.resource(t, res.ID)
			if got.BudgetTakenFen != 40_000 {
				t.Fatalf("budget taken %d", got.BudgetTakenFen)
			}
			if _, err := f.cat.UpdateResource(ca, res.ID, nil, catalog.ResourcePatch{Description: ptr("每周两次康复训练")}); err != nil {
				t.Fatalf("the charity cannot edit its resource after an accepted referral: %v", err)
			}
			// A capacity in units set after the accept did not count the
			// referral's units; cancelling it does not fail on that.
			if _, err := f.cat.UpdateResource(ca, res.ID, nil, catalog.ResourcePatch{CapacityUnits: aidhub.Some[int64](5)}); err != nil {
				t.Fatal(err)
			}
			f.move(t, cmCtx, r.ID, casework.Cancelled)
			got = f.resource(t, res.ID)
			if got.BudgetTakenFen != 0 || got.UnitsTaken != 0 {
				t.Fatalf("after cancel: budget %d units %d", got.BudgetTakenFen, got.UnitsTaken)
			}
			_ = head
		})
	})
}
