package casework_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aidhub/aidhub"
	"github.com/aidhub/aidhub/casework"
	"github.com/aidhub/aidhub/db"
	"github.com/aidhub/aidhub/db/dbtest"
)

func TestConsent_RecordAndRevoke(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		h, ps := f.family(t)
		_, other := f.family(t)
		granted := fixedNow().Add(-48 * time.Hour)
		expires := fixedNow().Add(365 * 24 * time.Hour)
		c, err := f.svc.RecordConsent(cmCtx, casework.ConsentInput{
			HouseholdID: h.ID, GrantedByPersonID: ps[1].ID, Method: casework.Paper, GrantedAt: &granted, ExpiresAt: &expires,
			Purposes: []casework.Purpose{casework.ShareWithCharities, casework.EconomicVerification, casework.ShareWithCharities},
		})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(c.Purposes(), []casework.Purpose{casework.EconomicVerification, casework.ShareWithCharities}) ||
			c.PurposesText != "ECONOMIC_VERIFICATION,SHARE_WITH_CHARITIES" || c.Method != casework.Paper ||
			!c.GrantedAt.Equal(granted) || !c.ExpiresAt.Equal(expires) || c.RevokedAt != nil || *c.RecordedBy != 3 {
			t.Fatalf("consent %+v", c)
		}
		if !c.Covers(casework.ShareWithCharities, fixedNow()) || c.Covers(casework.ShareWithCharities, expires) ||
			c.Covers(casework.ShareWithCharities, granted.Add(-time.Second)) {
			t.Errorf("coverage over time is wrong")
		}
		e := lastAudit(t, d, "recordConsent")
		if *e.SubjectID != c.ID || !strings.Contains(e.Summary, "SHARE_WITH_CHARITIES") {
			t.Fatalf("audit %+v", e)
		}
		cs, err := f.svc.Consents(context.Background(), h.ID)
		if err != nil || len(cs) != 1 || !cs[0].ExpiresAt.Equal(expires) || !cs[0].GrantedAt.Equal(granted) {
			t.Fatalf("stored consents %+v, %v", cs, err)
		}

		before := rowCounts(t, d)
		base := func() casework.ConsentInput {
			return casework.ConsentInput{HouseholdID: h.ID, GrantedByPersonID: ps[0].ID, Method: casework.Electronic, Purposes: []casework.Purpose{casework.ShareWithCharities}}
		}
		past := fixedNow().Add(-time.Hour)
		for _, c := range []struct {
			name  string
			edit  func(*casework.ConsentInput)
			field string
		}{
			{"NoPurpose", func(in *casework.ConsentInput) { in.Purposes = nil }, "purposes"},
			{"UnknownPurpose", func(in *casework.ConsentInput) { in.Purposes = append(in.Purposes, "MARKETING") }, "purposes"},
			{"UnknownMethod", func(in *casework.ConsentInput) { in.Method = "SMOKE_SIGNAL" }, "method"},
			{"GrantedInFuture", func(in *casework.ConsentInput) { t := fixedNow().Add(time.Hour); in.GrantedAt = &t }, "grantedAt"},
			{"ExpiresBeforeGranted", func(in *casework.ConsentInput) { in.ExpiresAt = &past }, "expiresAt"},
			{"ExpiresWhenGranted", func(in *casework.ConsentInput) { in.GrantedAt = &past; in.ExpiresAt = &past }, "expiresAt"},
			{"GrantorNotMember", func(in *casework.ConsentInput) { in.GrantedByPersonID = other[0].ID }, "grantedByPersonId"},
			{"GrantorUnknown", func(in *casework.ConsentInput) { in.GrantedByPersonID = 99999 }, "grantedByPersonId"},
		} {
			in := base()
			c.edit(&in)
			_, err := f.svc.RecordConsent(cmCtx, in)
			if aidhub.ErrorCode(err) != aidhub.EBADINPUT {
				t.Errorf("%s: %v", c.name, err)
				continue
			}
			wantInvalid(t, err, c.field)
		}
		_, err = f.svc.RecordConsent(f.charityA(), base())
		wantCode(t, err, aidhub.EFORBIDDEN)
		_, err = f.svc.RecordConsent(donorCtx, base())
		wantCode(t, err, aidhub.EFORBIDDEN)
		in := base()
		in.HouseholdID = 99999
		_, err = f.svc.RecordConsent(cmCtx, in)
		wantCode(t, err, aidhub.ENOTFOUND)
		unchanged(t, d, before)

		// Revoke.
		_, err = f.svc.RevokeConsent(f.charityA(), c.ID, "")
		wantCode(t, err, aidhub.EFORBIDDEN)
		_, err = f.svc.RevokeConsent(cmCtx, c.ID+100, "")
		wantCode(t, err, aidhub.ENOTFOUND)
		unchanged(t, d, before)
		f.clock.advance(time.Hour)
		r, err := f.svc.RevokeConsent(cmCtx, c.ID, "户主撤回授权")
		if err != nil {
			t.Fatal(err)
		}
		if r.RevokedAt == nil || !r.RevokedAt.Equal(fixedNow().Add(time.Hour)) || r.RevokeReason != "户主撤回授权" || r.ActiveAt(f.clock.now()) {
			t.Fatalf("revoked %+v", r)
		}
		e = lastAudit(t, d, "revokeConsent")
		if strings.Contains(e.Summary, "撤回") {
			t.Fatalf("revocation reason in audit: %s", e.Summary)
		}
		before = rowCounts(t, d)
		_, err = f.svc.RevokeConsent(cmCtx, c.ID, "")
		wantCode(t, err, aidhub.ECONFLICT)
		unchanged(t, d, before)
		cs, _ = f.svc.Consents(context.Background(), h.ID)
		if cs[0].RevokedAt == nil || cs[0].RevokeReason != "户主撤回授权" {
			t.Fatalf("stored %+v", cs[0])
		}
	})
}

// visibleTo reports what a charity sees of a household: the household by
// ID, whether it is listed (and the list's total), and which persons.
type sight struct {
	found  bool
	listed []int64
	total  int
	aid    bool
	// consentRequired: Household and AidHistory said CONSENT_REQUIRED
	// (a charity the household was referred to, once consent has ended)
	// rather than NOT_FOUND.
	consentRequired bool
}

func look(t *testing.T, f *fixture, ctx context.Context, h *casework.Household) sight {
	t.Helper()
	var s sight
	_, err := f.svc.Household(ctx, h.ID)
	switch aidhub.ErrorCode(err) {
	case "":
		s.found = true
	case aidhub.ENOTFOUND:
	case aidhub.ECONSENT:
		s.consentRequired = true
	default:
		t.Fatalf("Household: %v", err)
	}
	s.listed, s.total = listAll(t, f.svc, ctx, casework.HouseholdFilter{})
	_, err = f.svc.AidHistory(ctx, casework.AidFilter{HouseholdID: h.ID}, page(10))
	switch aidhub.ErrorCode(err) {
	case "":
		s.aid = true
	case aidhub.ENOTFOUND:
		if s.consentRequired {
			t.Fatalf("AidHistory NOT_FOUND where Household said CONSENT_REQUIRED")
		}
	case aidhub.ECONSENT:
		if !s.consentRequired {
			t.Fatalf("AidHistory CONSENT_REQUIRED where Household did not")
		}
	default:
		t.Fatalf("AidHistory: %v", err)
	}
	return s
}

func personIDs(ps []*casework.Person) []int64 {
	out := []int64{}
	for _, p := range ps {
		out = append(out, p.ID)
	}
	return out
}

func TestConsent_CharitySight(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		h, ps := f.family(t)
		h2, ps2 := f.sharedFamily(t) // referred too, keeps the list non-trivial
		meals := f.publish(t, f.orgA, resourcePatch(50, "MEAL_ASSISTANCE", "WINTER_SUPPLIES"))
		_ = ps2

		// No consent: no referral.
		before := rowCounts(t, d)
		_, err := f.svc.CreateReferral(cmCtx, casework.ReferralInput{HouseholdID: h.ID, PersonID: &ps[2].ID, ResourceID: meals.ID, CategoryCode: "BASIC_LIVING", ItemCode: ptr("MEAL_ASSISTANCE")})
		wantCode(t, err, aidhub.ECONSENT)
		unchanged(t, d, before)
		// Consent to economic verification only is not enough.
		_, err = f.svc.RecordConsent(cmCtx, casework.ConsentInput{HouseholdID: h.ID, GrantedByPersonID: ps[0].ID, Method: casework.Remote, Purposes: []casework.Purpose{casework.EconomicVerification}})
		if err != nil {
			t.Fatal(err)
		}
		before = rowCounts(t, d)
		_, err = f.svc.CreateReferral(cmCtx, casework.ReferralInput{HouseholdID: h.ID, PersonID: &ps[2].ID, ResourceID: meals.ID, CategoryCode: "BASIC_LIVING", ItemCode: ptr("MEAL_ASSISTANCE")})
		wantCode(t, err, aidhub.ECONSENT)
		unchanged(t, d, before)

		c := f.share(t, h, ps[0])
		f.refer(t, casework.ReferralInput{HouseholdID: h.ID, PersonID: &ps[2].ID, ResourceID: meals.ID, CategoryCode: "BASIC_LIVING", ItemCode: ptr("MEAL_ASSISTANCE")})
		f.refer(t, casework.ReferralInput{HouseholdID: h2.ID, PersonID: &ps2[1].ID, ResourceID: meals.ID, CategoryCode: "BASIC_LIVING", ItemCode: ptr("MEAL_ASSISTANCE")})

		s := look(t, f, f.charityA(), h)
		if !s.found || !slices.Equal(s.listed, []int64{h.ID, h2.ID}) || s.total != 2 || !s.aid {
			t.Fatalf("the charity referred to sees %+v", s)
		}
		got, _ := f.svc.Household(f.charityA(), h.ID)
		persons, err := f.svc.Persons(f.charityA(), got)
		if err != nil || !slices.Equal(personIDs(persons), []int64{ps[2].ID}) {
			t.Fatalf("the charity sees persons %v, %v; want only the referred child %d", personIDs(persons), err, ps[2].ID)
		}
		if m, _ := f.svc.MaskedResidentID(f.charityA(), persons[0]); !strings.Contains(m, "**************") {
			t.Fatalf("charity mask %s", m)
		}
		if s := look(t, f, f.charityB(), h); s.found || len(s.listed) != 0 || s.total != 0 || s.aid {
			t.Fatalf("another charity sees %+v", s)
		}

		// A household-level referral shows the head as well.
		fund := f.publish(t, f.orgB, resourcePatch(50, "EMERGENCY_FUND"))
		f.refer(t, casework.ReferralInput{HouseholdID: h.ID, PersonID: &ps[1].ID, ResourceID: fund.ID, ItemCode: ptr("EMERGENCY_FUND")})
		persons, _ = f.svc.Persons(f.charityB(), got)
		if !slices.Equal(personIDs(persons), []int64{ps[0].ID}) {
			t.Fatalf("household-level referral: charity B sees %v, want the head %d", personIDs(persons), ps[0].ID)
		}
		// Persons never leaks members of another household.
		persons, _ = f.svc.Persons(f.charityA(), got)
		if !slices.Equal(personIDs(persons), []int64{ps[2].ID}) {
			t.Fatalf("charity A now sees %v", personIDs(persons))
		}

		// Revoked: the charity no longer sees the household, the list
		// does not count it, and no referral can be made.
		f.clock.advance(time.Minute)
		if _, err := f.svc.RevokeConsent(cmCtx, c.ID, "不再同意"); err != nil {
			t.Fatal(err)
		}
		// The household still had an older consent without sharing; the
		// sharing consent of the first call went with c.
		// It is told why: CONSENT_REQUIRED, not NOT_FOUND.
		s = look(t, f, f.charityA(), h)
		if s.found || !s.consentRequired || !slices.Equal(s.listed, []int64{h2.ID}) || s.total != 1 || s.aid {
			t.Fatalf("after revocation the charity sees %+v", s)
		}
		_, err = f.svc.Person(f.charityA(), ps[2].ID)
		wantCode(t, err, aidhub.ECONSENT)
		_, err = f.svc.Person(f.charityA(), ps[1].ID) // never referred to it
		wantCode(t, err, aidhub.ENOTFOUND)
		_, err = f.svc.RecordAid(f.charityA(), casework.AidInput{HouseholdID: h.ID, PersonID: &ps[2].ID, CategoryCode: "BASIC_LIVING", Units: 1, Period: period(t, "2026-11-28", "2026-11-28")})
		wantCode(t, err, aidhub.ECONSENT)
		before = rowCounts(t, d)
		_, err = f.svc.CreateReferral(cmCtx, casework.ReferralInput{HouseholdID: h.ID, PersonID: &ps[0].ID, ResourceID: meals.ID, CategoryCode: "BASIC_LIVING", ItemCode: ptr("MEAL_ASSISTANCE")})
		wantCode(t, err, aidhub.ECONSENT)
		unchanged(t, d, before)

		// A consent that expires: visible until then, not after.
		exp := f.clock.now().Add(2 * time.Hour)
		if _, err := f.svc.RecordConsent(cmCtx, casework.ConsentInput{HouseholdID: h.ID, GrantedByPersonID: ps[1].ID, Method: casework.Electronic,
			Purposes: []casework.Purpose{casework.ShareWithCharities}, ExpiresAt: &exp}); err != nil {
			t.Fatal(err)
		}
		if s := look(t, f, f.charityA(), h); !s.found || s.total != 2 {
			t.Fatalf("with a fresh consent the charity sees %+v", s)
		}
		f.clock.set(exp)
		if s := look(t, f, f.charityA(), h); s.found || !s.consentRequired || s.total != 1 {
			t.Fatalf("after expiry the charity sees %+v", s)
		}
		_, err = f.svc.CreateReferral(cmCtx, casework.ReferralInput{HouseholdID: h.ID, PersonID: &ps[0].ID, ResourceID: meals.ID, CategoryCode: "BASIC_LIVING", ItemCode: ptr("MEAL_ASSISTANCE")})
		wantCode(t, err, aidhub.ECONSENT)
	})
}
