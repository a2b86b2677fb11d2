// Package jobs runs the hub's durable background work on River, over the
// hub's own database: PostgreSQL through database/sql, or SQLite. Jobs are
// inserted in the same transaction as the change that calls for them.
package jobs

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"

	"github.com/aidhub/aidhub/db"
)

// Client is a River client over database/sql transactions.
type Client = river.Client[*sql.Tx]

func driver(d *db.DB) riverdriver.Driver[*sql.Tx] {
	if d.IsPostgres() {
		return riverdatabasesql.New(d.DB.DB)
	}
	return riversqlite.New(d.DB.DB)
}

// Migrate brings River's own tables up to date, and on PostgreSQL the
// clients' leases (see Runner). River keeps its own migration history
// (river_migration); the hub's SQL never touches it.
func Migrate(ctx context.Context, d *db.DB, logs io.Writer) error {
	m, err := rivermigrate.New(driver(d), &rivermigrate.Config{Logger: logger(logs)})
	if err != nil {
		return fmt.Errorf("jobs: migrator: %w", err)
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("jobs: migrate River tables: %w", err)
	}
	return migrateLease(ctx, d)
}

func logger(w io.Writer) *slog.Logger {
	if w == nil {
		w = io.Discard
	}
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// Config configures a client.
type Config struct {
	// Workers to run; nil makes an insert-only client (for commands that
	// queue work for a running hub).
	Workers *river.Workers
	// Queues and their concurrency; ignored without Workers.
	Queues map[string]river.QueueConfig
	// Logs receives River's warnings as JSON lines.
	Logs io.Writer
	// MaxRetryDelay caps the backoff between attempts (default 1 minute).
	MaxRetryDelay time.Duration
	// Periodic jobs the leader inserts on schedule.
	Periodic []*river.PeriodicJob
}

// NewClient returns a River client over d.
func NewClient(d *db.DB, cfg Config) (*Client, error) {
	rc := &river.Config{
		Logger:      logger(cfg.Logs),
		RetryPolicy: &backoff{max: cfg.MaxRetryDelay},
		MaxAttempts: 1000, // retry for days: a lost index update is worse than a late one
	}
	if cfg.Workers != nil {
		rc.Workers = cfg.Workers
		rc.Queues = cfg.Queues
		// No LISTEN over database/sql: poll, briefly.
		rc.PollOnly = true
		rc.FetchPollInterval = 100 * time.Millisecond
		rc.FetchCooldown = 20 * time.Millisecond
		rc.JobTimeout = 2 * time.Minute
		// The backstop for a job hung inside a live process; the jobs of
		// a dead one are retried at once by Runner.
		rc.RescueStuckJobsAfter = 5 * time.Minute
		rc.PeriodicJobs = cfg.Periodic
	}
	c, err := river.NewClient(driver(d), rc)
	if err != nil {
		return nil, fmt.Errorf("jobs: client: %w", err)
	}
	return c, nil
}

// backoff retries quickly at first and caps the wait, with jitter, so a
// backend that comes back is caught up within seconds, not River's default
// hours.
type backoff struct{ max time.Duration }

func (b *backoff) NextRetry(job *rivertype.JobRow) time.Time {
	max := b.max
	if max <= 0 {
		max = time.Minute
	}
	wait := 200 * time.Millisecond << min(len(job.Errors), 16)
	if wait > max || wait <= 0 {
		wait = max
	}
	wait = wait/2 + time.Duration(rand.Int64N(int64(wait/2)+1))
	return time.Now().Add(wait)
}
