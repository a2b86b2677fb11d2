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

func TestApplications_SubmitAndClassify(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		h, ps := f.family(t)
		_, other := f.family(t)
		help := "孩子住院需要医疗费用，冬天缺少棉被。王小明"

		app, err := f.svc.SubmitApplication(cmCtx, casework.ApplicationInput{
			HouseholdID: h.ID, ApplicantPersonID: &ps[0].ID, Channel: casework.ChannelApp, HelpText: "  " + help + " ",
			CategoryCodes: []string{"MEDICAL", "BASIC_LIVING", "MEDICAL"},
		})
		if err != nil {
			t.Fatal(err)
		}
		if app.Status != casework.Submitted || app.HelpText != help || !slices.Equal(app.CategoryCodes(), []string{"MEDICAL", "BASIC_LIVING"}) ||
			app.AssessmentID != nil || *app.ApplicantPersonID != ps[0].ID {
			t.Fatalf("application %+v", app)
		}
		e := lastAudit(t, d, "submitApplication")
		if strings.Contains(e.Summary, "住院") || strings.Contains(e.Summary, "王小明") {
			t.Fatalf("help text in audit: %s", e.Summary)
		}

		t.Run("BadApplication", func(t *testing.T) {
			before := rowCounts(t, d)
			for _, c := range []struct {
				in    casework.ApplicationInput
				field string
			}{
				{casework.ApplicationInput{HouseholdID: h.ID, Channel: "FAX", HelpText: "x"}, "channel"},
				{casework.ApplicationInput{HouseholdID: h.ID, Channel: casework.ChannelPaper, HelpText: "  "}, "helpText"},
				{casework.ApplicationInput{HouseholdID: h.ID, Channel: casework.ChannelPaper, HelpText: "x", CategoryCodes: []string{"NOPE"}}, "categoryCodes"},
				{casework.ApplicationInput{HouseholdID: h.ID, Channel: casework.ChannelPaper, HelpText: "x", ApplicantPersonID: &other[0].ID}, "applicantPersonId"},
			} {
				_, err := f.svc.SubmitApplication(cmCtx, c.in)
				wantInvalid(t, err, c.field)
			}
			_, err := f.svc.SubmitApplication(cmCtx, casework.ApplicationInput{HouseholdID: 9999, Channel: casework.ChannelPaper, HelpText: "x"})
			wantCode(t, err, aidhub.ENOTFOUND)
			_, err = f.svc.SubmitApplication(f.charityA(), casework.ApplicationInput{HouseholdID: h.ID, Channel: casework.ChannelPaper, HelpText: "x"})
			wantCode(t, err, aidhub.EFORBIDDEN)
			unchanged(t, d, before)
		})

		t.Run("BadClassification", func(t *testing.T) {
			before := rowCounts(t, d)
			for _, c := range []struct {
				name  string
				needs []casework.NeedInput
				on    *aidhub.Date
				field string
			}{
				{"SeverityZero", []casework.NeedInput{{CategoryCode: "MEDICAL", Severity: 0}}, nil, "needs[0].severity"},
				{"SeveritySix", []casework.NeedInput{{CategoryCode: "MEDICAL", Severity: 3}, {CategoryCode: "BASIC_LIVING", Severity: 6}}, nil, "needs[1].severity"},
				{"ItemOfOtherCategory", []casework.NeedInput{{CategoryCode: "MEDICAL", ItemCode: ptr("SCHOOL_GRANT"), Severity: 3}}, nil, "needs[0].itemCode"},
				{"UnknownItem", []casework.NeedInput{{ItemCode: ptr("GOLD_BARS"), Severity: 3}}, nil, "needs[0].itemCode"},
				{"UnknownCategory", []casework.NeedInput{{CategoryCode: "LUXURY", Severity: 3}}, nil, "needs[0].categoryCode"},
				{"NoCategory", []casework.NeedInput{{Severity: 3}}, nil, "needs[0].categoryCode"},
				{"PersonOfOtherHousehold", []casework.NeedInput{{CategoryCode: "MEDICAL", Severity: 3, PersonID: &other[1].ID}}, nil, "needs[0].personId"},
				{"NoNeeds", nil, nil, "needs"},
				{"AssessedInFuture", []casework.NeedInput{{CategoryCode: "MEDICAL", Severity: 3}}, ptr(f.today().AddDays(1)), "assessedOn"},
			} {
				_, _, _, err := f.svc.ClassifyApplication(cmCtx, app.ID, casework.AssessmentInput{Needs: c.needs, AssessedOn: c.on})
				if aidhub.ErrorCode(err) != aidhub.EBADINPUT {
					t.Errorf("%s: %v", c.name, err)
					continue
				}
				wantInvalid(t, err, c.field)
			}
			_, _, _, err := f.svc.ClassifyApplication(cmOtherCtx, app.ID, casework.AssessmentInput{Needs: []casework.NeedInput{{CategoryCode: "MEDICAL", Severity: 3}}})
			wantCode(t, err, aidhub.ENOTFOUND)
			_, _, _, err = f.svc.ClassifyApplication(cmCtx, app.ID+100, casework.AssessmentInput{Needs: []casework.NeedInput{{CategoryCode: "MEDICAL", Severity: 3}}})
			wantCode(t, err, aidhub.ENOTFOUND)
			_, _, _, err = f.svc.ClassifyApplication(donorCtx, app.ID, casework.AssessmentInput{Needs: []casework.NeedInput{{CategoryCode: "MEDICAL", Severity: 3}}})
			wantCode(t, err, aidhub.EFORBIDDEN)
			_, _, _, err = f.svc.ClassifyApplication(f.charityA(), app.ID, casework.AssessmentInput{Needs: []casework.NeedInput{{CategoryCode: "MEDICAL", Severity: 3}}})
			wantCode(t, err, aidhub.EFORBIDDEN)
			unchanged(t, d, before)
		})

		f.clock.advance(time.Hour)
		got, a, needs, err := f.svc.ClassifyApplication(cmCtx, app.ID, casework.AssessmentInput{
			HouseholdID: 424242, // ignored: the application names the household
			Notes:       "入户核查",
			Needs: []casework.NeedInput{
				{PersonID: &ps[2].ID, ItemCode: ptr("CRITICAL_ILLNESS_AID"), Severity: 5, Notes: "白血病"},
				{CategoryCode: "BASIC_LIVING", ItemCode: ptr("WINTER_SUPPLIES"), Severity: 2},
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != casework.Classified || got.AssessmentID == nil || *got.AssessmentID != a.ID || !got.UpdatedAt.Equal(fixedNow().Add(time.Hour)) {
			t.Fatalf("classified application %+v", got)
		}
		if a.HouseholdID != h.ID || *a.ApplicationID != app.ID || a.AssessedOn != f.today() || a.SupersedesID != nil ||
			a.SupersededAt != nil || a.AssessorRole != "CASE_MANAGER" || *a.AssessorTokenID != 3 || a.Notes != "入户核查" {
			t.Fatalf("assessment %+v", a)
		}
		if len(needs) != 2 || needs[0].ID == 0 || needs[1].ID == 0 || needs[0].CategoryCode != "MEDICAL_INPATIENT" ||
			*needs[0].PersonID != ps[2].ID || needs[0].Severity != 5 || needs[0].Status != casework.NeedOpen ||
			needs[0].OpenedOn != f.today() || needs[1].PersonID != nil || needs[1].AssessmentID != a.ID {
			t.Fatalf("needs %+v %+v", needs[0], needs[1])
		}
		stored, _ := f.svc.Needs(ctx, a.ID)
		if len(stored) != 2 || stored[0].ID != needs[0].ID || stored[0].Notes != "白血病" || stored[1].ID != needs[1].ID {
			t.Fatalf("stored needs %+v", stored)
		}
		hist, err := f.svc.ApplicationHistory(ctx, app.ID)
		if err != nil || len(hist) != 2 || hist[0].Status != casework.Submitted || hist[1].Status != casework.Classified ||
			hist[1].ActorRole != "CASE_MANAGER" || *hist[1].ActorTokenID != 3 || !strings.Contains(hist[1].Note, "2 needs") ||
			!hist[0].At.Equal(fixedNow()) || !hist[1].At.Equal(fixedNow().Add(time.Hour)) {
			t.Fatalf("history %+v, %v", hist, err)
		}
		e = lastAudit(t, d, "createAssessment")
		if *e.SubjectID != a.ID || strings.Contains(e.Summary, "白血病") || strings.Contains(e.Summary, "入户") {
			t.Fatalf("audit %+v", e)
		}
		apps, _ := f.svc.Applications(ctx, h.ID)
		if len(apps) != 1 || apps[0].Status != casework.Classified {
			t.Fatalf("applications %+v", apps)
		}

		// Twice: CONFLICT, nothing written.
		before := rowCounts(t, d)
		_, _, _, err = f.svc.ClassifyApplication(cmCtx, app.ID, casework.AssessmentInput{Needs: []casework.NeedInput{{CategoryCode: "MEDICAL", Severity: 3}}})
		wantCode(t, err, aidhub.ECONFLICT)
		// Nor through CreateAssessment naming the application.
		_, _, err = f.svc.CreateAssessment(cmCtx, casework.AssessmentInput{HouseholdID: h.ID, ApplicationID: &app.ID, Needs: []casework.NeedInput{{CategoryCode: "MEDICAL", Severity: 3}}})
		wantCode(t, err, aidhub.ECONFLICT)
		unchanged(t, d, before)

		t.Run("Reassessment", func(t *testing.T) {
			// One need is met before the reassessment.
			if _, err := f.svc.RecordAid(cmCtx, casework.AidInput{HouseholdID: h.ID, ItemCode: ptr("WINTER_SUPPLIES"), ProviderKind: casework.ProviderGovernment,
				ProviderName: "渝中区民政局", Units: 1, Period: period(t, "2026-11-28", "2026-11-28"), NeedID: &needs[1].ID}); err != nil {
				t.Fatal(err)
			}
			f.clock.advance(10 * 24 * time.Hour)
			a2, needs2, err := f.svc.CreateAssessment(cmCtx, casework.AssessmentInput{
				HouseholdID: h.ID, Notes: "复评",
				Needs: []casework.NeedInput{
					{PersonID: &ps[2].ID, CategoryCode: "MEDICAL_INPATIENT", ItemCode: ptr("INPATIENT_AID"), Severity: 4},
					{PersonID: &ps[1].ID, CategoryCode: "MEDICAL_INPATIENT", Severity: 2},
					{CategoryCode: "BASIC_LIVING", Severity: 1},
					{PersonID: &ps[2].ID, CategoryCode: "EDUCATION", Severity: 3},
				},
			})
			if err != nil {
				t.Fatal(err)
			}
			if a2.SupersedesID == nil || *a2.SupersedesID != a.ID || a2.ApplicationID != nil || a2.AssessedOn != f.today() {
				t.Fatalf("reassessment %+v", a2)
			}
			first := date(t, "2026-11-28")
			for i, want := range []aidhub.Date{first, f.today(), f.today(), f.today()} {
				if needs2[i].OpenedOn != want || needs2[i].Status != casework.NeedOpen {
					t.Errorf("need %d (%s) opened %s, want %s", i, needs2[i].CategoryCode, needs2[i].OpenedOn, want)
				}
			}
			as, _ := f.svc.Assessments(ctx, h.ID)
			if len(as) != 2 || as[0].ID != a2.ID || as[1].ID != a.ID || as[1].SupersededAt == nil || as[0].SupersededAt != nil {
				t.Fatalf("assessments %+v", as)
			}
			old, _ := f.svc.Needs(ctx, a.ID)
			if old[0].Status != casework.NeedSuperseded || old[0].ClosedAt == nil || old[1].Status != casework.NeedMet {
				t.Fatalf("old needs %s %s", old[0].Status, old[1].Status)
			}
			e := lastAudit(t, d, "createAssessment")
			if !strings.Contains(e.Summary, `"supersedes":`) || strings.Contains(e.Summary, `"supersedes":null`) {
				t.Fatalf("audit %s", e.Summary)
			}

			// A third keeps the first date through the second.
			f.clock.advance(24 * time.Hour)
			_, needs3, err := f.svc.CreateAssessment(cmCtx, casework.AssessmentInput{HouseholdID: h.ID, Needs: []casework.NeedInput{
				{PersonID: &ps[2].ID, CategoryCode: "MEDICAL_INPATIENT", Severity: 4},
			}})
			if err != nil || needs3[0].OpenedOn != first {
				t.Fatalf("third assessment opened %v, %v", needs3, err)
			}
		})
	})
}

func TestCreateAssessment_Concurrent(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		// Several case managers assess one household at once: at most one
		// current assessment remains, the others get CONFLICT; none fails
		// otherwise or blocks for good.
		f := newFixture(t, d)
		h, _ := f.family(t)
		const n = 24 // more than SQLite's and PostgreSQL's pools
		ctx := within(t, cmCtx, 20*time.Second)
		errs := race(n, func(int) error {
			_, _, err := f.svc.CreateAssessment(ctx, casework.AssessmentInput{HouseholdID: h.ID, Needs: []casework.NeedInput{{CategoryCode: "CARE", Severity: 2}}})
			return err
		})
		ok := 0
		for _, err := range errs {
			switch aidhub.ErrorCode(err) {
			case "":
				ok++
			case aidhub.ECONFLICT:
			default:
				t.Fatalf("concurrent assessment: %v", err)
			}
		}
		if ok == 0 {
			t.Fatal("no assessment succeeded")
		}
		as, _ := f.svc.Assessments(context.Background(), h.ID)
		current := 0
		for _, a := range as {
			if a.SupersededAt == nil {
				current++
			}
		}
		if current != 1 || len(as) != ok {
			t.Fatalf("%d assessments, %d current, %d succeeded", len(as), current, ok)
		}
	})
}

// A reassessment moves referrals under way to the need that succeeds the
// one they were made for, so delivering them meets it.
func TestReassessmentKeepsReferralsOnTheNeed(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		h, persons := f.sharedFamily(t)
		head := persons[0]
		_, needs, err := f.svc.CreateAssessment(cmCtx, casework.AssessmentInput{HouseholdID: h.ID,
			Needs: []casework.NeedInput{{PersonID: &head.ID, CategoryCode: "ELDERLY_CARE", Severity: 3}}})
		if err != nil {
			t.Fatal(err)
		}
		r := f.publish(t, f.orgA, resourcePatch(10, "HOME_CARE"))
		ref := f.refer(t, casework.ReferralInput{NeedID: &needs[0].ID, ResourceID: r.ID})
		_, again, err := f.svc.CreateAssessment(cmCtx, casework.AssessmentInput{HouseholdID: h.ID,
			Needs: []casework.NeedInput{{PersonID: &head.ID, CategoryCode: "ELDERLY_CARE", Severity: 4}}})
		if err != nil {
			t.Fatal(err)
		}
		if got := f.referral(t, ref.ID); got.NeedID == nil || *got.NeedID != again[0].ID {
			t.Fatalf("referral need %v, want the new need %d", got.NeedID, again[0].ID)
		}
		f.move(t, f.charityA(), ref.ID, casework.Accepted)
		f.move(t, f.charityA(), ref.ID, casework.Delivered)
		n, err := f.svc.Need(cmCtx, again[0].ID)
		if err != nil || n.Status != casework.NeedMet {
			t.Fatalf("the new need after delivery: %+v, %v", n, err)
		}
	})
}
