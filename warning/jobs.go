package warning

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/riverqueue/river"

	"github.com/aidhub/aidhub/db"
	"github.com/aidhub/aidhub/jobs"
)

// Queue is the River queue of early warning.
const Queue = "warning"

// EvaluateArgs asks for the evaluation of households that got new signals.
type EvaluateArgs struct {
	HouseholdIDs []int64 `json:"householdIds"`
}

// Kind implements river.JobArgs.
func (EvaluateArgs) Kind() string { return "warning.evaluate" }

// InsertOpts implements river.JobArgsWithInsertOpts.
func (EvaluateArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{Queue: Queue} }

// JobOutbox queues the evaluation in the transaction that stored the
// signals.
type JobOutbox struct {
	Jobs *jobs.Client
}

// evaluateChunk bounds the households of one job, so one large import is
// many short jobs that other work can pass.
const evaluateChunk = 500

// SignalsRecorded implements Outbox.
func (o JobOutbox) SignalsRecorded(ctx context.Context, u db.Unit, householdIDs []int64) error {
	// One statement for all the chunks: an import's batch of 5,000
	// signals names thousands of households.
	var params []river.InsertManyParams
	for chunk := range slices.Chunk(householdIDs, evaluateChunk) {
		params = append(params, river.InsertManyParams{Args: EvaluateArgs{HouseholdIDs: chunk}})
	}
	if len(params) == 0 {
		return nil
	}
	if _, err := o.Jobs.InsertManyTx(ctx, u.Tx().Tx, params); err != nil {
		return fmt.Errorf("warning: queue evaluation: %w", err)
	}
	return nil
}

var _ Outbox = JobOutbox{}

// EvaluateWorker evaluates the households of an EvaluateArgs.
type EvaluateWorker struct {
	river.WorkerDefaults[EvaluateArgs]
	Service *Service
}

// Work implements river.Worker.
func (w *EvaluateWorker) Work(ctx context.Context, job *river.Job[EvaluateArgs]) error {
	_, err := w.Service.EvaluateHouseholds(ctx, job.Args.HouseholdIDs)
	return err
}

// CalibrateArgs asks for the scheduled calibration of the current month.
type CalibrateArgs struct{}

// Kind implements river.JobArgs.
func (CalibrateArgs) Kind() string { return "warning.calibrate" }

// CalibrateWorker runs the scheduled calibration.
type CalibrateWorker struct {
	river.WorkerDefaults[CalibrateArgs]
	Service *Service
}

// Work implements river.Worker.
func (w *CalibrateWorker) Work(ctx context.Context, _ *river.Job[CalibrateArgs]) error {
	_, err := w.Service.CalibrateScheduled(ctx)
	return err
}

// Timeout implements river.Worker: a city's calibration reads every
// household and its year of signals.
func (w *CalibrateWorker) Timeout(*river.Job[CalibrateArgs]) time.Duration { return 30 * time.Minute }

// CalibrateJob calibrates the thresholds every day (a new month's first run
// makes its thresholds; later runs take in late signals), once per period
// whichever replica leads.
func CalibrateJob(every time.Duration) *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(every), func() (river.JobArgs, *river.InsertOpts) {
		return CalibrateArgs{}, &river.InsertOpts{Queue: Queue, UniqueOpts: river.UniqueOpts{ByPeriod: every}}
	}, &river.PeriodicJobOpts{RunOnStart: true})
}
