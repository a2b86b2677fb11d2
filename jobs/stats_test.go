package jobs_test

import (
	"context"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/aidhub/aidhub/db"
	"github.com/aidhub/aidhub/db/dbtest"
	"github.com/aidhub/aidhub/jobs"
)

// TestQueueStats counts what waits by queue, kind and state, with the
// oldest due job's age, and leaves out jobs scheduled for later.
func TestQueueStats(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		c, err := jobs.NewClient(d, jobs.Config{})
		if err != nil {
			t.Fatal(err)
		}
		for range 3 {
			insert(t, c, noopArgs{}, "q1")
		}
		insert(t, c, blockArgs{}, "q2")
		if _, err := c.Insert(ctx, noopArgs{}, &river.InsertOpts{Queue: "q1", ScheduledAt: time.Now().Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		fetchAs(t, c.Driver().GetExecutor(), "some-client", "q2", 1)
		time.Sleep(50 * time.Millisecond)

		stats, err := jobs.QueueStats(ctx, d)
		if err != nil {
			t.Fatal(err)
		}
		if len(stats) != 2 {
			t.Fatalf("stats %+v, want q1 available and q2 running", stats)
		}
		q1, q2 := stats[0], stats[1]
		if q1.Queue != "q1" || q1.Kind != "test.noop" || q1.State != "available" || q1.Count != 3 {
			t.Errorf("q1: %+v", q1)
		}
		if q1.OldestDue <= 0 || q1.OldestDue > time.Minute || q1.OldestCreated <= 0 || q1.OldestCreated > time.Minute {
			t.Errorf("q1 ages: due %v, created %v; want a little over 50ms", q1.OldestDue, q1.OldestCreated)
		}
		if q2.Queue != "q2" || q2.Kind != "test.block" || q2.State != "running" || q2.Count != 1 {
			t.Errorf("q2: %+v", q2)
		}
	})
}
