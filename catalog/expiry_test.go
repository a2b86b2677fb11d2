package catalog_test

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/aidhub/aidhub"
	"github.com/aidhub/aidhub/audit"
	"github.com/aidhub/aidhub/catalog"
	"github.com/aidhub/aidhub/db"
	"github.com/aidhub/aidhub/db/dbtest"
	"github.com/aidhub/aidhub/regions"
	"github.com/aidhub/aidhub/search"
	"github.com/aidhub/aidhub/search/searchtest"
)

// recordingOutbox remembers the resources it heard of.
type recordingOutbox struct{ ids []int64 }

func (o *recordingOutbox) ResourceChanged(_ context.Context, _ db.Unit, id int64) error {
	o.ids = append(o.ids, id)
	return nil
}

func (o *recordingOutbox) take() []int64 {
	out := o.ids
	o.ids = nil
	slices.Sort(out)
	return out
}

func TestService_ExpireResources(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		f := newFixture(t, d)
		// 2026-11-27 12:00 in Chongqing: the day before fixedNow.
		now := fixedNow().AddDate(0, 0, -1)
		clock := func() time.Time { return now }
		outbox := &recordingOutbox{}
		log := audit.New(d, clock)
		svc := catalog.NewService(d, regions.Chongqing(), log, clock, catalog.WithOutbox(outbox))
		idx := searchtest.Bleve(t)
		syncer := search.NewSyncer(d, svc, idx)
		indexed := func() []int64 {
			t.Helper()
			raw, err := idx.Raw(ctx)
			if err != nil {
				t.Fatal(err)
			}
			out := []int64{}
			for _, doc := range raw {
				out = append(out, int64(doc["id"].(float64)))
			}
			slices.Sort(out)
			return out
		}
		// deliver does what the search outbox's job does for each change
		// heard.
		deliver := func() {
			t.Helper()
			for _, id := range outbox.take() {
				if err := syncer.Sync(ctx, id); err != nil {
					t.Fatal(err)
				}
			}
		}
		until := func(day string) catalog.ResourcePatch {
			p := validPatch(t)
			p.ValidFrom = aidhub.Some(date(t, "2026-11-01"))
			p.ValidUntil = aidhub.Some(date(t, day))
			return p
		}
		published := func(day string) *catalog.Resource {
			t.Helper()
			return mustPublish(t, svc, f.orgA.ID, until(day))
		}
		ended := published("2026-11-27")     // valid until yesterday, once it is the 28th
		endsToday := published("2026-11-28") // valid until today
		open := published("2026-11-27")
		if _, err := svc.UpdateResource(adminCtx, open.ID, nil, catalog.ResourcePatch{ValidUntil: aidhub.Null[aidhub.Date]()}); err != nil {
			t.Fatal(err)
		}
		paused := published("2026-11-27")
		if _, err := svc.PauseResource(adminCtx, paused.ID, nil); err != nil {
			t.Fatal(err)
		}
		draft := mustCreate(t, svc, f.charityA(), 0, until("2026-11-27"))
		closed := published("2026-11-27")
		if _, err := svc.CloseResource(adminCtx, closed.ID, nil); err != nil {
			t.Fatal(err)
		}
		deliver()
		if got, want := indexed(), resourceIDs(ended, endsToday, open); !slices.Equal(got, want) {
			t.Fatalf("indexed %v before the expiry, want %v", got, want)
		}
		if n, err := svc.ExpireResources(ctx); err != nil || n != 0 {
			t.Fatalf("on the 27th: ExpireResources = %d, %v; want nothing expired", n, err)
		}

		now = fixedNow() // the 28th
		before := map[int64]*catalog.Resource{}
		for _, r := range []*catalog.Resource{ended, endsToday, open, paused, draft, closed} {
			before[r.ID] = reload(t, svc, r.ID)
		}
		n, err := svc.ExpireResources(ctx)
		if err != nil || n != 2 {
			t.Fatalf("ExpireResources = %d, %v; want 2", n, err)
		}
		heard := outbox.ids
		if got, want := sorted(heard), resourceIDs(ended, paused); !slices.Equal(got, want) {
			t.Fatalf("the outbox heard of %v, want %v", got, want)
		}
		for id, b := range before {
			got := reload(t, svc, id)
			want, version := b.Status, b.Version
			if id == ended.ID || id == paused.ID {
				want, version = catalog.Expired, b.Version+1
			}
			if got.Status != want || got.Version != version {
				t.Errorf("resource %d: %s version %d, want %s version %d", id, got.Status, got.Version, want, version)
			}
		}

		t.Run("Audited", func(t *testing.T) {
			entries, err := log.Entries(ctx, "Resource", ended.ID)
			if err != nil || len(entries) == 0 {
				t.Fatalf("entries %v, %v", entries, err)
			}
			last := entries[len(entries)-1]
			var summary map[string]any
			if err := json.Unmarshal([]byte(last.Summary), &summary); err != nil {
				t.Fatal(err)
			}
			if last.Action != "expiring a resource" || last.Role != "ADMIN" || last.TokenID != nil || summary["status"] != "EXPIRED" {
				t.Errorf("last entry %+v (summary %v)", last, summary)
			}
			if _, err := log.Verify(ctx); err != nil {
				t.Errorf("the audit chain: %v", err)
			}
		})
		t.Run("LeavesSearch", func(t *testing.T) {
			deliver()
			if got, want := indexed(), resourceIDs(endsToday, open); !slices.Equal(got, want) {
				t.Fatalf("indexed %v after the expiry, want %v", got, want)
			}
		})
		t.Run("LeavesPublicLists", func(t *testing.T) {
			for _, c := range []struct {
				name string
				ctx  context.Context
			}{{"anonymous", anonCtx}, {"donor", donorCtx}, {"case manager", caseManagerCtx}, {"other charity", f.charityB()}} {
				for _, includeExpired := range []bool{false, true} {
					got := listIDs(t, svc, c.ctx, catalog.ResourceFilter{IncludeExpired: includeExpired})
					if want := resourceIDs(endsToday, open); !slices.Equal(got, want) {
						t.Errorf("%s (includeExpired %v) lists %v, want %v", c.name, includeExpired, got, want)
					}
				}
				if _, err := svc.Resource(c.ctx, ended.ID); aidhub.ErrorCode(err) != aidhub.ENOTFOUND {
					t.Errorf("%s reads the expired resource: %v", c.name, err)
				}
			}
		})
		t.Run("OwnerSeesExpired", func(t *testing.T) {
			r, err := svc.Resource(f.charityA(), ended.ID)
			if err != nil || r.Status != catalog.Expired || !svc.Expired(r) {
				t.Fatalf("owner reads %+v, %v", r, err)
			}
			all := listIDs(t, svc, f.charityA(), catalog.ResourceFilter{})
			for _, r := range []*catalog.Resource{ended, paused, endsToday, draft} {
				if !slices.Contains(all, r.ID) {
					t.Errorf("the owner's list %v lacks resource %d", all, r.ID)
				}
			}
			got := listIDs(t, svc, f.charityA(), catalog.ResourceFilter{Statuses: []catalog.Status{catalog.Expired}})
			if want := resourceIDs(ended, paused); !slices.Equal(got, want) {
				t.Errorf("the owner's EXPIRED list %v, want %v", got, want)
			}
		})
		t.Run("Idempotent", func(t *testing.T) {
			entries := countRows(t, d, "audit_log")
			if n, err := svc.ExpireResources(ctx); err != nil || n != 0 {
				t.Fatalf("second run = %d, %v; want 0", n, err)
			}
			if ids := outbox.take(); len(ids) != 0 {
				t.Errorf("the second run told the outbox of %v", ids)
			}
			if got := countRows(t, d, "audit_log"); got != entries {
				t.Errorf("the second run wrote %d audit entries", got-entries)
			}
		})
		t.Run("EndsAtMidnightInChina", func(t *testing.T) {
			now = time.Date(2026, 11, 28, 23, 59, 59, 0, time.FixedZone("CST", 8*3600))
			if n, err := svc.ExpireResources(ctx); err != nil || n != 0 {
				t.Fatalf("at 23:59:59 on its last day: %d, %v", n, err)
			}
			if got := listIDs(t, svc, anonCtx, catalog.ResourceFilter{}); !slices.Contains(got, endsToday.ID) {
				t.Fatalf("not offered on its last day: %v", got)
			}
			now = time.Date(2026, 11, 28, 16, 0, 0, 0, time.UTC) // 00:00 on the 29th in China
			if n, err := svc.ExpireResources(ctx); err != nil || n != 1 {
				t.Fatalf("at midnight after its last day: %d, %v; want 1", n, err)
			}
			if r := reload(t, svc, endsToday.ID); r.Status != catalog.Expired {
				t.Fatalf("status %s the day after", r.Status)
			}
			outbox.take()
			now = fixedNow()
		})
		t.Run("RepublishAfterExtending", func(t *testing.T) {
			// Still ended: refused, with the reason.
			_, err := svc.PublishResource(f.charityA(), ended.ID, nil)
			wantInvalid(t, err, "")
			wantMessage(t, err, "validity ended on 2026-11-27")
			// Pausing is for published resources only.
			_, err = svc.PauseResource(f.charityA(), ended.ID, nil)
			wantCode(t, err, aidhub.ECONFLICT)
			// Another organization may not touch it.
			_, err = svc.UpdateResource(f.charityB(), ended.ID, nil, catalog.ResourcePatch{ValidUntil: aidhub.Some(date(t, "2027-03-31"))})
			wantCode(t, err, aidhub.ENOTFOUND)

			r, err := svc.UpdateResource(f.charityA(), ended.ID, nil, catalog.ResourcePatch{ValidUntil: aidhub.Some(date(t, "2027-03-31"))})
			if err != nil || r.Status != catalog.Expired {
				t.Fatalf("extending: %+v, %v; want it still EXPIRED until published", r, err)
			}
			r, err = svc.PublishResource(f.charityA(), ended.ID, &r.Version)
			if err != nil || r.Status != catalog.Published || r.PublishedAt == nil || !r.PublishedAt.Equal(fixedNow()) {
				t.Fatalf("publishing again: %+v, %v", r, err)
			}
			if got := listIDs(t, svc, anonCtx, catalog.ResourceFilter{}); !slices.Contains(got, ended.ID) {
				t.Errorf("published again but not listed: %v", got)
			}
			deliver()
			if got := indexed(); !slices.Contains(got, ended.ID) {
				t.Errorf("published again but not indexed: %v", got)
			}
			if n, err := svc.ExpireResources(ctx); err != nil || n != 0 {
				t.Errorf("after extending: %d, %v; want 0", n, err)
			}
		})
		t.Run("CloseExpired", func(t *testing.T) {
			r, err := svc.CloseResource(f.charityA(), paused.ID, nil)
			if err != nil || r.Status != catalog.Closed {
				t.Fatalf("closing an expired resource: %+v, %v", r, err)
			}
			_, err = svc.PublishResource(adminCtx, paused.ID, nil)
			wantCode(t, err, aidhub.ECONFLICT)
		})
	})
}

func sorted(ids []int64) []int64 {
	out := slices.Clone(ids)
	slices.Sort(out)
	if out == nil {
		out = []int64{}
	}
	return out
}
