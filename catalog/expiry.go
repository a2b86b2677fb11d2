package catalog

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"
	"github.com/uptrace/bun"

	"github.com/aidhub/aidhub"
	"github.com/aidhub/aidhub/auth"
)

// errNoLongerExpiring is what expireOne's change returns when the resource
// was edited (extended, closed) between the search and the change.
var errNoLongerExpiring = errors.New("no longer expiring")

// ExpireResources moves every PUBLISHED or PAUSED resource whose validity
// ended before today to EXPIRED and returns how many it moved. Each goes
// through the ordinary change path: the version moves on, the audit log
// records "expiring a resource", and the outboxes hear of it in the same
// transaction, so search drops it and matching re-matches. Running it
// again moves nothing. It acts as the hub itself (auth.System).
func (s *Service) ExpireResources(ctx context.Context) (int, error) {
	ctx = auth.WithPrincipal(ctx, auth.System)
	today := s.today()
	var ids []int64
	err := s.db.NewSelect().Model((*Resource)(nil)).Column("id").
		Where("r.status IN (?) AND r.valid_until IS NOT NULL AND r.valid_until < ?", bun.List([]Status{Published, Paused}), today).
		OrderExpr("r.id").Scan(ctx, &ids)
	if err != nil {
		return 0, fmt.Errorf("catalog: find resources past their validity on %s: %w", today, err)
	}
	n := 0
	for _, id := range ids {
		moved, err := s.expireOne(ctx, id, today)
		if err != nil {
			return n, err
		}
		if moved {
			n++
		}
	}
	return n, nil
}

// expireOne moves one resource to EXPIRED if it still should be. A
// concurrent edit (a referral taking capacity moves the version too) is
// retried, so a busy resource does not stay public until tomorrow's run.
func (s *Service) expireOne(ctx context.Context, id int64, today aidhub.Date) (bool, error) {
	const attempts = 5
	for i := 0; ; i++ {
		_, err := s.change(ctx, id, nil, "expiring a resource", func(r *Resource, _ *Catalog) error {
			if (r.Status != Published && r.Status != Paused) || !r.Expired(today) {
				return errNoLongerExpiring
			}
			r.Status = Expired
			return nil
		})
		switch {
		case err == nil:
			return true, nil
		case errors.Is(err, errNoLongerExpiring):
			return false, nil
		case aidhub.ErrorCode(err) == aidhub.ECONFLICT && i+1 < attempts:
			continue
		default:
			return false, fmt.Errorf("catalog: expire resource %d (validity ended before %s): %w", id, today, err)
		}
	}
}

// ExpireArgs is the job that moves resources whose validity has ended to
// EXPIRED.
type ExpireArgs struct{}

// Kind implements river.JobArgs.
func (ExpireArgs) Kind() string { return "catalog.expire_resources" }

// ExpireWorker runs ExpireResources.
type ExpireWorker struct {
	river.WorkerDefaults[ExpireArgs]
	Service *Service
}

// Work implements river.Worker.
func (w *ExpireWorker) Work(ctx context.Context, _ *river.Job[ExpireArgs]) error {
	_, err := w.Service.ExpireResources(ctx)
	return err
}

// ExpiryJob schedules the expiry once at start (a hub that was down at
// midnight must not keep offering what ended meanwhile) and then daily,
// just after midnight in China, when validity windows end. The minute's
// margin covers clocks a little behind between replicas.
func ExpiryJob() *river.PeriodicJob {
	return river.NewPeriodicJob(dailyAt{after: time.Minute}, func() (river.JobArgs, *river.InsertOpts) {
		return ExpireArgs{}, &river.InsertOpts{Queue: river.QueueDefault}
	}, &river.PeriodicJobOpts{RunOnStart: true})
}

// dailyAt is a River schedule firing every day at midnight China time plus
// after.
type dailyAt struct{ after time.Duration }

// Next implements river.PeriodicSchedule.
func (d dailyAt) Next(t time.Time) time.Time {
	c := t.In(chinaTime)
	next := time.Date(c.Year(), c.Month(), c.Day(), 0, 0, 0, 0, chinaTime).Add(d.after)
	if !next.After(t) {
		next = time.Date(c.Year(), c.Month(), c.Day()+1, 0, 0, 0, 0, chinaTime).Add(d.after)
	}
	return next
}
