package casework_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aidhub/aidhub/casework"
	"github.com/aidhub/aidhub/db"
	"github.com/aidhub/aidhub/db/dbtest"
)

func TestAudit_EveryMutation(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		names := []string{"陈志强", "周丽娟", "陈小雨", "陈爷爷"}
		var ids []string
		var members []casework.PersonInput
		for i, n := range names[:3] {
			rel := []casework.Relation{"HEAD", "SPOUSE", "CHILD"}[i]
			p := person(n, rel)
			ids = append(ids, p.ResidentID)
			members = append(members, p)
		}
		type want struct {
			action, subject string
			id              int64
		}
		var wants []want
		expect := func(action, subject string, id int64) { wants = append(wants, want{action, subject, id}) }

		h, ps := f.register(t, cmCtx, huayipo, members...)
		expect("registerHousehold", "Household", h.ID)
		grandpa := person(names[3], "GRANDPARENT")
		ids = append(ids, grandpa.ResidentID)
		gp, err := f.svc.AddPerson(cmCtx, h.ID, grandpa)
		if err != nil {
			t.Fatal(err)
		}
		expect("addPerson", "Person", gp.ID)
		c1, err := f.svc.RecordConsent(cmCtx, casework.ConsentInput{HouseholdID: h.ID, GrantedByPersonID: ps[0].ID, Method: casework.Paper, Purposes: []casework.Purpose{casework.EconomicVerification}})
		if err != nil {
			t.Fatal(err)
		}
		expect("recordConsent", "Consent", c1.ID)
		if _, err := f.svc.RevokeConsent(cmCtx, c1.ID, "陈志强本人要求撤回"); err != nil {
			t.Fatal(err)
		}
		expect("revokeConsent", "Consent", c1.ID)
		c2 := f.share(t, h, ps[1])
		expect("recordConsent", "Consent", c2.ID)
		app, err := f.svc.SubmitApplication(cmCtx, casework.ApplicationInput{HouseholdID: h.ID, ApplicantPersonID: &ps[0].ID, Channel: casework.ChannelHotline,
			HelpText: "陈小雨需要助学金，身份证号 " + ids[2]})
		if err != nil {
			t.Fatal(err)
		}
		expect("submitApplication", "Application", app.ID)
		_, a, needs, err := f.svc.ClassifyApplication(cmCtx, app.ID, casework.AssessmentInput{Notes: "陈志强家访", Needs: []casework.NeedInput{
			{PersonID: &ps[2].ID, ItemCode: ptr("SCHOOL_GRANT"), Severity: 4, Notes: "陈小雨 " + ids[2]},
			{PersonID: &gp.ID, ItemCode: ptr("HOME_CARE"), Severity: 3},
		}})
		if err != nil {
			t.Fatal(err)
		}
		expect("createAssessment", "Assessment", a.ID)
		a2, needs2, err := f.svc.CreateAssessment(cmCtx, casework.AssessmentInput{HouseholdID: h.ID, Notes: "复评 周丽娟", Needs: []casework.NeedInput{
			{PersonID: &ps[2].ID, ItemCode: ptr("SCHOOL_GRANT"), Severity: 4},
			{PersonID: &gp.ID, ItemCode: ptr("HOME_CARE"), Severity: 3},
		}})
		if err != nil {
			t.Fatal(err)
		}
		_ = needs
		expect("createAssessment", "Assessment", a2.ID)
		rec, err := f.svc.RecordAid(cmCtx, casework.AidInput{HouseholdID: h.ID, PersonID: &ps[2].ID, ItemCode: ptr("SCHOOL_GRANT"), ProviderKind: casework.ProviderGovernment,
			ProviderName: "陈志强所在单位", AmountFen: 100_000, Period: period(t, "2026-09-01", "2027-06-30"), NeedID: &needs2[0].ID})
		if err != nil {
			t.Fatal(err)
		}
		expect("recordAid", "AidRecord", rec.ID)
		over, err := f.svc.RecordAid(cmCtx, casework.AidInput{HouseholdID: h.ID, PersonID: &ps[2].ID, ItemCode: ptr("TUITION_WAIVER"), ProviderKind: casework.ProviderOther,
			ProviderName: "周丽娟的亲戚", AmountFen: 5_000, Period: period(t, "2026-09-01", "2026-09-01"), OverrideReason: "陈小雨学费另行减免"})
		if err != nil {
			t.Fatal(err)
		}
		expect("recordAid", "AidRecord", over.ID)
		care := f.publish(t, f.orgA, resourcePatch(5, "HOME_CARE"))
		ref, err := f.svc.CreateReferral(cmCtx, casework.ReferralInput{NeedID: &needs2[1].ID, ResourceID: care.ID, Note: "陈爷爷行动不便"})
		if err != nil {
			t.Fatal(err)
		}
		expect("createReferral", "Referral", ref.ID)
		for _, step := range []struct {
			ctx context.Context
			to  casework.ReferralStatus
		}{{f.charityA(), casework.Accepted}, {f.charityA(), casework.InProgress}, {f.charityA(), casework.Delivered}} {
			if _, err := f.svc.TransitionReferral(step.ctx, casework.Transition{ReferralID: ref.ID, To: step.to, Note: "陈爷爷 " + ids[3]}); err != nil {
				t.Fatal(err)
			}
			expect("transitionReferral", "Referral", ref.ID)
		}
		ref2, err := f.svc.CreateReferral(cmCtx, casework.ReferralInput{HouseholdID: h.ID, PersonID: &ps[1].ID, ResourceID: care.ID, ItemCode: ptr("HOME_CARE"), RespondWithin: 1})
		if err != nil {
			t.Fatal(err)
		}
		expect("createReferral", "Referral", ref2.ID)
		f.clock.advance(25 * time.Hour)
		if n, err := f.svc.ExpireReferrals(ctx); err != nil || n != 1 {
			t.Fatalf("expire: %d, %v", n, err)
		}
		expect("transitionReferral", "Referral", ref2.ID)
		if _, err := f.svc.RevealResidentID(cmCtx, ps[1].ID, "周丽娟 "+ids[1]+" 核对"); err != nil {
			t.Fatal(err)
		}
		expect("revealResidentId", "Person", ps[1].ID)

		es := auditEntries(t, d)
		if len(es) != len(wants) {
			for _, e := range es {
				t.Logf("%d %s %s %v", e.ID, e.Action, e.SubjectType, *e.SubjectID)
			}
			t.Fatalf("%d audit entries for %d mutations", len(es), len(wants))
		}
		for i, w := range wants {
			e := es[i]
			if e.Action != w.action || e.SubjectType != w.subject || e.SubjectID == nil || *e.SubjectID != w.id || !e.At.Before(fixedNow().Add(26*time.Hour)) {
				t.Errorf("entry %d: %s %s %v, want %s %s %d", i, e.Action, e.SubjectType, e.SubjectID, w.action, w.subject, w.id)
			}
			if e.Role == "" || (e.TokenID == nil && e.Role != "ADMIN") {
				t.Errorf("entry %d (%s) does not say who: %+v", i, e.Action, e)
			}
		}
		// No summary (nor any other column of the log) holds a name, a
		// number, or free text that might.
		secrets := append(append([]string{}, names...), ids...)
		for _, id := range ids {
			secrets = append(secrets, id[6:14], id[:14]) // birth date, and the number without its tail
		}
		secrets = append(secrets, "单位", "亲戚", "家访", "行动不便", "助学金", "撤回", "核对")
		for _, row := range rawRows(t, d, "audit_log") {
			for col, v := range row {
				text := cellText(v)
				for _, s := range secrets {
					if strings.Contains(text, s) {
						t.Errorf("audit_log.%s of entry %v holds %q", col, row["id"], s)
					}
				}
			}
		}

		if bad, err := f.log.Verify(ctx); err != nil || bad != 0 {
			t.Fatalf("intact chain: %d, %v", bad, err)
		}
		target := es[len(es)/2]
		exec := func(q string, args ...any) {
			if _, err := d.ExecContext(ctx, q, args...); err != nil {
				t.Fatal(err)
			}
		}
		exec("UPDATE audit_log SET summary = ? WHERE id = ?", strings.Replace(target.Summary, "}", `,"x":1}`, 1), target.ID)
		if bad, err := f.log.Verify(ctx); err != nil || bad != target.ID {
			t.Fatalf("tampered entry %d: verify says %d, %v", target.ID, bad, err)
		}
		exec("UPDATE audit_log SET summary = ? WHERE id = ?", target.Summary, target.ID)
		if bad, _ := f.log.Verify(ctx); bad != 0 {
			t.Fatalf("restored: %d", bad)
		}
		// And the casework keeps appending to a verified chain.
		f.register(t, cmCtx, huayipo, person("新户", "HEAD"))
		if bad, _ := f.log.Verify(ctx); bad != 0 {
			t.Fatalf("after more work: %d", bad)
		}
	})
}
