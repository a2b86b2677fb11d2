package matchsvc

import (
	"context"

	"github.com/aidhub/aidhub/matching"
)

// HoldLoading takes the load lock as a reload in progress does, until the
// returned function is called.
func (s *Service) HoldLoading() (release func()) {
	s.loading.Lock()
	return s.loading.Unlock
}

// OpenNeedIDs returns the IDs of the open needs as a full load hands them
// over, reading ranges of chunk IDs, workers at a time; with workers 0,
// as one sequential read.
func (s *Service) OpenNeedIDs(ctx context.Context, workers int, chunk int64) ([]int64, error) {
	cat, err := s.EngineCatalog(ctx)
	if err != nil {
		return nil, err
	}
	var ids []int64
	collect := func(ns []matching.Need) error {
		for _, n := range ns {
			ids = append(ids, n.ID)
		}
		return nil
	}
	err = s.loadAllNeeds(ctx, cat, workers, chunk, collect)
	return ids, err
}

// NoteResource and NoteHousehold note a change in ctx's Changes, as the
// Outbox does.
func NoteResource(ctx context.Context, id int64)  { changesFrom(ctx).noteResource(id) }
func NoteHousehold(ctx context.Context, id int64) { changesFrom(ctx).noteHousehold(id) }

// Take returns and forgets what c noted.
func (c *Changes) Take() (resources, households []int64) { return c.take() }

// Loaded tells whether the engine has been loaded.
func (s *Service) Loaded() bool { return s.loaded() }

// OnLoadRead makes every load call f once it has read the store, before
// it swaps in what it built.
func (s *Service) OnLoadRead(f func()) { s.loadRead = f }
