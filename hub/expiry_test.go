package hub_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aidhub/aidhub"
	"github.com/aidhub/aidhub/audit"
	"github.com/aidhub/aidhub/catalog"
	"github.com/aidhub/aidhub/db"
	"github.com/aidhub/aidhub/db/dbtest"
	"github.com/aidhub/aidhub/hub"
	"github.com/aidhub/aidhub/search/searchtest"
)

// A hub started after a resource's last day expires it at once (the job
// runs at start, not only at midnight), and the change reaches the index
// through the outbox like any other.
func TestExpiry_RunsAtStart(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		var now atomic.Int64
		now.Store(fixedNow().UnixNano())
		clock := func() time.Time { return time.Unix(0, now.Load()).UTC() }
		idx := searchtest.Bleve(t)
		open := func() *hub.Hub {
			t.Helper()
			h, err := hub.New(ctx, d, hub.Config{Index: idx, Now: clock, DataDir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			if err := h.Start(ctx); err != nil {
				t.Fatal(err)
			}
			return h
		}
		stop := func(h *hub.Hub) {
			h.DB, h.Index = nil, nil // the test's, closed by dbtest and searchtest
			if err := h.Close(); err != nil {
				t.Error(err)
			}
		}

		h := open()
		org := newOrg(t, h, "重庆市慈善总会")
		r := newResource(t, h, org, "困难家庭学生助学金")
		last, err := aidhub.ParseDate("2026-11-28") // fixedNow's date
		if err != nil {
			t.Fatal(err)
		}
		if _, err := h.Catalog.UpdateResource(admin, r.ID, nil, catalog.ResourcePatch{ValidUntil: aidhub.Some(last)}); err != nil {
			t.Fatal(err)
		}
		if _, err := h.Catalog.PublishResource(admin, r.ID, nil); err != nil {
			t.Fatal(err)
		}
		converged(t, h, 10*time.Second)
		if got := indexed(t, h.Index); len(got) != 1 {
			t.Fatalf("indexed %v, want the published resource", got)
		}
		stop(h)

		now.Store(fixedNow().AddDate(0, 0, 1).UnixNano()) // the day after its last
		h = open()
		defer stop(h)
		deadline := time.Now().Add(10 * time.Second)
		for {
			got, err := h.Catalog.LoadResource(ctx, r.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.Status == catalog.Expired {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("status %s 10 s after a start past its last day, want EXPIRED", got.Status)
			}
			time.Sleep(50 * time.Millisecond)
		}
		converged(t, h, 10*time.Second)
		if got := indexed(t, h.Index); len(got) != 0 {
			t.Fatalf("an expired resource is still indexed: %v", got)
		}
		entries, err := audit.New(d, clock).Entries(ctx, "Resource", r.ID)
		if err != nil || len(entries) == 0 || entries[len(entries)-1].Action != "expiring a resource" {
			t.Fatalf("audit entries %+v, %v", entries, err)
		}
	})
}
