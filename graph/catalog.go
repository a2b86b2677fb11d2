package graph

// Helpers of the catalog resolvers (catalog.resolvers.go), also used by
// every domain that names categories and items.

import (
	"context"
	"fmt"

	"github.com/aidhub/aidhub/catalog"
)

func (r *Resolver) snapshot(ctx context.Context) (*catalog.Catalog, error) {
	return r.CatalogService.RequestSnapshot(ctx)
}

func (r *Resolver) category(ctx context.Context, code string) (*catalog.Category, error) {
	cat, err := r.snapshot(ctx)
	if err != nil {
		return nil, err
	}
	c, ok := cat.Category(code)
	if !ok {
		return nil, fmt.Errorf("graph: category %s missing from the catalog", code)
	}
	return c, nil
}

func (r *Resolver) item(ctx context.Context, code *string) (*catalog.Item, error) {
	if code == nil {
		return nil, nil
	}
	cat, err := r.snapshot(ctx)
	if err != nil {
		return nil, err
	}
	it, _ := cat.Item(*code)
	return it, nil
}

func planEntries(entries []catalog.PlanEntry) []*catalog.PlanEntry {
	out := make([]*catalog.PlanEntry, len(entries))
	for i := range entries {
		out[i] = &entries[i]
	}
	return out
}
