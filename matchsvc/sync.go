package matchsvc

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/aidhub/aidhub"
	"github.com/aidhub/aidhub/catalog"
	"github.com/aidhub/aidhub/matching"
)

// Changes notes the resources and households that one request's writes
// changed, as the Outbox hears of them inside their transactions, so that
// the request can apply them to this process's matcher (Sync) before it
// answers: its caller's next matching query then sees its own writes.
type Changes struct {
	mu         sync.Mutex
	resources  map[int64]struct{}
	households map[int64]struct{}
}

type changesKey struct{}

// WithChanges returns a context in which the Outbox notes every resource
// and household change in the returned Changes.
func WithChanges(ctx context.Context) (context.Context, *Changes) {
	c := &Changes{}
	return context.WithValue(ctx, changesKey{}, c), c
}

func changesFrom(ctx context.Context) *Changes {
	c, _ := ctx.Value(changesKey{}).(*Changes)
	return c
}

func (c *Changes) noteResource(id int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.resources == nil {
		c.resources = map[int64]struct{}{}
	}
	c.resources[id] = struct{}{}
}

func (c *Changes) noteHousehold(id int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.households == nil {
		c.households = map[int64]struct{}{}
	}
	c.households[id] = struct{}{}
}

// take returns what was noted, each ID once in increasing order, and
// forgets it.
func (c *Changes) take() (resources, households []int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	resources, households = sortedKeys(c.resources), sortedKeys(c.households)
	c.resources, c.households = nil, nil
	return resources, households
}

func sortedKeys(m map[int64]struct{}) []int64 {
	out := make([]int64, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// errCatalogBehind is a resource the engine cannot take until it reloads
// the catalog (most likely it offers an item added since the last load).
var errCatalogBehind = errors.New("the engine's catalog is older than the resource")

// Sync brings this process's matcher in line with the store for what c
// noted, and forgets it: the cheap part of the re-matching jobs, for the
// request that made the changes. Rereading is right even when the
// request's transaction rolled back. Before the first load it does
// nothing (the load reads the store as it is then); a resource the engine
// cannot take before a reload is left to its job, which reloads.
func (s *Service) Sync(ctx context.Context, c *Changes) error {
	resources, households := c.take()
	var errs []error
	for _, id := range resources {
		if _, err := s.syncResource(ctx, id); err != nil && !errors.Is(err, errCatalogBehind) {
			errs = append(errs, err)
		}
	}
	for _, id := range households {
		if _, err := s.syncHousehold(ctx, id); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// syncResource rereads one resource into the engine and the published
// copies: upserted while it is published, removed otherwise. published
// tells whether the engine holds it now; false too before the first load.
func (s *Service) syncResource(ctx context.Context, resourceID int64) (published bool, err error) {
	s.syncing.Lock()
	defer s.syncing.Unlock()
	if s.missed != nil {
		s.missed.noteResource(resourceID)
	}
	engine := s.current()
	if engine == nil {
		return false, nil
	}
	return s.applyResource(ctx, engine, resourceID)
}

// applyResource is syncResource for a caller that holds s.syncing.
func (s *Service) applyResource(ctx context.Context, engine *matching.Engine, resourceID int64) (bool, error) {
	r, err := s.catalog.LoadResource(ctx, resourceID)
	if aidhub.ErrorCode(err) == aidhub.ENOTFOUND {
		r, err = &catalog.Resource{ID: resourceID}, nil // gone: removed below like any unpublished one
	}
	if err != nil {
		return false, fmt.Errorf("matcher: sync resource %d: %w", resourceID, err)
	}
	if r.Status != catalog.Published {
		engine.Remove(resourceID)
		s.published.Delete(resourceID)
		return false, nil
	}
	if err := engine.Upsert(engineResource(r)); err != nil {
		return false, fmt.Errorf("matcher: sync resource %d: %w: %w", resourceID, errCatalogBehind, err)
	}
	s.published.Store(resourceID, r)
	return true, nil
}

// syncHousehold rereads one household's open needs into the need index
// and returns them; none before the first load.
func (s *Service) syncHousehold(ctx context.Context, householdID int64) ([]matching.Need, error) {
	s.syncing.Lock()
	defer s.syncing.Unlock()
	if s.missed != nil {
		s.missed.noteHousehold(householdID)
	}
	engine := s.current()
	if engine == nil {
		return nil, nil
	}
	s.idx.RLock()
	index, slots := s.index, s.slots
	s.idx.RUnlock()
	return s.applyHousehold(ctx, engine, index, slots, householdID)
}

// applyHousehold is syncHousehold for a caller that holds s.syncing, into
// index and slots: the live ones (changed under s.idx), or those a load
// is building.
func (s *Service) applyHousehold(ctx context.Context, engine *matching.Engine, index *matching.NeedIndex, slots *needSlots, householdID int64) ([]matching.Need, error) {
	open, err := s.casework.HouseholdOpenNeeds(ctx, householdID)
	if err != nil {
		return nil, fmt.Errorf("matcher: sync household %d: %w", householdID, err)
	}
	fresh := engineNeeds(engine.Catalog(), open)
	s.idx.Lock() // also for an index not live yet: cheap, and always right
	defer s.idx.Unlock()
	for _, slot := range slots.removeHousehold(householdID) {
		index.Remove(slot)
	}
	for i := range fresh {
		if slot, err := index.Add(&fresh[i]); err == nil {
			slots.add(fresh[i].ID, householdID, slot)
		}
	}
	return fresh, nil
}

// replayMissed applies to a freshly loaded engine and need index, before
// they go live, what was synced into the old ones while the load read the
// store, which it may have read before those changes. The caller holds
// s.syncing.
func (s *Service) replayMissed(ctx context.Context, engine *matching.Engine, index *matching.NeedIndex, slots *needSlots, missed *Changes) error {
	resources, households := missed.take()
	var errs []error
	for _, id := range resources {
		if _, err := s.applyResource(ctx, engine, id); err != nil && !errors.Is(err, errCatalogBehind) {
			errs = append(errs, err)
		}
	}
	for _, id := range households {
		if _, err := s.applyHousehold(ctx, engine, index, slots, id); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
