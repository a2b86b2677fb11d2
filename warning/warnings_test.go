package warning_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/aidhub/aidhub"
	"github.com/aidhub/aidhub/casework"
	"github.com/aidhub/aidhub/db"
	"github.com/aidhub/aidhub/db/dbtest"
	"github.com/aidhub/aidhub/warning"
)

// dropped is a family whose income fell from 3,000 to 1,000 yuan this month.
func (f *fixture) dropped(t *testing.T) (*casework.Household, []*casework.Person, []warning.RecordResult) {
	t.Helper()
	h, ps := f.family(t)
	rs := f.record(t, income(h, "2026-08", 3000), income(h, "2026-09", 3100), income(h, "2026-10", 2900), income(h, "2026-11", 1000))
	return h, ps, rs
}

func types(ws []*warning.Warning) []string {
	var out []string
	for _, w := range ws {
		out = append(out, w.TypeCode)
	}
	slices.Sort(out)
	return out
}

func find(t *testing.T, ws []*warning.Warning, code string) *warning.Warning {
	t.Helper()
	for _, w := range ws {
		if w.TypeCode == code {
			return w
		}
	}
	t.Fatalf("no %s among %v", code, types(ws))
	return nil
}

func TestEvaluate_RaisesOnceWithEvidence(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		h, _, rs := f.dropped(t)
		quiet, _ := f.family(t)
		f.record(t, income(quiet, "2026-08", 3000), income(quiet, "2026-09", 3100), income(quiet, "2026-10", 2900), income(quiet, "2026-11", 3050))

		raised, err := f.svc.EvaluateHouseholds(context.Background(), []int64{h.ID, quiet.ID})
		if err != nil {
			t.Fatal(err)
		}
		w := find(t, raised, "INCOME_SUDDEN_DROP")
		for _, o := range raised {
			if o.HouseholdID != h.ID {
				t.Errorf("%s raised for the household whose income held", o.TypeCode)
			}
		}
		if w.State != warning.StateNew || w.RegionCode != huayipo || w.ResponsibleCode != huayipo[:9] {
			t.Fatalf("warning %+v", w)
		}
		if got, want := w.DueOn.String(), "2026-12-05"; got != want { // raised 2026-11-28, SLA 7 days
			t.Errorf("due %s, want %s", got, want)
		}
		ev, err := w.Evidence()
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rs {
			if !slices.Contains(ev.SignalIDs, r.Signal.ID) {
				t.Errorf("evidence %v lacks income signal %d", ev.SignalIDs, r.Signal.ID)
			}
		}
		if ev.Threshold == nil || !strings.Contains(ev.Explanation, "%") || ev.ExplanationZh == "" {
			t.Errorf("evidence says %q / %q, threshold %+v", ev.Explanation, ev.ExplanationZh, ev.Threshold)
		}
		sigs, err := f.svc.EvidenceSignals(cmCtx, w)
		if err != nil || len(sigs) < 4 {
			t.Fatalf("evidence signals %d, %v", len(sigs), err)
		}

		again, err := f.svc.EvaluateHouseholds(context.Background(), []int64{h.ID})
		if err != nil {
			t.Fatal(err)
		}
		if len(again) != 0 {
			t.Fatalf("raised again while open: %v", types(again))
		}
	})
}

func TestWarnings_WhoSeesWhat(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		h, _, _ := f.dropped(t)
		raised, err := f.svc.EvaluateHouseholds(context.Background(), []int64{h.ID})
		if err != nil || len(raised) == 0 {
			t.Fatalf("raised %d, %v", len(raised), err)
		}
		for _, c := range []struct {
			name string
			ctx  context.Context
			code string
		}{
			{"anonymous", anonCtx, aidhub.EUNAUTHENTICATED},
			{"charity", charityCtx, aidhub.EFORBIDDEN},
			{"donor", donorCtx, aidhub.EFORBIDDEN},
			{"feed", feedCtx, aidhub.EFORBIDDEN},
		} {
			_, err := f.svc.Warnings(c.ctx, warning.Filter{}, aidhub.PageArgs{})
			if aidhub.ErrorCode(err) != c.code {
				t.Errorf("%s lists: %v, want %s", c.name, err, c.code)
			}
			_, err = f.svc.Warning(c.ctx, raised[0].ID)
			if aidhub.ErrorCode(err) != c.code {
				t.Errorf("%s reads: %v, want %s", c.name, err, c.code)
			}
		}
		page, err := f.svc.Warnings(cmCtx, warning.Filter{}, aidhub.PageArgs{})
		if err != nil || page.TotalCount != len(raised) {
			t.Fatalf("the case manager of 渝中区 sees %v, %v; want %d", page, err, len(raised))
		}
		other, err := f.svc.Warnings(cmOtherCtx, warning.Filter{}, aidhub.PageArgs{})
		if err != nil || other.TotalCount != 0 {
			t.Fatalf("the case manager of 大渡口区 sees %d, %v", other.TotalCount, err)
		}
		asked, err := f.svc.Warnings(cmOtherCtx, warning.Filter{RegionPrefix: yuzhong}, aidhub.PageArgs{})
		if err != nil || asked.TotalCount != 0 {
			t.Fatalf("the case manager of 大渡口区 asking for 渝中区 sees %d, %v", asked.TotalCount, err)
		}
		_, err = f.svc.Warning(cmOtherCtx, raised[0].ID)
		wantCode(t, err, aidhub.ENOTFOUND)
		_, err = f.svc.Transition(cmOtherCtx, warning.Transition{WarningID: raised[0].ID, Action: warning.ActionAcknowledge})
		wantCode(t, err, aidhub.ENOTFOUND)

		high, err := f.svc.Warnings(cmCtx, warning.Filter{TypeCodes: []string{"INCOME_SUDDEN_DROP"}, States: []warning.State{warning.StateNew}}, aidhub.PageArgs{})
		if err != nil || high.TotalCount != 1 {
			t.Fatalf("filtered: %d, %v", high.TotalCount, err)
		}
		overdue := true
		late, err := f.svc.Warnings(cmCtx, warning.Filter{Overdue: &overdue}, aidhub.PageArgs{})
		if err != nil || late.TotalCount != 0 {
			t.Fatalf("overdue on the day raised: %d, %v", late.TotalCount, err)
		}
		f.clock.set(fixedNow().AddDate(0, 0, 30))
		late, err = f.svc.Warnings(cmCtx, warning.Filter{Overdue: &overdue}, aidhub.PageArgs{})
		if err != nil || late.TotalCount != len(raised) {
			t.Fatalf("overdue 30 days later: %d, %v", late.TotalCount, err)
		}
		_, err = f.svc.Warnings(cmCtx, warning.Filter{RegionPrefix: "5001"}, aidhub.PageArgs{})
		wantInvalid(t, err, "filter.regionPrefix")
		_, err = f.svc.Warnings(cmCtx, warning.Filter{States: []warning.State{"LOST"}}, aidhub.PageArgs{})
		wantInvalid(t, err, "filter.states")
	})
}

func TestTransition_InOrderAudited(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		h, _, _ := f.dropped(t)
		raised, err := f.svc.EvaluateHouseholds(context.Background(), []int64{h.ID})
		if err != nil {
			t.Fatal(err)
		}
		w := find(t, raised, "INCOME_SUDDEN_DROP")
		step := func(ctx context.Context, tr warning.Transition) (*warning.Warning, error) {
			tr.WarningID = w.ID
			return f.svc.Transition(ctx, tr)
		}
		_, err = step(cmCtx, warning.Transition{Action: warning.ActionResolve, Outcome: warning.OutcomeNoActionNeeded})
		wantCode(t, err, aidhub.ECONFLICT) // not visited yet
		_, err = step(cmCtx, warning.Transition{Action: "ESCALATE"})
		wantInvalid(t, err, "action")
		_, err = step(cmCtx, warning.Transition{Action: warning.ActionVisit})
		wantInvalid(t, err, "note")
		_, err = step(cmCtx, warning.Transition{Action: warning.ActionDismiss})
		wantInvalid(t, err, "reason")
		_, err = step(donorCtx, warning.Transition{Action: warning.ActionAcknowledge})
		wantCode(t, err, aidhub.EFORBIDDEN)
		_, err = step(anonCtx, warning.Transition{Action: warning.ActionAcknowledge})
		wantCode(t, err, aidhub.EUNAUTHENTICATED)
		if n := f.count(t, "warning_events"); n != len(raised) {
			t.Fatalf("%d events after refused steps, want %d (one NEW each)", n, len(raised))
		}

		if w, err = step(cmCtx, warning.Transition{Action: warning.ActionAcknowledge}); err != nil || w.State != warning.StateAcknowledged {
			t.Fatalf("acknowledge: %v %v", w, err)
		}
		_, err = step(cmCtx, warning.Transition{Action: warning.ActionAcknowledge})
		wantCode(t, err, aidhub.ECONFLICT)
		stale := w.Version - 1
		_, err = step(cmCtx, warning.Transition{Action: warning.ActionVisit, Note: "入户核查：家中无人就业", Version: &stale})
		wantCode(t, err, aidhub.ECONFLICT)
		if w, err = step(cmCtx, warning.Transition{Action: warning.ActionVisit, Note: "入户核查：家中无人就业"}); err != nil || w.State != warning.StateVisited || w.VisitNote == "" {
			t.Fatalf("visit: %v %v", w, err)
		}
		_, err = step(cmCtx, warning.Transition{Action: warning.ActionResolve})
		wantInvalid(t, err, "outcome")
		if w, err = step(cmCtx, warning.Transition{Action: warning.ActionResolve, Outcome: warning.OutcomeReferred}); err != nil || w.State != warning.StateResolved || w.ClosedAt == nil {
			t.Fatalf("resolve: %v %v", w, err)
		}
		_, err = step(cmCtx, warning.Transition{Action: warning.ActionDismiss, Reason: "重复"})
		wantCode(t, err, aidhub.ECONFLICT)
		hist, err := f.svc.History(cmCtx, w.ID)
		if err != nil {
			t.Fatal(err)
		}
		var states []string
		for _, e := range hist {
			states = append(states, string(e.State))
		}
		if got := strings.Join(states, ","); got != "NEW,ACKNOWLEDGED,VISITED,RESOLVED" {
			t.Fatalf("history %s", got)
		}

		// The same facts do not raise it again; a new month's drop does.
		again, err := f.svc.EvaluateHouseholds(context.Background(), []int64{h.ID})
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range again {
			if o.TypeCode == "INCOME_SUDDEN_DROP" {
				t.Fatal("resolved warning raised again on the same facts")
			}
		}
		f.clock.set(fixedNow().AddDate(0, 1, 0)) // 2026-12-28
		f.record(t, income(h, "2026-12", 300))
		again, err = f.svc.EvaluateHouseholds(context.Background(), []int64{h.ID})
		if err != nil {
			t.Fatal(err)
		}
		find(t, again, "INCOME_SUDDEN_DROP")
	})
}

func TestTransition_OpensApplication(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		h, _, _ := f.dropped(t)
		raised, err := f.svc.EvaluateHouseholds(context.Background(), []int64{h.ID})
		if err != nil {
			t.Fatal(err)
		}
		w := find(t, raised, "INCOME_SUDDEN_DROP")
		_, err = f.svc.Transition(cmCtx, warning.Transition{WarningID: w.ID, Action: warning.ActionOpenApplication, CategoryCodes: []string{"NO_SUCH_CATEGORY"}})
		wantCode(t, err, aidhub.EBADINPUT)
		if apps, _ := f.cw.Applications(cmCtx, h.ID); len(apps) != 0 {
			t.Fatalf("%d applications after a refused step", len(apps))
		}
		w, err = f.svc.Transition(cmCtx, warning.Transition{WarningID: w.ID, Action: warning.ActionOpenApplication, CategoryCodes: []string{"BASIC_LIVING"}})
		if err != nil {
			t.Fatal(err)
		}
		if w.State != warning.StateResolved || w.Outcome != warning.OutcomeApplicationOpened || w.ApplicationID == nil {
			t.Fatalf("after OPEN_APPLICATION: %+v", w)
		}
		apps, err := f.cw.Applications(cmCtx, h.ID)
		if err != nil || len(apps) != 1 || apps[0].ID != *w.ApplicationID {
			t.Fatalf("applications %v, %v", apps, err)
		}
		if !strings.Contains(apps[0].HelpText, "INCOME_SUDDEN_DROP") {
			t.Errorf("the application says %q", apps[0].HelpText)
		}
	})
}
