package graph

import (
	"context"

	"github.com/aidhub/aidhub"
	"github.com/aidhub/aidhub/catalog"
)

// The per-request loaders belong to the domain packages (casework and
// catalog NewLoaderContext); their one-record getters load through them.
// What is left here forwards the resolvers that still name loadersFor to
// those getters, until they call the getters themselves.

type loaders struct {
	catalog       func() (*catalog.Catalog, error)
	organizations organizationForwarder
}

type organizationForwarder struct{ svc *catalog.Service }

// Load returns the organization, nil when there is none (as the loader it
// replaces did).
func (f organizationForwarder) Load(ctx context.Context, id int64) (*catalog.Organization, error) {
	o, err := f.svc.Organization(ctx, id)
	if aidhub.ErrorCode(err) == aidhub.ENOTFOUND {
		return nil, nil
	}
	return o, err
}

type loadersKey struct{}

// WithLoaders returns ctx naming the catalog service for loadersFor. The
// loaders themselves come from catalog.Service.NewLoaderContext.
func WithLoaders(ctx context.Context, svc *catalog.Service) context.Context {
	return context.WithValue(ctx, loadersKey{}, svc)
}

func loadersFor(ctx context.Context) *loaders {
	svc := ctx.Value(loadersKey{}).(*catalog.Service)
	return &loaders{
		catalog:       func() (*catalog.Catalog, error) { return svc.RequestSnapshot(ctx) },
		organizations: organizationForwarder{svc},
	}
}
