package hub_test

import (
	"context"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/aidhub/aidhub"
	"github.com/aidhub/aidhub/auth"
	"github.com/aidhub/aidhub/catalog"
	"github.com/aidhub/aidhub/db"
	"github.com/aidhub/aidhub/db/dbtest"
	"github.com/aidhub/aidhub/hub"
	"github.com/aidhub/aidhub/search"
	"github.com/aidhub/aidhub/search/searchtest"
)

func fixedNow() time.Time { return time.Date(2026, 11, 28, 4, 0, 0, 0, time.UTC) }

// each runs body on every database × search backend, each pair fresh.
func each(t *testing.T, body func(t *testing.T, h *hub.Hub)) {
	for _, dialect := range []string{db.SQLite, db.Postgres} {
		for _, backend := range []string{"bleve", "meilisearch"} {
			t.Run(dialect+"/"+backend, func(t *testing.T) {
				var d *db.DB
				if dialect == db.SQLite {
					d = dbtest.SQLite(t)
				} else {
					d = dbtest.Postgres(t)
				}
				var idx search.Index
				if backend == "bleve" {
					idx = searchtest.Bleve(t)
				} else {
					idx = searchtest.Meili(t)
				}
				body(t, start(t, d, idx))
			})
		}
	}
}

func start(t *testing.T, d *db.DB, idx search.Index) *hub.Hub {
	t.Helper()
	h, err := hub.New(context.Background(), d, hub.Config{Index: idx, Now: fixedNow, DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		h.DB = nil // dbtest closes the database
		h.Close()
	})
	return h
}

var admin = auth.WithPrincipal(context.Background(), auth.System)

func newOrg(t *testing.T, h *hub.Hub, name string) *catalog.Organization {
	t.Helper()
	org, err := h.Catalog.CreateOrganization(admin, catalog.NewOrganization{Name: name, Kind: catalog.KindCharity, DivisionCode: "500103",
		ContactPhone: "023-63000000"})
	if err != nil {
		t.Fatal(err)
	}
	return org
}

func newResource(t *testing.T, h *hub.Hub, org *catalog.Organization, title string) *catalog.Resource {
	t.Helper()
	items, cover := []string{"SCHOOL_GRANT"}, []string{"500103"}
	contact, phone := "王小明", "13800138000"
	r, err := h.Catalog.CreateResource(admin, org.ID, catalog.ResourcePatch{
		Title: &title, ItemCodes: &items, Coverage: &cover, CapacityUnits: aidhub.Some(int64(100)),
		ContactName: &contact, ContactPhone: &phone, IncomeCeilingFen: aidhub.Some(int64(150000)),
		DivisionCode: aidhub.Some("500103003"), Lat: aidhub.Some(29.557), Lng: aidhub.Some(106.577),
	})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// want is what the index must hold: the version of every searchable resource.
func want(t *testing.T, h *hub.Hub) map[int64]int64 {
	t.Helper()
	out := map[int64]int64{}
	rs, err := h.Catalog.ScanResources(context.Background(), 0, 100000)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		if search.Searchable(r) {
			out[r.ID] = r.Version
		}
	}
	return out
}

func indexed(t *testing.T, idx search.Index) map[int64]int64 {
	t.Helper()
	raw, err := idx.Raw(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out := map[int64]int64{}
	for _, doc := range raw {
		out[int64(doc["id"].(float64))] = int64(doc["version"].(float64))
	}
	return out
}

// converged waits until the index holds exactly what the database says,
// document by document, and fails with the difference if it never does.
func converged(t *testing.T, h *hub.Hub, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		w, got := want(t, h), indexed(t, h.Index)
		if maps.Equal(w, got) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("index did not converge within %s:\n database %v\n index    %v", within, w, got)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestOutbox_FollowsEveryChange(t *testing.T) {
	each(t, func(t *testing.T, h *hub.Hub) {
		org := newOrg(t, h, "重庆市慈善总会")
		r := newResource(t, h, org, "困难家庭学生助学金")
		converged(t, h, 10*time.Second) // a draft is not searchable
		if _, err := h.Catalog.PublishResource(admin, r.ID, nil); err != nil {
			t.Fatal(err)
		}
		converged(t, h, 10*time.Second)
		title := "困难家庭大学生助学金"
		if _, err := h.Catalog.UpdateResource(admin, r.ID, nil, catalog.ResourcePatch{Title: &title}); err != nil {
			t.Fatal(err)
		}
		converged(t, h, 10*time.Second)
		res, err := h.Index.Search(context.Background(), search.Request{Text: "大学生", Limit: 5})
		if err != nil || len(res.Hits) != 1 || res.Hits[0].ID != r.ID {
			t.Fatalf("the edit is not searchable: %+v %v", res, err)
		}
		for _, step := range []func(context.Context, int64, *int64) (*catalog.Resource, error){
			h.Catalog.PauseResource, h.Catalog.PublishResource, h.Catalog.CloseResource,
		} {
			if _, err := step(admin, r.ID, nil); err != nil {
				t.Fatal(err)
			}
			converged(t, h, 10*time.Second)
		}
		if got := indexed(t, h.Index); len(got) != 0 {
			t.Fatalf("a closed resource is still indexed: %v", got)
		}
	})
}

// A refused change queues nothing: the job is in the change's transaction.
func TestOutbox_RefusedChangeQueuesNothing(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		h := start(t, d, searchtest.Bleve(t))
		org := newOrg(t, h, "慈善会")
		r := newResource(t, h, org, "助餐服务")
		count := func() int64 {
			// Only the outbox's kinds: the periodic referral expiry may
			// queue itself at any moment.
			n, err := h.DB.NewSelect().TableExpr("river_job").Where("kind IN ('search.sync', 'matching.resource')").Count(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		before := count()
		bad := "" // a title is required
		if _, err := h.Catalog.UpdateResource(admin, r.ID, nil, catalog.ResourcePatch{Title: &bad}); aidhub.ErrorCode(err) != aidhub.EBADINPUT {
			t.Fatal(err)
		}
		if _, err := h.Catalog.PauseResource(admin, r.ID, nil); aidhub.ErrorCode(err) != aidhub.ECONFLICT {
			t.Fatal(err)
		}
		if after := count(); after != before {
			t.Fatalf("refused changes queued %d jobs", after-before)
		}
	})
}

// Many writers and many deliveries at once: the index ends at the newest
// version of every resource, never an older one.
func TestOutbox_ConcurrentEditsConverge(t *testing.T) {
	each(t, func(t *testing.T, h *hub.Hub) {
		org := newOrg(t, h, "慈善会")
		var ids []int64
		for i := 0; i < 5; i++ {
			r := newResource(t, h, org, fmt.Sprintf("助学金第%d期", i))
			if _, err := h.Catalog.PublishResource(admin, r.ID, nil); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, r.ID)
		}
		var wg sync.WaitGroup
		for w := 0; w < 4; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				for i := 0; i < 10; i++ {
					id := ids[(w+i)%len(ids)]
					title := fmt.Sprintf("助学金 %d-%d", w, i)
					_, err := h.Catalog.UpdateResource(admin, id, nil, catalog.ResourcePatch{Title: &title})
					if err != nil && aidhub.ErrorCode(err) != aidhub.ECONFLICT {
						t.Error(err)
					}
					// Extra deliveries out of band, racing the queue's own.
					if err := h.Syncer.Sync(context.Background(), id); err != nil {
						t.Error(err)
					}
				}
			}(w)
		}
		wg.Wait()
		converged(t, h, 20*time.Second)
	})
}

// TestOutbox_MeilisearchKilledAndRestarted kills a real Meilisearch under a
// stream of edits; every edit still succeeds, /readyz-style health reports
// the outage, and once Meilisearch is back the index converges document by
// document: nothing lost, nothing stale.
func TestOutbox_MeilisearchKilledAndRestarted(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		proc := searchtest.StartMeili(t)
		idx, err := search.OpenMeili(context.Background(), search.MeiliConfig{URL: proc.URL(), Key: proc.Key, Index: "resources"})
		if err != nil {
			t.Fatal(err)
		}
		h := start(t, d, idx)
		org := newOrg(t, h, "慈善会")
		var ids []int64
		for i := 0; i < 6; i++ {
			r := newResource(t, h, org, fmt.Sprintf("医疗救助%d", i))
			if _, err := h.Catalog.PublishResource(admin, r.ID, nil); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, r.ID)
		}
		converged(t, h, 20*time.Second)

		closed := int64(0)
		edit := func(round int) {
			for i, id := range ids {
				if id == closed {
					continue
				}
				title := fmt.Sprintf("医疗救助%d 第%d轮", i, round)
				if _, err := h.Catalog.UpdateResource(admin, id, nil, catalog.ResourcePatch{Title: &title}); err != nil {
					t.Fatalf("edit in round %d (Meilisearch down in rounds 3–5): %v", round, err)
				}
			}
		}
		for round := 0; round < 3; round++ {
			edit(round)
		}
		proc.Kill()
		if err := idx.Health(context.Background()); err == nil {
			t.Fatal("health says ok with Meilisearch killed")
		}
		for round := 3; round < 6; round++ {
			edit(round)
		}
		// Pause one and close another while it is down: deletions must land too.
		if _, err := h.Catalog.PauseResource(admin, ids[0], nil); err != nil {
			t.Fatal(err)
		}
		if _, err := h.Catalog.CloseResource(admin, ids[1], nil); err != nil {
			t.Fatal(err)
		}
		closed = ids[1]
		time.Sleep(300 * time.Millisecond) // let deliveries fail and back off
		proc.Start()
		for round := 6; round < 8; round++ {
			edit(round)
		}
		converged(t, h, 60*time.Second)
		// Document by document, the titles are the database's.
		res, err := idx.Search(context.Background(), search.Request{Limit: 50})
		if err != nil {
			t.Fatal(err)
		}
		for _, hit := range res.Hits {
			r, err := h.Catalog.LoadResource(context.Background(), hit.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(r.Title, "第7轮") || hit.Highlight != r.Title {
				t.Errorf("resource %d: index has %q, database %q", hit.ID, hit.Highlight, r.Title)
			}
		}
		if len(res.Hits) != len(ids)-2 {
			t.Errorf("%d hits, want %d", len(res.Hits), len(ids)-2)
		}
	})
}

// TestIndex_HoldsNoPersonalData reads the raw index documents and checks
// that no personal or financial field exists there: only the public
// fields of resources, and none of the contact person's details.
func TestIndex_HoldsNoPersonalData(t *testing.T) {
	each(t, func(t *testing.T, h *hub.Hub) {
		org := newOrg(t, h, "慈善会")
		r := newResource(t, h, org, "助学金")
		if _, err := h.Catalog.PublishResource(admin, r.ID, nil); err != nil {
			t.Fatal(err)
		}
		converged(t, h, 10*time.Second)
		raw, err := h.Index.Raw(context.Background())
		if err != nil || len(raw) != 1 {
			t.Fatalf("%d docs, %v", len(raw), err)
		}
		allowed := []string{"id", "_id", "version", "title", "description", "organizationId", "organizationName",
			"categories", "categoryNames", "items", "itemNames", "groups", "groupNames", "coverage", "district",
			"location", "address", "_geo", "geo", "geo.lat", "geo.lon", "validUntil"}
		residentID := regexp.MustCompile(`\d{17}[\dXx]`)
		phone := regexp.MustCompile(`1[3-9]\d{9}`)
		for key, v := range raw[0] {
			if !slices.Contains(allowed, key) {
				t.Errorf("index field %q is not a public resource field", key)
			}
			text := fmt.Sprint(v)
			if strings.Contains(text, "王小明") || phone.MatchString(text) || residentID.MatchString(text) {
				t.Errorf("index field %q holds personal data: %s", key, text)
			}
			if strings.Contains(strings.ToLower(key), "income") || strings.Contains(strings.ToLower(key), "contact") {
				t.Errorf("index field %q is financial or personal", key)
			}
		}
	})
}

func TestReindex(t *testing.T) {
	each(t, func(t *testing.T, h *hub.Hub) {
		org := newOrg(t, h, "慈善会")
		for i := 0; i < 3; i++ {
			r := newResource(t, h, org, fmt.Sprintf("助餐服务%d", i))
			if _, err := h.Catalog.PublishResource(admin, r.ID, nil); err != nil {
				t.Fatal(err)
			}
		}
		converged(t, h, 10*time.Second)
		// Something the database does not know: the rebuild drops it.
		if err := h.Index.Upsert(context.Background(), []search.Document{{ID: 9999, Version: 1, Title: "幽灵", ValidUntil: search.NoEnd}}); err != nil {
			t.Fatal(err)
		}
		// Published with no capacity left: looked at and counted, not indexed.
		full := newResource(t, h, org, "名额已满")
		if _, err := h.Catalog.PublishResource(admin, full.ID, nil); err != nil {
			t.Fatal(err)
		}
		if err := h.DB.Tx(context.Background(), func(ctx context.Context, tx bun.Tx) error {
			return h.Catalog.TakeCapacity(ctx, db.UnitOf(tx), full.ID, 100, 0)
		}); err != nil {
			t.Fatal(err)
		}
		var last, total int
		n, err := h.Reindex(context.Background(), func(done, of int) { last, total = done, of })
		if err != nil || n != 3 || last != 4 || total != 4 {
			t.Fatalf("reindex: %d docs (progress %d of %d), %v", n, last, total, err)
		}
		converged(t, h, 10*time.Second)
	})
}
