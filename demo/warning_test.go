package demo_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aidhub/aidhub"
	"github.com/aidhub/aidhub/audit"
	"github.com/aidhub/aidhub/auth"
	"github.com/aidhub/aidhub/casework"
	"github.com/aidhub/aidhub/catalog"
	"github.com/aidhub/aidhub/db"
	"github.com/aidhub/aidhub/db/dbtest"
	"github.com/aidhub/aidhub/demo"
	"github.com/aidhub/aidhub/regions"
	"github.com/aidhub/aidhub/secret"
	"github.com/aidhub/aidhub/warning"
	"github.com/aidhub/aidhub/warning/detect"
)

// TestLoadWarnings checks that the demo shows warnings of several types in
// 渝中区, each with its evidence, and that the district's income threshold
// is its own (calibrated from the demo's year of incomes), not a fallback.
func TestLoadWarnings(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		now := func() time.Time { return time.Date(2026, 11, 28, 4, 0, 0, 0, time.UTC) }
		log := audit.New(d, now)
		cat := catalog.NewService(d, regions.Chongqing(), log, now)
		if _, err := cat.SeedDefaults(ctx); err != nil {
			t.Fatal(err)
		}
		keys, err := secret.NewKeys([]byte("demo tests: 32 bytes of key material, at least"))
		if err != nil {
			t.Fatal(err)
		}
		cw := casework.NewService(d, regions.Chongqing(), keys, cat, log, now)
		ws := warning.NewService(d, regions.Chongqing(), cat, cw, log, now)
		if _, err := ws.SeedDefaults(ctx); err != nil {
			t.Fatal(err)
		}
		households, raised, err := demo.LoadWarnings(ctx, cw, ws, cat.Today())
		if err != nil {
			t.Fatal(err)
		}
		if households < 40 || raised < 5 {
			t.Fatalf("LoadWarnings added %d households and raised %d warnings", households, raised)
		}
		if h, w, err := demo.LoadWarnings(ctx, cw, ws, cat.Today()); err != nil || h != 0 || w != 0 {
			t.Fatalf("second load = %d, %d, %v", h, w, err)
		}
		cm := auth.WithPrincipal(ctx, auth.Principal{TokenID: 9, Role: auth.CaseManager, RegionPrefix: "500103"})
		page, err := ws.Warnings(cm, warning.Filter{}, aidhub.PageArgs{First: 100})
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, w := range page.Items {
			seen[w.TypeCode] = true
			ev, err := w.Evidence()
			if err != nil || ev.Explanation == "" || ev.ExplanationZh == "" {
				t.Errorf("%s: evidence %+v, %v", w.TypeCode, ev, err)
			}
		}
		t.Logf("demo warnings: %d of %d types: %v", len(page.Items), len(seen), keys_(seen))
		for _, want := range []string{"INCOME_SUDDEN_DROP", "JOB_LOSS_WITH_DEPENDANTS", "ELDERLY_ALONE_HEALTH_EVENT",
			"CHILD_OUT_OF_SCHOOL", "LONG_ARREARS", "MEMBER_DEATH", "CHILD_LOST_PARENT"} {
			if !seen[want] {
				t.Errorf("no %s in the demo's warnings (%d raised: %v)", want, len(page.Items), keys_(seen))
			}
		}
		ths, err := ws.Thresholds(cm, "500103", "INCOME_SUDDEN_DROP")
		if err != nil {
			t.Fatal(err)
		}
		own := false
		for _, th := range ths {
			if th.Cell == (detect.Cell{District: "500103", Group: "DIBAO"}) {
				own = th.Scope == detect.ScopeCell && th.N >= 300
			}
		}
		if !own {
			t.Errorf("渝中区 × DIBAO has no threshold of its own: %+v", ths)
		}
		// The ordinary households raise nothing about their income.
		for _, w := range page.Items {
			if w.TypeCode == "INCOME_SUDDEN_DROP" {
				ev, _ := w.Evidence()
				if !strings.Contains(ev.Explanation, "%") {
					t.Errorf("income drop explained as %q", ev.Explanation)
				}
			}
		}
		drops := 0
		for _, w := range page.Items {
			if w.TypeCode == "INCOME_SUDDEN_DROP" {
				drops++
			}
		}
		if drops > 3 {
			t.Errorf("%d income-drop warnings: the ordinary households' noise raises warnings", drops)
		}
	})
}

func keys_(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
