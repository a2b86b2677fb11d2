package demo_test

import (
	"context"
	"testing"
	"time"
	"unicode"

	"github.com/aidhub/aidhub"
	"github.com/aidhub/aidhub/audit"
	"github.com/aidhub/aidhub/auth"
	"github.com/aidhub/aidhub/catalog"
	"github.com/aidhub/aidhub/db"
	"github.com/aidhub/aidhub/db/dbtest"
	"github.com/aidhub/aidhub/demo"
	"github.com/aidhub/aidhub/regions"
)

func TestLoad(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		now := func() time.Time { return time.Date(2026, 11, 28, 4, 0, 0, 0, time.UTC) }
		svc := catalog.NewService(d, regions.Chongqing(), audit.New(d, now), now)
		if _, err := svc.SeedDefaults(ctx); err != nil {
			t.Fatal(err)
		}
		res, err := demo.Load(ctx, svc, svc.Today())
		if err != nil {
			t.Fatal(err)
		}
		if res.Organizations < 5 || res.Resources < 12 || res.Published < 10 {
			t.Fatalf("demo loaded %+v", res)
		}
		// What anonymous callers see: published resources with Chinese titles.
		page, err := svc.ListResources(ctx, catalog.ResourceFilter{}, aidhub.PageArgs{First: 100})
		if err != nil {
			t.Fatal(err)
		}
		if page.TotalCount != res.Published {
			t.Fatalf("anonymous sees %d resources, %d published", page.TotalCount, res.Published)
		}
		for _, r := range page.Items {
			if r.Status != catalog.Published || !hasHan(r.Title) {
				t.Errorf("resource %d %q %s", r.ID, r.Title, r.Status)
			}
		}
		all, _ := svc.ListResources(auth.WithPrincipal(ctx, auth.System), catalog.ResourceFilter{}, aidhub.PageArgs{First: 100})
		if all.TotalCount != res.Resources {
			t.Fatalf("admin sees %d of %d", all.TotalCount, res.Resources)
		}
		again, err := demo.Load(ctx, svc, svc.Today())
		if err != nil || again != (demo.Result{}) {
			t.Fatalf("second load: %+v, %v", again, err)
		}
	})
}

func hasHan(s string) bool {
	for _, r := range s {
		if unicode.Is(unicode.Han, r) {
			return true
		}
	}
	return false
}
