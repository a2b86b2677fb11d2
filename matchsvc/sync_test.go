package matchsvc_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/aidhub/aidhub/auth"
	"github.com/aidhub/aidhub/casework"
	"github.com/aidhub/aidhub/catalog"
	"github.com/aidhub/aidhub/db"
	"github.com/aidhub/aidhub/db/dbtest"
	"github.com/aidhub/aidhub/jobs"
	"github.com/aidhub/aidhub/matching"
	"github.com/aidhub/aidhub/matchsvc"
)

func TestChanges(t *testing.T) {
	t.Run("the outbox notes changes in the request's collector", func(t *testing.T) {
		d := dbtest.SQLite(t)
		client, err := jobs.NewClient(d, jobs.Config{}) // insert-only
		if err != nil {
			t.Fatal(err)
		}
		out := matchsvc.Outbox{Jobs: client}
		change := func(ctx context.Context, fail bool) {
			t.Helper()
			err := d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
				for _, id := range []int64{7, 3, 7} {
					if err := out.ResourceChanged(ctx, db.UnitOf(tx), id); err != nil {
						return err
					}
				}
				if err := out.NeedsChanged(ctx, db.UnitOf(tx), 5); err != nil {
					return err
				}
				if fail {
					return errors.New("rolled back")
				}
				return nil
			})
			if err != nil && !fail {
				t.Fatal(err)
			}
		}
		change(context.Background(), false) // no collector: only the jobs

		ctx, changes := matchsvc.WithChanges(context.Background())
		change(ctx, false)
		resources, households := changes.Take()
		if !slices.Equal(resources, []int64{3, 7}) || !slices.Equal(households, []int64{5}) {
			t.Errorf("noted resources %v, households %v; want [3 7], [5]", resources, households)
		}
		if resources, households := changes.Take(); len(resources)+len(households) != 0 {
			t.Errorf("taken twice: %v, %v", resources, households)
		}
		// Rereading what a rolled-back change named is harmless: noted too.
		change(ctx, true)
		if resources, _ := changes.Take(); !slices.Equal(resources, []int64{3, 7}) {
			t.Errorf("after a rollback: %v", resources)
		}
	})

	t.Run("concurrent notes", func(t *testing.T) {
		ctx, changes := matchsvc.WithChanges(context.Background())
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Go(func() {
				for id := range int64(100) {
					matchsvc.NoteResource(ctx, id)
					matchsvc.NoteHousehold(ctx, id*int64(i+1))
				}
			})
		}
		wg.Wait()
		resources, households := changes.Take()
		if len(resources) != 100 || !slices.IsSorted(resources) || !slices.IsSorted(households) {
			t.Errorf("%d resources, households sorted %v", len(resources), slices.IsSorted(households))
		}
	})
}

func hasNeed(ms []matchsvc.ResourceMatch, needID int64) bool {
	return slices.ContainsFunc(ms, func(m matchsvc.ResourceMatch) bool { return m.Need.ID == needID })
}

// note returns Changes naming the given resources and households.
func note(resources, households []int64) *matchsvc.Changes {
	ctx, c := matchsvc.WithChanges(context.Background())
	for _, id := range resources {
		matchsvc.NoteResource(ctx, id)
	}
	for _, id := range households {
		matchsvc.NoteHousehold(ctx, id)
	}
	return c
}

func TestSync(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		charity := as(auth.Principal{Role: auth.Charity, OrganizationID: f.org.ID})
		inpatient := catalog.ResourcePatch{ItemCodes: &[]string{"INPATIENT_AID"}}
		h, needs := f.household(t, cmA, huayipo, "19800101", []string{"DIBAO"}, true, 10, casework.NeedInput{CategoryCode: "MEDICAL_INPATIENT", Severity: 3})
		need := needs[0]
		first := f.publish(t, f.org, "大病医疗救助", []string{"500103"}, inpatient)

		if err := f.m.Sync(ctx, note([]int64{first.ID}, []int64{h.ID})); err != nil || f.m.Loaded() {
			t.Fatalf("before the first load: %v, loaded %v; want nothing done", err, f.m.Loaded())
		}
		if _, err := f.m.Engine(ctx); err != nil {
			t.Fatal(err)
		}

		r := f.publish(t, f.org, "住院押金援助", []string{"500103"}, inpatient)
		if err := f.m.Sync(ctx, note([]int64{r.ID}, nil)); err != nil {
			t.Fatal(err)
		}
		if ok, failures, _, err := f.m.WhyNot(cmA, need.ID, r.ID); err != nil || !ok {
			t.Errorf("published and synced: matched %v, %v, %v", ok, failures, err)
		}
		if _, err := f.cat.PauseResource(charity, r.ID, nil); err != nil {
			t.Fatal(err)
		}
		if err := f.m.Sync(ctx, note([]int64{r.ID}, nil)); err != nil {
			t.Fatal(err)
		}
		if ok, failures, _, err := f.m.WhyNot(admin, need.ID, r.ID); err != nil || ok || failures[0].Filter != matching.FilterStatus {
			t.Errorf("paused and synced: matched %v, %v, %v", ok, failures, err)
		}
		if e, err := f.m.Engine(ctx); err != nil {
			t.Fatal(err)
		} else if _, held := e.Resource(r.ID); held {
			t.Errorf("paused and synced: the engine still holds resource %d", r.ID)
		}

		fresh, more := f.household(t, cmA, huayipo, "19700101", nil, true, 20, casework.NeedInput{CategoryCode: "MEDICAL_INPATIENT", Severity: 5})
		if err := f.m.Sync(ctx, note(nil, []int64{fresh.ID})); err != nil {
			t.Fatal(err)
		}
		if got, err := f.m.MatchesForResource(charity, first.ID, 10); err != nil || !hasNeed(got, more[0].ID) {
			t.Errorf("matchesForResource after syncing the new household: %+v, %v; want need %d", got, err, more[0].ID)
		}
	})
}

// A change synced while a reload reads the store, which it may have read
// before the change, is replayed into what the reload built; the sync
// does not wait for the reload.
func TestSync_DuringReload(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		charity := as(auth.Principal{Role: auth.Charity, OrganizationID: f.org.ID})
		inpatient := catalog.ResourcePatch{ItemCodes: &[]string{"INPATIENT_AID"}}
		_, needs := f.household(t, cmA, huayipo, "19800101", nil, true, 10, casework.NeedInput{CategoryCode: "MEDICAL_INPATIENT", Severity: 3})
		first := f.publish(t, f.org, "大病医疗救助", []string{"500103"}, inpatient)
		if _, err := f.m.Engine(ctx); err != nil {
			t.Fatal(err)
		}

		read, release := make(chan struct{}), make(chan struct{})
		f.m.OnLoadRead(func() { close(read); <-release })
		reloaded := make(chan error, 1)
		go func() { reloaded <- f.m.Reload(ctx) }()
		<-read
		f.m.OnLoadRead(nil)

		r := f.publish(t, f.org, "住院押金援助", []string{"500103"}, inpatient)
		fresh, more := f.household(t, cmA, huayipo, "19700101", nil, true, 20, casework.NeedInput{CategoryCode: "MEDICAL_INPATIENT", Severity: 5})
		synced := make(chan error, 1)
		go func() { synced <- f.m.Sync(ctx, note([]int64{r.ID}, []int64{fresh.ID})) }()
		select {
		case err := <-synced:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(10 * time.Second):
			close(release)
			t.Fatal("the sync waited for the reload")
		}
		close(release)
		if err := <-reloaded; err != nil {
			t.Fatal(err)
		}
		if ok, failures, _, err := f.m.WhyNot(cmA, needs[0].ID, r.ID); err != nil || !ok {
			t.Errorf("the resource published during the reload: matched %v, %v, %v", ok, failures, err)
		}
		if got, err := f.m.MatchesForResource(charity, first.ID, 10); err != nil || !hasNeed(got, more[0].ID) {
			t.Errorf("the need assessed during the reload: %+v, %v; want need %d", got, err, more[0].ID)
		}
	})
}
