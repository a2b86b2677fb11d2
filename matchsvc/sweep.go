package matchsvc

import (
	"context"
	"fmt"
	"runtime"
	"time"

	"github.com/uptrace/bun"

	"github.com/aidhub/aidhub"
	"github.com/aidhub/aidhub/matching"
)

// NeedMatch is a row of need_matches: the best resource of an open need
// as of the last sweep.
type NeedMatch struct {
	bun.BaseModel `bun:"table:need_matches,alias:nm"`

	NeedID     int64 `bun:",pk"`
	ResourceID int64
	Score      float64
	SweptAt    time.Time
}

// SweepProgress reports the sweep's phases, "load" (needs read of about
// total), "match" and "write": each from 0 of its total when it starts,
// even when the total is 0, to its last count when it ends.
type SweepProgress func(phase string, done, total int)

// SweepResult is what a sweep did.
type SweepResult struct {
	Stats              matching.SweepStats
	Load, Match, Write time.Duration
}

// Sweep matches every open need against the published resources, writes
// each need's best match to need_matches (replacing the last sweep's) and
// returns the watchlist counts.
func (s *Service) Sweep(ctx context.Context, progress SweepProgress) (_ *SweepResult, err error) {
	defer s.timed(TimingSweep, time.Now(), &err)
	if progress == nil {
		progress = func(string, int, int) {}
	}
	engine, err := s.Engine(ctx)
	if err != nil {
		return nil, err
	}
	res := &SweepResult{}
	start := time.Now()
	pop, err := s.LoadPopulation(ctx, engine.Catalog(), func(done, total int) { progress("load", done, total) })
	if err != nil {
		return nil, err
	}
	res.Load = time.Since(start)

	start = time.Now()
	best := make([]NeedMatch, pop.Len())
	now := s.now().UTC()
	progress("match", 0, pop.Len())
	res.Stats, err = engine.Sweep(pop, aidhub.DayOf(s.today().Time), runtime.GOMAXPROCS(0), func(i int, m *matching.Match, _ aidhub.Colour) {
		if m != nil {
			best[i] = NeedMatch{NeedID: pop.ID(i), ResourceID: m.ResourceID, Score: m.Score, SweptAt: now}
		}
	})
	if err != nil {
		return nil, err
	}
	progress("match", pop.Len(), pop.Len())
	res.Match = time.Since(start)

	start = time.Now()
	rows := best[:0]
	for _, b := range best {
		if b.NeedID != 0 {
			rows = append(rows, b)
		}
	}
	progress("write", 0, len(rows)) // the phase shows even with no match to write
	err = s.db.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewDelete().Model((*NeedMatch)(nil)).Where("1 = 1").Exec(ctx); err != nil {
			return err
		}
		for i := 0; i < len(rows); i += 1000 {
			batch := rows[i:min(i+1000, len(rows))]
			if _, err := tx.NewInsert().Model(&batch).Exec(ctx); err != nil {
				return err
			}
			progress("write", i+len(batch), len(rows))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("matcher: write sweep results: %w", err)
	}
	res.Write = time.Since(start)
	return res, nil
}
