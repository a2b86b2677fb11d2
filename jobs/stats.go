package jobs

import (
	"context"
	"fmt"
	"time"

	"github.com/aidhub/aidhub/db"
)

// QueueStat is what waits in one queue for one kind of job in one state.
type QueueStat struct {
	Queue, Kind string
	// State is available (due, waiting for a worker), retryable (failed,
	// waiting for its next attempt) or running.
	State string
	Count int64
	// OldestDue is how long the oldest job has been due (now less its
	// scheduled_at; zero when none is due yet); OldestCreated how long ago
	// the oldest was queued.
	OldestDue, OldestCreated time.Duration
}

// QueueStats reads River's job table for the jobs not yet done, by queue,
// kind and state, for the metrics. Ages are by the database's clock, the
// one River schedules by.
func QueueStats(ctx context.Context, d *db.DB) ([]QueueStat, error) {
	age := func(col string) string {
		if d.IsPostgres() {
			return "EXTRACT(EPOCH FROM now() - min(" + col + "))"
		}
		return "(julianday('now') - julianday(min(" + col + "))) * 86400.0"
	}
	q := "SELECT queue, kind, state, count(*), " + age("scheduled_at") + ", " + age("created_at") +
		" FROM river_job WHERE state IN ('available', 'retryable', 'running') GROUP BY queue, kind, state ORDER BY queue, kind, state"
	rows, err := d.QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("jobs: queue stats: %w", err)
	}
	defer rows.Close()
	var out []QueueStat
	for rows.Next() {
		var s QueueStat
		var due, created float64
		if err := rows.Scan(&s.Queue, &s.Kind, &s.State, &s.Count, &due, &created); err != nil {
			return nil, fmt.Errorf("jobs: queue stats: %w", err)
		}
		s.OldestDue, s.OldestCreated = seconds(due), seconds(created)
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("jobs: queue stats: %w", err)
	}
	return out, nil
}

// seconds is a non-negative duration: a job scheduled for later is not
// late.
func seconds(s float64) time.Duration {
	if s <= 0 {
		return 0
	}
	return time.Duration(s * float64(time.Second))
}
