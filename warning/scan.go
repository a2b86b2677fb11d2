package warning

import (
	"context"

	"golang.org/x/sync/errgroup"

	"github.com/aidhub/aidhub/casework"
)

// scanWorkers is how many ranges of households a pass reads at once on
// PostgreSQL: reading a batch is mostly the database answering while this
// process waits, then this process decoding and evaluating while the
// database waits; two keep both busy on a 2-core machine. SQLite reads
// one range at a time (one file, one writer).
const scanWorkers = 2

// scanHouseholds hands fn every household, in batches, reading several
// ranges of IDs at once; fn is called from several goroutines.
func (s *Service) scanHouseholds(ctx context.Context, fn func([]casework.MonitoredHousehold) error) error {
	workers := scanWorkers
	if !s.db.IsPostgres() {
		workers = 1
	}
	if workers == 1 {
		return s.casework.ScanMonitoredHouseholds(ctx, fn)
	}
	lo, hi, err := s.casework.HouseholdIDBounds(ctx)
	if err != nil || hi == 0 {
		return err
	}
	// Ranges of a few batches each, so the workers finish together.
	span := max((hi-lo+1)/int64(workers*16), 20_000)
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(workers)
	for from := lo - 1; from < hi; from += span {
		to := min(from+span, hi)
		g.Go(func() error { return s.casework.ScanMonitoredHouseholdsBetween(ctx, from, to, fn) })
	}
	return g.Wait()
}
