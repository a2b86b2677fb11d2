package catalog_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/aidhub/aidhub"
	"github.com/aidhub/aidhub/audit"
	"github.com/aidhub/aidhub/catalog"
	"github.com/aidhub/aidhub/db"
	"github.com/aidhub/aidhub/db/dbtest"
	"github.com/aidhub/aidhub/regions"
)

// race runs every fn at once (as near as goroutines allow) and returns
// their errors in order.
func race(fns ...func() error) []error {
	errs := make([]error, len(fns))
	var ready, done sync.WaitGroup
	start := make(chan struct{})
	for i, fn := range fns {
		ready.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			ready.Done()
			<-start
			errs[i] = fn()
		}()
	}
	ready.Wait()
	close(start)
	done.Wait()
	return errs
}

// oneWinner fails unless exactly one error is nil and every other is
// CONFLICT; it returns the winner's index.
func oneWinner(t *testing.T, errs []error) int {
	t.Helper()
	winner := -1
	for i, err := range errs {
		switch aidhub.ErrorCode(err) {
		case "":
			if winner >= 0 {
				t.Fatalf("writers %d and %d both succeeded", winner, i)
			}
			winner = i
		case aidhub.ECONFLICT:
		default:
			t.Fatalf("writer %d: %v, want success or CONFLICT", i, err)
		}
	}
	if winner < 0 {
		t.Fatalf("no writer succeeded: %v", errs)
	}
	return winner
}

func TestService_SeedDefaults_Concurrent(t *testing.T) {
	// Several hub replicas starting at once over one empty database: the
	// catalog is seeded exactly once and no replica fails to start.
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		defaults, err := catalog.LoadDefaults()
		if err != nil {
			t.Fatal(err)
		}
		const replicas = 4
		seeded := make([]bool, replicas)
		var fns []func() error
		for i := range replicas {
			svc := catalog.NewService(d, regions.Chongqing(), audit.New(d, fixedNow), fixedNow)
			fns = append(fns, func() error {
				var err error
				seeded[i], err = svc.SeedDefaults(context.Background())
				return err
			})
		}
		for i, err := range race(fns...) {
			if err != nil {
				t.Fatalf("replica %d: %v", i, err)
			}
		}
		if n := len(slices.DeleteFunc(seeded, func(b bool) bool { return !b })); n != 1 {
			t.Fatalf("%d replicas report seeding, want 1", n)
		}
		if got, want := countRows(t, d, "plan_entries"), len(defaults.Plans); got != want {
			t.Fatalf("%d plan entries, want %d", got, want)
		}
	})
}

func TestService_UpdateResource_Concurrent(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		svc := f.svc
		ctx := f.charityA()

		t.Run("SameExpectedVersion", func(t *testing.T) {
			r := mustPublish(t, svc, f.orgA.ID, validPatch(t))
			items := [][]string{{"MEAL_ASSISTANCE"}, {"WINTER_SUPPLIES", "TEMP_LIVING_SUPPLIES"}, {"HOME_CARE"}, {"DAY_CARE", "HOME_CARE"}}
			for round := range 5 {
				v := reload(t, svc, r.ID).Version
				var fns []func() error
				for w := range 2 + round%3 { // 2 to 4 writers
					fns = append(fns, func() error {
						_, err := svc.UpdateResource(ctx, r.ID, &v, catalog.ResourcePatch{
							Title:     ptr(fmt.Sprintf("第%d轮 写者%d", round, w)),
							ItemCodes: &items[w],
						})
						return err
					})
				}
				w := oneWinner(t, race(fns...))
				got := reload(t, svc, r.ID)
				want := slices.Clone(items[w])
				slices.Sort(want)
				if got.Version != v+1 || got.Title != fmt.Sprintf("第%d轮 写者%d", round, w) || !slices.Equal(got.ItemCodes, want) {
					t.Fatalf("round %d: stored v%d %q %v; want v%d from writer %d", round, got.Version, got.Title, got.ItemCodes, v+1, w)
				}
			}
		})
		t.Run("LifecycleRace", func(t *testing.T) {
			// Pause and close race from the same version: one wins, and the
			// state is the winner's.
			for round := range 3 {
				r := mustPublish(t, svc, f.orgA.ID, validPatch(t))
				v := r.Version
				errs := race(
					func() error { _, err := svc.PauseResource(ctx, r.ID, &v); return err },
					func() error { _, err := svc.CloseResource(adminCtx, r.ID, &v); return err },
					func() error {
						_, err := svc.UpdateResource(ctx, r.ID, &v, catalog.ResourcePatch{Title: ptr("改名")})
						return err
					},
				)
				w := oneWinner(t, errs)
				got := reload(t, svc, r.ID)
				want := []catalog.Status{catalog.Paused, catalog.Closed, catalog.Published}[w]
				if got.Status != want || got.Version != v+1 {
					t.Fatalf("round %d: stored %s v%d; want %s v%d", round, got.Status, got.Version, want, v+1)
				}
			}
		})
		t.Run("WithoutExpectedVersionNothingIsLost", func(t *testing.T) {
			// Writers that name no version either go through or get
			// CONFLICT; none is silently overwritten.
			r := mustCreate(t, svc, ctx, 0, validPatch(t))
			const writers = 6
			var fns []func() error
			for w := range writers {
				fns = append(fns, func() error {
					_, err := svc.UpdateResource(ctx, r.ID, nil, catalog.ResourcePatch{Title: ptr(fmt.Sprint("写者", w))})
					return err
				})
			}
			ok := 0
			for i, err := range race(fns...) {
				switch aidhub.ErrorCode(err) {
				case "":
					ok++
				case aidhub.ECONFLICT:
				default:
					t.Fatalf("writer %d: %v", i, err)
				}
			}
			if got := reload(t, svc, r.ID); got.Version != int64(1+ok) || ok == 0 {
				t.Fatalf("%d writers succeeded, version %d; want version %d", ok, got.Version, 1+ok)
			}
		})
	})
}

func TestService_CatalogWrites_Concurrent(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		svc := newFixture(t, d).svc
		const writers = 4
		many := func(fn func() error) []func() error {
			fns := make([]func() error, writers)
			for i := range fns {
				fns[i] = fn
			}
			return fns
		}

		t.Run("SameOrganizationName", func(t *testing.T) {
			n := countRows(t, d, "organizations")
			oneWinner(t, race(many(func() error {
				_, err := svc.CreateOrganization(adminCtx, catalog.NewOrganization{Name: "同名机构", Kind: catalog.KindCharity, DivisionCode: yuzhong})
				return err
			})...))
			if got := countRows(t, d, "organizations"); got != n+1 {
				t.Fatalf("%d organizations, want %d", got, n+1)
			}
		})
		t.Run("SameCategoryCode", func(t *testing.T) {
			oneWinner(t, race(many(func() error {
				_, err := svc.CreateCategory(adminCtx, catalog.Category{Code: "SAME_CODE", ParentCode: ptr("MEDICAL"), NameZh: "同码", NameEn: "Same"})
				return err
			})...))
		})
		t.Run("SameGroupCode", func(t *testing.T) {
			oneWinner(t, race(many(func() error {
				_, err := svc.CreateGroup(adminCtx, catalog.Group{Code: "SAME_GROUP", NameZh: "同码", NameEn: "Same", Tier: 3})
				return err
			})...))
		})
		t.Run("SamePlanEntry", func(t *testing.T) {
			// Upserts of one new entry all succeed and leave one row.
			for i, err := range race(many(func() error {
				_, err := svc.SetPlanEntry(adminCtx, catalog.PlanEntry{GroupCode: "SAME_GROUP", ItemCode: "EMERGENCY_FUND", Level: catalog.Entitled})
				return err
			})...) {
				if err != nil {
					t.Fatalf("writer %d: %v", i, err)
				}
			}
			if plan := snapshot(t, svc).Plan("SAME_GROUP"); len(plan) != 1 || plan[0].Level != catalog.Entitled {
				t.Fatalf("plan %v", plan)
			}
		})
	})
}
