package casework

import (
	"context"
	"time"

	"github.com/riverqueue/river"
)

// ExpireArgs is the periodic job that expires referrals nobody answered.
type ExpireArgs struct{}

// Kind implements river.JobArgs.
func (ExpireArgs) Kind() string { return "casework.expire_referrals" }

// ExpireWorker runs ExpireReferrals.
type ExpireWorker struct {
	river.WorkerDefaults[ExpireArgs]
	Service *Service
}

// Work implements river.Worker.
func (w *ExpireWorker) Work(ctx context.Context, _ *river.Job[ExpireArgs]) error {
	_, err := w.Service.ExpireReferrals(ctx)
	return err
}

// ExpiryJob schedules the expiry every interval and once at start.
func ExpiryJob(every time.Duration) *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(every), func() (river.JobArgs, *river.InsertOpts) {
		return ExpireArgs{}, &river.InsertOpts{Queue: river.QueueDefault, UniqueOpts: river.UniqueOpts{ByPeriod: every}}
	}, &river.PeriodicJobOpts{RunOnStart: true})
}
