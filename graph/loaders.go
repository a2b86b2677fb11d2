package graph

import (
	"context"
	"sync"
	"time"

	"github.com/vikstrous/dataloadgen"

	"github.com/aidhub/aidhub/catalog"
)

// loaders batch and cache reads for one request, so a list of resources
// costs one organization query, not one per resource, and a list of
// matches one resource read (four queries), not one per match.
type loaders struct {
	catalog       func() (*catalog.Catalog, error)
	organizations *dataloadgen.Loader[int64, *catalog.Organization]
	// resources are nil where absent or not visible to the caller.
	resources *dataloadgen.Loader[int64, *catalog.Resource]
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
		resources: dataloadgen.NewLoader(func(ctx context.Context, ids []int64) ([]*catalog.Resource, []error) {
			rs, err := svc.ResourcesByID(ctx, ids)
			if err != nil {
				return nil, []error{err}
			}
			return rs, nil
		}, dataloadgen.WithWait(time.Millisecond)),
	}
	return context.WithValue(ctx, loadersKey{}, l)
}

func loadersFor(ctx context.Context) *loaders {
	return ctx.Value(loadersKey{}).(*loaders)
}
