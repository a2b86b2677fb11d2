package catalog

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/uptrace/bun"
	"github.com/vikstrous/dataloadgen"
)

// Per-request loaders: the one-record getters read organizations and
// resources through them, so a page that shows one per row costs one
// batched read, and the catalog is read at most once a request. Writes
// never read through them.

// loaders batch and cache the reads of one request. The values are shared
// by every caller of the request: nobody may change them.
type loaders struct {
	snapshot      func() (*Catalog, error)
	organizations *dataloadgen.Loader[int64, *Organization]
	// resources are whatever their status: the getter decides visibility.
	resources *dataloadgen.Loader[int64, *Resource]
}

type loadersKey struct{}

// NewLoaderContext returns ctx carrying fresh loaders for one request (or
// one mutation field, or one subscription event: whatever must not see
// rows cached before it). wait is how long a loader gathers keys before it
// reads them in one statement.
// The loaders are made on first use: a request that reads no catalog rows
// (a page of matches: the matcher holds its resources) does not pay for them.
func (s *Service) NewLoaderContext(ctx context.Context, wait time.Duration) context.Context {
	return context.WithValue(ctx, loadersKey{}, sync.OnceValue(func() *loaders { return s.newLoaders(ctx, wait) }))
}

// fromContext returns the request's loaders and ctx. Without any (jobs, the
// command line, tests calling the service) it makes one-off loaders, kept in
// the returned ctx: one code path, and nothing cached beyond the call.
func (s *Service) fromContext(ctx context.Context) (context.Context, *loaders) {
	if l, ok := ctx.Value(loadersKey{}).(func() *loaders); ok {
		return ctx, l()
	}
	l := s.newLoaders(ctx, 0)
	return context.WithValue(ctx, loadersKey{}, func() *loaders { return l }), l
}

func (s *Service) newLoaders(ctx context.Context, wait time.Duration) *loaders {
	opt := dataloadgen.WithWait(wait)
	return &loaders{
		// The catalog is a handful of small tables. The first reader's
		// cancellation must not fail it for the others.
		snapshot: sync.OnceValues(func() (*Catalog, error) {
			return s.Snapshot(context.WithoutCancel(ctx))
		}),
		organizations: dataloadgen.NewLoader(func(ctx context.Context, ids []int64) ([]*Organization, []error) {
			orgs, err := s.OrganizationsByID(ctx, ids)
			if err != nil {
				return nil, []error{err}
			}
			return orgs, nil
		}, opt),
		resources: dataloadgen.NewLoader(s.loadResources, opt),
	}
}

// loadResources reads resources with their links in two statements, in key
// order, nil where one does not exist.
func (s *Service) loadResources(ctx context.Context, ids []int64) ([]*Resource, []error) {
	var rows []*Resource
	if err := s.db.NewSelect().Model(&rows).Where("r.id IN (?)", bun.List(ids)).Scan(ctx); err != nil {
		return nil, []error{fmt.Errorf("catalog: load resources: %w", err)}
	}
	if err := loadLinks(ctx, s.db, rows); err != nil {
		return nil, []error{fmt.Errorf("catalog: load resources: %w", err)}
	}
	byID := make(map[int64]*Resource, len(rows))
	for _, r := range rows {
		byID[r.ID] = r
	}
	out := make([]*Resource, len(ids))
	for i, id := range ids {
		out[i] = byID[id]
	}
	return out, nil
}

// RequestSnapshot is the catalog as this request first read it (Snapshot
// reads it afresh, for writes and jobs).
func (s *Service) RequestSnapshot(ctx context.Context) (*Catalog, error) {
	_, l := s.fromContext(ctx)
	return l.snapshot()
}
