package matchsvc

import (
	"context"
	"fmt"

	"github.com/aidhub/aidhub"
	"github.com/aidhub/aidhub/catalog"
	"github.com/aidhub/aidhub/matching"
)

// The loaders below read the store into the engine's values exactly as
// the hub does, for the hub itself (Reload, Sweep) and for benchmarks that
// need the pieces apart: the engine without the need index, the need
// population without the matcher's maps.

// Today is the matcher's day, the day matching and the duplicate-aid rule
// are evaluated on.
func (s *Service) Today() aidhub.Day { return aidhub.DayOf(s.today().Time) }

// Weights are the matcher's score weights.
func (s *Service) Weights() matching.Weights { return s.cfg.Weights }

// EngineCatalog returns the engine's view of the store's catalog now.
func (s *Service) EngineCatalog(ctx context.Context) (*aidhub.Catalog, error) {
	snap, err := s.catalog.Snapshot(ctx)
	if err != nil {
		return nil, err
	}
	cat, err := snap.Tree()
	if err != nil {
		return nil, fmt.Errorf("matcher: catalog: %w", err)
	}
	return cat, nil
}

// LoadResources returns every published resource in the engine's form,
// ordered by ID.
func (s *Service) LoadResources(ctx context.Context) ([]matching.Resource, error) {
	resources, _, err := s.loadResources(ctx)
	return resources, err
}

// loadResources reads every published resource, in the engine's form and
// as the catalog has it, ordered by ID.
func (s *Service) loadResources(ctx context.Context) ([]matching.Resource, []*catalog.Resource, error) {
	var resources []matching.Resource
	var rows []*catalog.Resource
	for after := int64(0); ; {
		page, err := s.catalog.ScanResources(ctx, after, 1000, catalog.Published)
		if err != nil {
			return nil, nil, err
		}
		for _, r := range page {
			resources = append(resources, engineResource(r))
		}
		rows = append(rows, page...)
		if len(page) < 1000 {
			return resources, rows, nil
		}
		after = page[len(page)-1].ID
	}
}

// LoadEngine builds a new engine over the store's catalog with its
// published resources, with the matcher's weights and colours. The
// matcher's own engine is left alone.
func (s *Service) LoadEngine(ctx context.Context) (*matching.Engine, error) {
	engine, _, err := s.loadEngine(ctx)
	return engine, err
}

// loadEngine is LoadEngine that also returns the resources as read.
func (s *Service) loadEngine(ctx context.Context) (*matching.Engine, []*catalog.Resource, error) {
	cat, err := s.EngineCatalog(ctx)
	if err != nil {
		return nil, nil, err
	}
	engine, err := matching.NewEngine(cat, s.cfg.Weights, s.cfg.Colours)
	if err != nil {
		return nil, nil, err
	}
	resources, rows, err := s.loadResources(ctx)
	if err != nil {
		return nil, nil, err
	}
	if err := engine.SetResources(resources); err != nil {
		return nil, nil, fmt.Errorf("matcher: resources: %w", err)
	}
	return engine, rows, nil
}

// LoadPopulation reads every open need of the store, with what the engine
// needs to know of its person and household, into a new population over
// cat (needs the catalog does not know are left out). progress, when not
// nil, hears how many needs of about total were read.
func (s *Service) LoadPopulation(ctx context.Context, cat *aidhub.Catalog, progress func(done, total int)) (*matching.Population, error) {
	total, err := s.casework.CountOpenNeeds(ctx)
	if err != nil {
		return nil, err
	}
	pop := matching.NewPopulation(cat)
	pop.Grow(total, total)
	loaded := 0
	if progress != nil {
		progress(0, total) // the phase shows from its start, even with nothing to load
	}
	err = s.loadAllNeeds(ctx, cat, loadWorkers, needChunk, func(ns []matching.Need) error {
		for i := range ns {
			_, _ = pop.AddNeed(&ns[i]) // a need the catalog no longer knows is skipped
		}
		loaded += len(ns)
		if progress != nil {
			progress(loaded, total)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return pop, nil
}

// Warm loads the engine and the need index now, unless they are loaded,
// so that the first matching request does not wait for them (a minute for
// the open needs of 3 million people); ctx cancels it.
func (s *Service) Warm(ctx context.Context) error {
	s.loading.Lock()
	defer s.loading.Unlock()
	if s.current() != nil {
		return nil
	}
	return s.load(ctx)
}

// Snapshot returns the matcher's engine and need index, loading them on
// first use, for benchmarks that time what the hub runs on. The caller
// must not change the index: the matcher owns it (Sync, re-matching jobs).
func (s *Service) Snapshot(ctx context.Context) (*matching.Engine, *matching.NeedIndex, error) {
	engine, err := s.Engine(ctx)
	if err != nil {
		return nil, nil, err
	}
	s.idx.RLock()
	defer s.idx.RUnlock()
	return engine, s.index, nil
}
