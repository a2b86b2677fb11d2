package catalog_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aidhub/aidhub"
	"github.com/aidhub/aidhub/db"
	"github.com/aidhub/aidhub/db/dbtest"
)

// Resource and Organization answer the same through a request's loaders,
// asked all at once so that they batch, as without: a draft only to its
// owner and admins, NOT_FOUND alike for hidden and missing, links loaded.
func TestGettersSameWithRequestLoaders(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		published := mustPublish(t, f.svc, f.orgA.ID, validPatch(t))
		draft := mustCreate(t, f.svc, f.charityA(), f.orgA.ID, validPatch(t))
		resources := []int64{published.ID, draft.ID, 99999}
		orgs := []int64{f.orgA.ID, f.orgB.ID, 99999}
		type answer struct {
			id    int64
			code  string
			items int
		}
		ask := func(ctx context.Context, concurrently bool) []answer {
			out := make([]answer, len(resources)+len(orgs))
			var wg sync.WaitGroup
			run := func(fn func()) {
				if concurrently {
					wg.Go(fn)
				} else {
					fn()
				}
			}
			for i, id := range resources {
				run(func() {
					r, err := f.svc.Resource(ctx, id)
					out[i].code = aidhub.ErrorCode(err)
					if r != nil && err == nil {
						out[i].id, out[i].items = r.ID, len(r.ItemCodes)
					}
				})
			}
			for i, id := range orgs {
				run(func() {
					o, err := f.svc.Organization(ctx, id)
					out[len(resources)+i].code = aidhub.ErrorCode(err)
					if o != nil && err == nil {
						out[len(resources)+i].id = o.ID
					}
				})
			}
			wg.Wait()
			return out
		}
		for name, ctx := range map[string]context.Context{"admin": adminCtx, "owner": f.charityA(), "other": f.charityB(), "anonymous": anonCtx} {
			want := ask(ctx, false)
			got := ask(f.svc.NewLoaderContext(ctx, 5*time.Millisecond), true)
			if !slices.Equal(got, want) {
				t.Errorf("%s: through request loaders %+v, without %+v", name, got, want)
			}
			if want[0].id != published.ID || want[0].items == 0 || want[2].code != aidhub.ENOTFOUND || want[5].code != aidhub.ENOTFOUND {
				t.Errorf("%s: %+v", name, want)
			}
			if sees := name == "admin" || name == "owner"; (want[1].id == draft.ID) != sees || (!sees && want[1].code != aidhub.ENOTFOUND) {
				t.Errorf("%s sees the draft: %+v", name, want[1])
			}
		}
	})
}
