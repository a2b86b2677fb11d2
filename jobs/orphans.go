package jobs

// Jobs orphaned by a dead process.
//
// River marks a job `running` when a client fetches it and appends the
// client's ID (river.Config.ID, Client.ID) to its attempted_by; only that
// client ever finishes it. When the process dies (kill -9, OOM, power), the
// row stays `running` until River's JobRescuer, on the leader, finds it older
// than RescueStuckJobsAfter (5 minutes here, an hour by default). Open-source
// River does not know which clients are alive: river_leader holds a lease
// for the one leader only, and its river_client table was never used and is
// dropped by River's migration 7. What River lacks is written here:
//
//   - SQLite (the embedded default) has one serving process per data
//     folder, so every job `running` when the workers start was left by a
//     process that has died: each is retried before the client fetches
//     anything.
//   - PostgreSQL may have several hubs on one database. Each worker client
//     holds a lease, a row in aidhub_job_lease that it renews every
//     LeaseRenew and that lasts LeaseTTL, both by the database's clock. At
//     start and at every renewal each client retries the running jobs whose
//     last attempt belongs to a client without a live lease. A crashed
//     hub's jobs are retried within LeaseTTL of the crash, by the restarted
//     hub or by any other one. A worker client without a lease counts as
//     dead, so every hub working one database must run this code (during a
//     rolling upgrade an older hub's jobs may run twice).
//
// A retry is River's own rescue statement (the driver's JobRescueMany, what
// JobRescuer runs), conditioned on the job still being in the attempt that
// was judged orphaned: the job is `available` at once, keeps its place in
// line (scheduled_at), gains an error saying which client was gone and a
// river:rescue_count in its metadata. A river_leader row of a dead client is
// resigned too, so the new process leads (periodic jobs, scheduling of
// retries) at once instead of after the leader's TTL.
//
// Jobs must be idempotent, as they are anyway under River: a client alive
// but unable to renew its lease for LeaseTTL (the database stalled) may see
// a job it is running retried elsewhere. River's stuck-job rescue stays on
// as the backstop for a job hung inside a live process.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/rivertype"

	"github.com/aidhub/aidhub/db"
)

// Lease timing on PostgreSQL.
const (
	// LeaseTTL is how long a client counts as alive after its last
	// renewal: five missed renewals.
	LeaseTTL = 5 * time.Second
	// LeaseRenew is how often a client renews its lease and looks for
	// orphans.
	LeaseRenew = time.Second
)

const leaseTable = "aidhub_job_lease"

// migrateLease creates the lease table (PostgreSQL only; SQLite needs none).
func migrateLease(ctx context.Context, d *db.DB) error {
	if !d.IsPostgres() {
		return nil
	}
	_, err := d.DB.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS `+leaseTable+` (
		client_id text PRIMARY KEY,
		expires_at timestamptz NOT NULL
	)`)
	if err != nil {
		return fmt.Errorf("jobs: create %s: %w", leaseTable, err)
	}
	return nil
}

// Runner starts and stops a worker client so that the jobs a dead process
// left running are retried at once (see the top of this file).
type Runner struct {
	d      *db.DB
	c      *Client
	exec   riverdriver.Executor
	log    *slog.Logger
	cancel context.CancelFunc
	done   chan struct{}
	once   sync.Once
}

// NewRunner returns a runner of c, a client with workers over d.
func NewRunner(d *db.DB, c *Client, logs io.Writer) *Runner {
	return &Runner{d: d, c: c, exec: c.Driver().GetExecutor(), log: logger(logs)}
}

// Start retries the orphaned jobs, takes the client's lease (PostgreSQL)
// and starts the client; on PostgreSQL it then renews the lease and retries
// new orphans until Stop.
func (r *Runner) Start(ctx context.Context) error {
	if r.d.IsPostgres() {
		if err := r.renew(ctx); err != nil {
			return err
		}
	}
	if _, err := r.sweep(ctx); err != nil {
		return err
	}
	if err := r.c.Start(ctx); err != nil {
		return err
	}
	if r.d.IsPostgres() {
		kctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		r.cancel, r.done = cancel, make(chan struct{})
		go r.keep(kctx)
	}
	return nil
}

// Stop stops the client, waiting for its jobs until ctx ends while the
// lease is still renewed, then gives the lease up: a job the client could
// not finish in time is retried elsewhere at once.
func (r *Runner) Stop(ctx context.Context) error {
	err := r.c.Stop(ctx)
	r.once.Do(func() {
		if r.cancel == nil {
			return
		}
		r.cancel()
		<-r.done
		rctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if _, derr := r.d.DB.ExecContext(rctx, `DELETE FROM `+leaseTable+` WHERE client_id = ?`, r.c.ID()); derr != nil {
			r.log.Warn("jobs: giving up the lease", "error", derr.Error())
		}
	})
	return err
}

func (r *Runner) keep(ctx context.Context) {
	defer close(r.done)
	t := time.NewTicker(LeaseRenew)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		err := r.renew(ctx)
		if err == nil {
			_, err = r.sweep(ctx)
		}
		if err != nil && ctx.Err() == nil {
			r.log.Warn("jobs: lease", "error", err.Error())
		}
	}
}

// renew extends the client's lease by LeaseTTL from the database's now,
// making it anew if it was swept away meanwhile.
func (r *Runner) renew(ctx context.Context) error {
	_, err := r.d.DB.ExecContext(ctx, `INSERT INTO `+leaseTable+` (client_id, expires_at)
		VALUES (?, now() + ? * interval '1 millisecond')
		ON CONFLICT (client_id) DO UPDATE SET expires_at = EXCLUDED.expires_at`,
		r.c.ID(), LeaseTTL.Milliseconds())
	if err != nil {
		return fmt.Errorf("jobs: renew the lease of %s: %w", r.c.ID(), err)
	}
	return nil
}

// alive returns the clients alive now: on SQLite this one only, on
// PostgreSQL those with a live lease.
func (r *Runner) alive(ctx context.Context) (map[string]bool, error) {
	live := map[string]bool{r.c.ID(): true}
	if !r.d.IsPostgres() {
		return live, nil
	}
	var ids []string
	if err := r.d.NewSelect().TableExpr(leaseTable).Column("client_id").Where("expires_at > now()").Scan(ctx, &ids); err != nil {
		return nil, fmt.Errorf("jobs: read leases: %w", err)
	}
	for _, id := range ids {
		live[id] = true
	}
	return live, nil
}

// sweep retries every running job whose client is not alive and returns
// how many it retried; it also resigns a dead client's leadership and, on
// PostgreSQL, deletes expired leases.
func (r *Runner) sweep(ctx context.Context) (int, error) {
	// Jobs first, then leases: a job fetched after the jobs were read is not
	// judged, and a job read here was fetched by a client whose lease
	// already existed (it is taken before the client starts).
	var running []*rivertype.JobRow
	for after := int64(0); ; {
		page, err := r.exec.JobGetStuck(ctx, &riverdriver.JobGetStuckParams{
			AfterID: after, Max: 1000, Schema: r.c.Schema(), StuckHorizon: time.Now().Add(24 * time.Hour),
		})
		if err != nil {
			return 0, fmt.Errorf("jobs: read running jobs: %w", err)
		}
		running = append(running, page...)
		if len(page) < 1000 {
			break
		}
		after = page[len(page)-1].ID
	}
	live, err := r.alive(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, job := range running {
		owner := ""
		if k := len(job.AttemptedBy); k > 0 {
			owner = job.AttemptedBy[k-1]
		}
		if live[owner] || job.AttemptedAt == nil {
			continue
		}
		if err := r.retry(ctx, job, owner); err != nil {
			return n, err
		}
		n++
	}
	if n > 0 {
		r.log.Warn("jobs: retried jobs left running by clients that are gone", "jobs", n)
	}
	if err := r.resignDeadLeader(ctx, live); err != nil {
		return n, err
	}
	if r.d.IsPostgres() {
		// Dead is "no live lease": an expired row says nothing more.
		if _, err := r.d.DB.ExecContext(ctx, `DELETE FROM `+leaseTable+` WHERE expires_at < now()`); err != nil {
			return n, fmt.Errorf("jobs: delete expired leases: %w", err)
		}
	}
	return n, nil
}

// retry makes job available again, if it is still in the attempt that was
// judged orphaned, with River's rescue statement.
func (r *Runner) retry(ctx context.Context, job *rivertype.JobRow, owner string) error {
	now := time.Now().UTC()
	msg, err := json.Marshal(rivertype.AttemptError{
		At: now, Attempt: max(job.Attempt, 0),
		Error: fmt.Sprintf("orphaned: client %q, which ran this attempt, is gone; retried at once", owner),
	})
	if err != nil {
		return err
	}
	state, finalized := rivertype.JobStateAvailable, (*time.Time)(nil)
	if job.Attempt >= job.MaxAttempts {
		state, finalized = rivertype.JobStateDiscarded, &now
	}
	_, err = r.exec.JobRescueMany(ctx, &riverdriver.JobRescueManyParams{
		ID:          []int64{job.ID},
		Error:       [][]byte{msg},
		FinalizedAt: []*time.Time{finalized},
		ScheduledAt: []time.Time{job.ScheduledAt},
		Schema:      r.c.Schema(),
		State:       []string{string(state)},
		// Only this attempt: a job fetched again meanwhile was attempted
		// later (SQLite keeps milliseconds).
		StuckHorizon: job.AttemptedAt.Add(time.Millisecond),
	})
	if err != nil {
		return fmt.Errorf("jobs: retry orphaned job %d: %w", job.ID, err)
	}
	return nil
}

// resignDeadLeader deletes River's leader row when its client is not alive,
// so that a live client is elected at its next attempt.
func (r *Runner) resignDeadLeader(ctx context.Context, live map[string]bool) error {
	leader, err := r.exec.LeaderGetElectedLeader(ctx, &riverdriver.LeaderGetElectedLeaderParams{Schema: r.c.Schema()})
	if errors.Is(err, rivertype.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("jobs: read the leader: %w", err)
	}
	if live[leader.LeaderID] {
		return nil
	}
	if _, err := r.exec.LeaderResign(ctx, &riverdriver.LeaderResignParams{
		ElectedAt: leader.ElectedAt, LeaderID: leader.LeaderID, LeadershipTopic: "river_leadership", Schema: r.c.Schema(),
	}); err != nil {
		return fmt.Errorf("jobs: resign dead leader %s: %w", leader.LeaderID, err)
	}
	return nil
}
