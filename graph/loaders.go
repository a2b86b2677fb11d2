package graph

import (
	"context"
	"sync"
	"time"

	"github.com/vikstrous/dataloadgen"

	"github.com/aidhub/aidhub/catalog"
)

// loaders batch and cache reads for one request, so a list of resources
// costs one organization query, not one per resource. (A list of matches
// carries its resources: the matcher holds them.)
type loaders struct {
	catalog       func() (*catalog.Catalog, error)
	organizations *dataloadgen.Loader[int64, *catalog.Organization]
}

type loadersKey struct{}

// WithLoaders returns ctx carrying fresh per-request loaders.
func WithLoaders(ctx context.Context, svc *catalog.Service) context.Context {
	l := &loaders{
		// The catalog is a handful of small tables; read it at most once a request.
		catalog: sync.OnceValues(func() (*catalog.Catalog, error) {
			return svc.Snapshot(context.WithoutCancel(ctx))
		}),
		organizations: dataloadgen.NewLoader(func(ctx context.Context, ids []int64) ([]*catalog.Organization, []error) {
			orgs, err := svc.OrganizationsByID(ctx, ids)
			if err != nil {
				return nil, []error{err}
			}
			return orgs, nil
		}, dataloadgen.WithWait(time.Millisecond)),
	}
	return context.WithValue(ctx, loadersKey{}, l)
}

func loadersFor(ctx context.Context) *loaders {
	return ctx.Value(loadersKey{}).(*loaders)
}
