package demo_test

import (
	"context"
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
	"github.com/aidhub/aidhub/matchsvc"
	"github.com/aidhub/aidhub/regions"
	"github.com/aidhub/aidhub/secret"
)

// TestLoadCasework checks that the demo households give a watchlist with
// several colours and needs that match demo resources.
func TestLoadCasework(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		now := func() time.Time { return time.Date(2026, 11, 28, 4, 0, 0, 0, time.UTC) }
		svc := catalog.NewService(d, regions.Chongqing(), audit.New(d, now), now)
		if _, err := svc.SeedDefaults(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := demo.Load(ctx, svc, svc.Today()); err != nil {
			t.Fatal(err)
		}
		keys, err := secret.NewKeys([]byte("demo tests: 32 bytes of key material, at least"))
		if err != nil {
			t.Fatal(err)
		}
		cw := casework.NewService(d, regions.Chongqing(), keys, svc, audit.New(d, now), now)
		n, err := demo.LoadCasework(ctx, cw, svc.Today())
		if err != nil || n < 5 {
			t.Fatalf("LoadCasework = %d, %v", n, err)
		}
		if again, err := demo.LoadCasework(ctx, cw, svc.Today()); err != nil || again != 0 {
			t.Fatalf("second load = %d, %v", again, err)
		}
		m, err := matchsvc.New(d, svc, cw, matchsvc.DefaultConfig(), now)
		if err != nil {
			t.Fatal(err)
		}
		admin := auth.WithPrincipal(ctx, auth.System)
		res, err := m.Sweep(admin, nil)
		if err != nil {
			t.Fatal(err)
		}
		if res.Stats.Matched < 4 || res.Stats.Blocked < 1 {
			t.Errorf("demo sweep %+v: want several matches and the aid already given blocking one", res.Stats)
		}
		colours := 0
		for _, c := range res.Stats.ByColour {
			if c > 0 {
				colours++
			}
		}
		if colours < 4 || res.Stats.ByColour[aidhub.Red] == 0 {
			t.Errorf("demo watchlist colours %v: want a spread including RED", res.Stats.ByColour)
		}
	})
}
