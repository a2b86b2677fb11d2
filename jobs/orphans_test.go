package jobs_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/rivertype"

	"github.com/aidhub/aidhub/db"
	"github.com/aidhub/aidhub/db/dbtest"
	"github.com/aidhub/aidhub/jobs"
)

type noopArgs struct{}

func (noopArgs) Kind() string { return "test.noop" }

type blockArgs struct{}

func (blockArgs) Kind() string { return "test.block" }

const otherQueue = "other" // no client here works it

// workers runs noop jobs at once and block jobs until release is closed.
func workers(release <-chan struct{}) *river.Workers {
	w := river.NewWorkers()
	river.AddWorker(w, river.WorkFunc(func(context.Context, *river.Job[noopArgs]) error { return nil }))
	river.AddWorker(w, river.WorkFunc(func(ctx context.Context, _ *river.Job[blockArgs]) error {
		select {
		case <-release:
		case <-ctx.Done():
		}
		return nil
	}))
	return w
}

func newRunner(t *testing.T, d *db.DB, release <-chan struct{}) (*jobs.Client, *jobs.Runner) {
	t.Helper()
	c, err := jobs.NewClient(d, jobs.Config{Workers: workers(release), Queues: map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 4}}})
	if err != nil {
		t.Fatal(err)
	}
	return c, jobs.NewRunner(d, c, nil)
}

// fetchAs marks up to n available jobs of queue running for a client that
// never finishes them, as a process killed after fetching would.
func fetchAs(t *testing.T, exec riverdriver.Executor, clientID, queue string, n int) []*rivertype.JobRow {
	t.Helper()
	res, err := exec.JobGetAvailable(context.Background(), &riverdriver.JobGetAvailableParams{
		ClientID: clientID, MaxAttemptedBy: 100, MaxToLock: n, Queue: queue,
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Jobs) != n {
		t.Fatalf("%s fetched %d jobs, want %d", clientID, len(res.Jobs), n)
	}
	return res.Jobs
}

func insert(t *testing.T, c *jobs.Client, args river.JobArgs, queue string) int64 {
	t.Helper()
	res, err := c.Insert(context.Background(), args, &river.InsertOpts{Queue: queue})
	if err != nil {
		t.Fatal(err)
	}
	return res.Job.ID
}

func job(t *testing.T, c *jobs.Client, id int64) *rivertype.JobRow {
	t.Helper()
	j, err := c.JobGet(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// waitFor polls cond for up to within.
func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > within {
			t.Fatalf("%s: not within %s", what, within)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return time.Since(start)
}

func orphanedError(j *rivertype.JobRow, owner string) bool {
	for _, e := range j.Errors {
		if strings.Contains(e.Error, "orphaned") && strings.Contains(e.Error, owner) {
			return true
		}
	}
	return false
}

// A process that starts finds the jobs a killed one had fetched, and its
// leadership, and takes them over at once: on SQLite because it is the only
// process, on PostgreSQL because the dead client holds no lease.
func TestRunner_RetriesOrphansAtStart(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		inserter, err := jobs.NewClient(d, jobs.Config{})
		if err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for range 3 {
			ids = append(ids, insert(t, inserter, noopArgs{}, river.QueueDefault))
		}
		exec := inserter.Driver().GetExecutor()
		fetchAs(t, exec, "killed-client", river.QueueDefault, 3)
		ttl := time.Hour
		if _, err := exec.LeaderInsert(ctx, &riverdriver.LeaderInsertParams{LeaderID: "killed-client", TTL: ttl}); err != nil {
			t.Fatal(err)
		}

		c, r := newRunner(t, d, nil)
		if err := r.Start(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { r.Stop(context.Background()) })
		took := waitFor(t, 5*time.Second, "orphans completed", func() bool {
			for _, id := range ids {
				if job(t, c, id).State != rivertype.JobStateCompleted {
					return false
				}
			}
			return true
		})
		t.Logf("orphans completed %s after start", took.Round(time.Millisecond))
		for _, id := range ids {
			j := job(t, c, id)
			if !orphanedError(j, "killed-client") || len(j.AttemptedBy) != 2 || j.AttemptedBy[1] != c.ID() {
				t.Errorf("job %d: errors %+v, attempted by %v", id, j.Errors, j.AttemptedBy)
			}
		}
		waitFor(t, 5*time.Second, "the new client leads", func() bool {
			l, err := exec.LeaderGetElectedLeader(ctx, &riverdriver.LeaderGetElectedLeaderParams{})
			return err == nil && l.LeaderID == c.ID()
		})
	})
}

// Several hubs on one PostgreSQL: a job is retried when the client that
// runs it has no live lease (none, or expired), never when it has one.
func TestRunner_LeasesDecideOnPostgres(t *testing.T) {
	d := dbtest.Postgres(t)
	ctx := context.Background()
	release := make(chan struct{})
	live, r := newRunner(t, d, release)
	if err := r.Start(ctx); err != nil {
		t.Fatal(err)
	}
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			close(release)
			r.Stop(context.Background())
		}
	})
	exec := live.Driver().GetExecutor()

	// The live client runs one job, past several renewals.
	running := insert(t, live, blockArgs{}, river.QueueDefault)
	waitFor(t, 5*time.Second, "the live client runs its job", func() bool {
		return job(t, live, running).State == rivertype.JobStateRunning
	})

	lease := func(client string, expiresIn time.Duration) {
		t.Helper()
		if _, err := d.DB.ExecContext(ctx, `INSERT INTO aidhub_job_lease (client_id, expires_at) VALUES (?, now() + ? * interval '1 millisecond')`,
			client, expiresIn.Milliseconds()); err != nil {
			t.Fatal(err)
		}
	}
	lease("expired-client", -time.Second)
	lease("other-live-client", time.Minute)
	byDead := insert(t, live, noopArgs{}, otherQueue)
	fetchAs(t, exec, "dead-client", otherQueue, 1)
	byExpired := insert(t, live, noopArgs{}, otherQueue)
	fetchAs(t, exec, "expired-client", otherQueue, 1)
	byOtherLive := insert(t, live, noopArgs{}, otherQueue)
	fetchAs(t, exec, "other-live-client", otherQueue, 1)

	// Nobody works otherQueue: a retried job waits there, available.
	took := waitFor(t, jobs.LeaseTTL, "jobs of dead clients retried", func() bool {
		return job(t, live, byDead).State == rivertype.JobStateAvailable && job(t, live, byExpired).State == rivertype.JobStateAvailable
	})
	t.Logf("retried %s after the dead clients' jobs were fetched", took.Round(time.Millisecond))
	if j := job(t, live, byDead); !orphanedError(j, "dead-client") {
		t.Errorf("errors %+v", j.Errors)
	}
	time.Sleep(3 * jobs.LeaseRenew) // several sweeps more
	if s := job(t, live, running).State; s != rivertype.JobStateRunning {
		t.Errorf("the live client's job is %s", s)
	}
	if s := job(t, live, byOtherLive).State; s != rivertype.JobStateRunning {
		t.Errorf("the job of a client with a live lease is %s", s)
	}
	leases := func() []string {
		var ids []string
		if err := d.NewSelect().TableExpr("aidhub_job_lease").Column("client_id").Order("client_id").Scan(ctx, &ids); err != nil {
			t.Fatal(err)
		}
		return ids
	}
	if got := strings.Join(leases(), ","); got != strings.Join([]string{live.ID(), "other-live-client"}, ",") &&
		got != strings.Join([]string{"other-live-client", live.ID()}, ",") {
		t.Errorf("leases %s: the expired one stays or a live one went", got)
	}

	// A clean stop gives the lease up.
	close(release)
	stopped = true
	if err := r.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if s := job(t, live, running).State; s != rivertype.JobStateCompleted {
		t.Errorf("the live client's job is %s after its stop", s)
	}
	if got := leases(); len(got) != 1 || got[0] != "other-live-client" {
		t.Errorf("leases after stop: %v", got)
	}
}
