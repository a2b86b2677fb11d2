package casework_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/aidhub/aidhub"
	"github.com/aidhub/aidhub/casework"
	"github.com/aidhub/aidhub/catalog"
	"github.com/aidhub/aidhub/db"
	"github.com/aidhub/aidhub/db/dbtest"
)

// seedPending writes n households of one person each, and a PENDING
// referral of each person to resource r, in one transaction with direct
// inserts (the API would take a while). It returns the referral IDs.
func seedPending(t *testing.T, f *fixture, r *catalog.Resource, n int) []int64 {
	t.Helper()
	ctx := context.Background()
	now := f.clock.now().UTC()
	today := f.today()
	var ids []int64
	err := f.d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		hs := make([]casework.Household, n)
		for i := range hs {
			hs[i] = casework.Household{RegionCode: huayipo, Version: 1, CreatedAt: now, UpdatedAt: now}
		}
		if _, err := tx.NewInsert().Model(&hs).Exec(ctx); err != nil {
			return err
		}
		ps := make([]casework.Person, n)
		for i := range ps {
			index, sealed := make([]byte, 32), make([]byte, 64)
			rand.Read(index)
			rand.Read(sealed)
			ps[i] = casework.Person{HouseholdID: hs[i].ID, Name: fmt.Sprintf("批量%d", i), Relation: "HEAD", ResidentIDIndex: index,
				ResidentIDSealed: sealed, BirthDate: date(t, "1960-01-01").AddDays(i), CreatedAt: now}
		}
		if _, err := tx.NewInsert().Model(&ps).Exec(ctx); err != nil {
			return err
		}
		refs := make([]casework.Referral, n)
		for i := range refs {
			if hs[i].ID == 0 || ps[i].ID == 0 {
				return fmt.Errorf("bulk insert returned no IDs")
			}
			refs[i] = casework.Referral{HouseholdID: hs[i].ID, PersonID: &ps[i].ID, ResourceID: r.ID, OrganizationID: r.OrganizationID,
				CategoryCode: "BASIC_LIVING", ItemCode: ptr("MEAL_ASSISTANCE"), Units: 1, PeriodStart: today, PeriodEnd: today.AddDays(29),
				Status: casework.Pending, RespondBy: now.Add(14 * 24 * time.Hour), CreatedAt: now, UpdatedAt: now, Version: 1}
		}
		if _, err := tx.NewInsert().Model(&refs).Exec(ctx); err != nil {
			return err
		}
		for _, r := range refs {
			ids = append(ids, r.ID)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("seed: %v", err)
	}
	return ids
}

// pool runs fn over every id with workers goroutines and returns the
// errors by id.
func pool(ids []int64, workers int, fn func(id int64) error) map[int64]error {
	out := make(map[int64]error, len(ids))
	var mu sync.Mutex
	ch := make(chan int64)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := range ch {
				err := fn(id)
				mu.Lock()
				out[id] = err
				mu.Unlock()
			}
		}()
	}
	for _, id := range ids {
		ch <- id
	}
	close(ch)
	wg.Wait()
	return out
}

// byCode counts errors by code ("" for success) and fails on any code
// not in allowed.
func byCode(t *testing.T, errs map[int64]error, allowed ...string) map[string]int {
	t.Helper()
	out := map[string]int{}
	shown := 0
	for _, err := range errs {
		code := aidhub.ErrorCode(err)
		out[code]++
		ok := false
		for _, a := range allowed {
			ok = ok || a == code
		}
		if !ok && shown < 5 {
			shown++
			t.Errorf("unexpected error: %v", err)
		}
	}
	return out
}

// countWhere counts rows of a table matching a condition.
func countWhere(t *testing.T, d *db.DB, table, where string, args ...any) int {
	t.Helper()
	n, err := d.NewSelect().TableExpr(table).Where(where, args...).Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return int(n)
}

// capacityConsistent fails unless the units a resource has taken are the
// units of the referrals holding capacity, within its capacity.
func capacityConsistent(t *testing.T, f *fixture, r *catalog.Resource) int64 {
	t.Helper()
	var held int64
	err := f.d.NewSelect().TableExpr("referrals").ColumnExpr("COALESCE(SUM(units), 0)").
		Where("resource_id = ? AND capacity_taken = ?", r.ID, true).Scan(context.Background(), &held)
	if err != nil {
		t.Fatal(err)
	}
	got := f.resource(t, r.ID)
	if got.UnitsTaken != held {
		t.Fatalf("resource %d has %d units taken, its referrals hold %d", r.ID, got.UnitsTaken, held)
	}
	if got.CapacityUnits != nil && got.UnitsTaken > *got.CapacityUnits {
		t.Fatalf("resource %d overdrawn: %d taken of %d", r.ID, got.UnitsTaken, *got.CapacityUnits)
	}
	return held
}

func TestAcceptReferrals_Concurrent(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		r := f.publish(t, f.orgA, resourcePatch(100, "MEAL_ASSISTANCE"))
		ids := seedPending(t, f, r, 1000)
		ctx := within(t, f.charityA(), 60*time.Second)
		start := time.Now()
		errs := pool(ids, 48, func(id int64) error {
			_, err := f.svc.TransitionReferral(ctx, casework.Transition{ReferralID: id, To: casework.Accepted})
			return err
		})
		t.Logf("%s: 1,000 concurrent accepts in %v", d.Engine, time.Since(start).Round(time.Millisecond))
		codes := byCode(t, errs, "", aidhub.ECAPACITY)
		if codes[""] != 100 || codes[aidhub.ECAPACITY] != 900 {
			t.Fatalf("accepted %d, exhausted %d; want 100 and 900 (%v)", codes[""], codes[aidhub.ECAPACITY], codes)
		}
		if got := f.unitsTaken(t, r.ID); got != 100 {
			t.Fatalf("units taken %d, want 100", got)
		}
		capacityConsistent(t, f, r)
		if n := countWhere(t, d, "referrals", "status = ?", casework.Accepted); n != 100 {
			t.Fatalf("%d referrals ACCEPTED", n)
		}
		if n := countWhere(t, d, "referrals", "status = ?", casework.Pending); n != 900 {
			t.Fatalf("%d referrals still PENDING", n)
		}
		if n := countWhere(t, d, "referral_events", "to_status = ?", casework.Accepted); n != 100 {
			t.Fatalf("%d ACCEPTED events", n)
		}
		if n := countWhere(t, d, "audit_log", "action = ?", "transitionReferral"); n != 100 {
			t.Fatalf("%d audit entries of transitions", n)
		}
		if bad, err := f.log.Verify(context.Background()); err != nil || bad != 0 {
			t.Fatalf("audit chain broken at %d, %v", bad, err)
		}

		// Now everything at once on the same referrals: accepts, declines
		// and cancellations. Whatever wins, capacity matches the
		// referrals that hold it.
		ids = ids[:300]
		cm := within(t, cmCtx, time.Minute)
		errs = pool(ids, 48, func(id int64) error {
			var err error
			switch id % 3 {
			case 0:
				_, err = f.svc.TransitionReferral(ctx, casework.Transition{ReferralID: id, To: casework.Declined, DeclineReason: ptr(casework.DeclineReason("NO_CAPACITY"))})
			case 1:
				_, err = f.svc.TransitionReferral(cm, casework.Transition{ReferralID: id, To: casework.Cancelled})
			default:
				_, err = f.svc.TransitionReferral(ctx, casework.Transition{ReferralID: id, To: casework.Accepted})
			}
			return err
		})
		byCode(t, errs, "", aidhub.ECAPACITY, aidhub.ECONFLICT)
		capacityConsistent(t, f, r)
	})
}

func TestTransitionSameReferral_Concurrent(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		// Many accepts of one referral, and an accept racing a cancel:
		// one step wins, the capacity is taken once.
		f := newFixture(t, d)
		r := f.publish(t, f.orgA, resourcePatch(100, "MEAL_ASSISTANCE"))
		ids := seedPending(t, f, r, 6)
		ctx := within(t, f.charityA(), 30*time.Second)
		errs := race(16, func(int) error {
			_, err := f.svc.TransitionReferral(ctx, casework.Transition{ReferralID: ids[0], To: casework.Accepted})
			return err
		})
		ok := 0
		for _, err := range errs {
			switch aidhub.ErrorCode(err) {
			case "":
				ok++
			case aidhub.ECONFLICT:
			default:
				t.Fatalf("racing accept: %v", err)
			}
		}
		if ok != 1 || f.unitsTaken(t, r.ID) != 1 {
			t.Fatalf("%d accepts succeeded, %d units taken", ok, f.unitsTaken(t, r.ID))
		}
		if n := countWhere(t, d, "referral_events", "referral_id = ?", ids[0]); n != 1 {
			t.Fatalf("%d events for one accept", n)
		}
		cm := within(t, cmCtx, 30*time.Second)
		for _, id := range ids[1:] {
			race(2, func(i int) error {
				if i == 0 {
					_, err := f.svc.TransitionReferral(ctx, casework.Transition{ReferralID: id, To: casework.Accepted})
					return err
				}
				_, err := f.svc.TransitionReferral(cm, casework.Transition{ReferralID: id, To: casework.Cancelled})
				return err
			})
			if got := f.referral(t, id); got.Status != casework.Cancelled && got.Status != casework.Accepted {
				t.Fatalf("referral %s", got.Status)
			}
		}
		capacityConsistent(t, f, r)
	})
}

func TestCreateReferral_Race(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		// Racing referrals (and direct aid) for the same need: exactly one
		// is made, the others get DUPLICATE_AID.
		f := newFixture(t, d)
		meals := f.publish(t, f.orgA, resourcePatch(1000, "MEAL_ASSISTANCE", "RENT_SUBSIDY"))
		other := f.publish(t, f.orgB, resourcePatch(1000, "MEAL_ASSISTANCE", "TEMP_LIVING_SUPPLIES"))
		shelter := f.publish(t, f.orgB, resourcePatch(1000, "TRANSITIONAL_SHELTER"))
		ctx := within(t, cmCtx, time.Minute)
		one := func(name string, errs []error) {
			t.Helper()
			ok := 0
			for _, err := range errs {
				switch aidhub.ErrorCode(err) {
				case "":
					ok++
				case aidhub.EDUPLICATEAID:
				default:
					t.Fatalf("%s: %v", name, err)
				}
			}
			if ok != 1 {
				t.Fatalf("%s: %d succeeded, want exactly 1", name, ok)
			}
		}
		for round := range 3 {
			h, ps := f.sharedFamily(t)
			// Ten referrals of one person, to two resources.
			one(fmt.Sprintf("round %d: same person", round), race(10, func(i int) error {
				res := meals
				if i%2 == 1 {
					res = other
				}
				_, err := f.svc.CreateReferral(ctx, meal(h, ps[2], res.ID))
				return err
			}))
			// A household-level item for different members.
			one(fmt.Sprintf("round %d: household-level", round), race(6, func(i int) error {
				_, err := f.svc.CreateReferral(ctx, casework.ReferralInput{HouseholdID: h.ID, PersonID: &ps[i%2].ID, ResourceID: meals.ID, ItemCode: ptr("RENT_SUBSIDY")})
				return err
			}))
			// Direct aid and referrals of one person mixed.
			one(fmt.Sprintf("round %d: aid and referrals", round), race(8, func(i int) error {
				if i%2 == 0 {
					_, err := f.svc.CreateReferral(ctx, casework.ReferralInput{HouseholdID: h.ID, PersonID: &ps[0].ID, ResourceID: shelter.ID, ItemCode: ptr("TRANSITIONAL_SHELTER")})
					return err
				}
				_, err := f.svc.RecordAid(ctx, gov(t, h, ps[0], "EMERGENCY", "2026-11-20", "2026-12-20"))
				return err
			}))
		}
		refs, aid := countWhere(t, d, "referrals", "1 = 1"), countWhere(t, d, "aid_records", "1 = 1")
		if refs < 6 || refs+aid != 9 {
			t.Fatalf("%d referrals and %d aid records, want 9 in all", refs, aid)
		}
		if bad, err := f.log.Verify(context.Background()); err != nil || bad != 0 {
			t.Fatalf("audit chain broken at %d, %v", bad, err)
		}
	})
}

func TestTakeCapacity_RacesResourceEdit(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		// An accept takes capacity while the charity cuts it: the edit
		// read the resource before the take committed. It must not write
		// a capacity below the units taken (it fails, or sees the take).
		f := newFixture(t, d)
		r := f.publish(t, f.orgA, resourcePatch(10, "MEAL_ASSISTANCE"))
		ctx := within(t, context.Background(), 30*time.Second)
		tx, err := d.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.cat.TakeCapacity(ctx, db.UnitOf(tx), r.ID, 5, 0); err != nil {
			t.Fatal(err)
		}
		edit := make(chan error, 1)
		go func() {
			_, err := f.cat.UpdateResource(within(t, f.charityA(), 30*time.Second), r.ID, nil, catalog.ResourcePatch{CapacityUnits: aidhub.Some[int64](3)})
			edit <- err
		}()
		time.Sleep(300 * time.Millisecond) // let the edit read and wait for the row
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		err = <-edit
		got := f.resource(t, r.ID)
		t.Logf("edit: %v; capacity %d, taken %d", err, *got.CapacityUnits, got.UnitsTaken)
		if got.UnitsTaken != 5 {
			t.Fatalf("units taken %d", got.UnitsTaken)
		}
		if *got.CapacityUnits < got.UnitsTaken {
			t.Fatalf("the edit wrote capacity %d below the %d units taken", *got.CapacityUnits, got.UnitsTaken)
		}
		if c := aidhub.ErrorCode(err); c != aidhub.ECONFLICT && c != aidhub.EBADINPUT {
			t.Fatalf("edit: %v, want CONFLICT or BAD_USER_INPUT", err)
		}
	})
}

func TestExpireReferrals_Concurrent(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		// Two hub replicas sweep at once while the charity accepts: every
		// overdue referral expires once, and capacity matches.
		f := newFixture(t, d)
		r := f.publish(t, f.orgA, resourcePatch(100, "MEAL_ASSISTANCE"))
		ids := seedPending(t, f, r, 60)
		ctx := within(t, f.charityA(), 30*time.Second)
		for _, id := range ids[:30] {
			f.move(t, ctx, id, casework.Accepted)
		}
		f.clock.advance(15 * 24 * time.Hour)
		counts := make([]int, 2)
		errs := race(3, func(i int) error {
			if i == 2 {
				// A late accept of the rest races the sweep.
				for _, id := range ids[30:] {
					_, err := f.svc.TransitionReferral(ctx, casework.Transition{ReferralID: id, To: casework.Accepted})
					if c := aidhub.ErrorCode(err); c != "" && c != aidhub.ECONFLICT {
						return err
					}
				}
				return nil
			}
			var err error
			counts[i], err = f.svc.ExpireReferrals(within(t, context.Background(), 30*time.Second))
			return err
		})
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		// Whatever the late accepts got is expired by a last sweep.
		last, err := f.svc.ExpireReferrals(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n := counts[0] + counts[1] + last; n != 60 {
			t.Fatalf("expired %d + %d + %d, want 60 in all", counts[0], counts[1], last)
		}
		if n := countWhere(t, d, "referrals", "status = ?", casework.Expired); n != 60 {
			t.Fatalf("%d referrals EXPIRED", n)
		}
		if n := countWhere(t, d, "referral_events", "to_status = ?", casework.Expired); n != 60 {
			t.Fatalf("%d EXPIRED events", n)
		}
		if got := capacityConsistent(t, f, r); got != 0 {
			t.Fatalf("%d units still held", got)
		}
	})
}

func TestRegisterSameResidentID_Concurrent(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		// The same person registered from several desks at once: one
		// household is made, the others get CONFLICT and write nothing.
		f := newFixture(t, d)
		id := newID()
		ctx := within(t, cmCtx, 30*time.Second)
		errs := race(8, func(i int) error {
			_, _, err := f.svc.RegisterHousehold(ctx, casework.HouseholdInput{RegionCode: huayipo, Members: []casework.PersonInput{
				{Name: "同一人", ResidentID: id, Relation: "HEAD"}, person(fmt.Sprintf("家人%d", i), "SPOUSE"),
			}})
			return err
		})
		ok := 0
		for _, err := range errs {
			switch aidhub.ErrorCode(err) {
			case "":
				ok++
			case aidhub.ECONFLICT:
			default:
				t.Fatalf("racing registration: %v", err)
			}
		}
		if ok != 1 || countRows(t, d, "households") != 1 || countRows(t, d, "persons") != 2 || len(auditEntries(t, d)) != 1 {
			t.Fatalf("%d succeeded; %d households, %d persons, %d audit entries", ok, countRows(t, d, "households"), countRows(t, d, "persons"), len(auditEntries(t, d)))
		}
	})
}

func TestRecordAid_RaceAcrossTheTree(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		// Aid in a category and in its parent, racing for one person: the
		// lock is per category tree, so the outcome is one a single writer
		// could give: at most one of each, and inpatient aid (which covers
		// MEDICAL) never before a MEDICAL one.
		f := newFixture(t, d)
		ctx := within(t, cmCtx, time.Minute)
		for round := range 3 {
			h, ps := f.sharedFamily(t)
			errs := race(8, func(i int) error {
				category := "MEDICAL"
				if i%2 == 1 {
					category = "MEDICAL_INPATIENT"
				}
				_, err := f.svc.RecordAid(ctx, gov(t, h, ps[0], category, "2026-11-20", "2026-11-20"))
				return err
			})
			for _, err := range errs {
				if err != nil && aidhub.ErrorCode(err) != aidhub.EDUPLICATEAID {
					t.Fatalf("round %d: %v", round, err)
				}
			}
			var rows []struct {
				ID           int64
				CategoryCode string
			}
			if err := d.NewSelect().TableExpr("aid_records").ColumnExpr("id, category_code").Where("household_id = ?", h.ID).OrderExpr("id").Scan(ctx, &rows); err != nil {
				t.Fatal(err)
			}
			seen := map[string]int{}
			for _, r := range rows {
				seen[r.CategoryCode]++
				if r.CategoryCode == "MEDICAL" && seen["MEDICAL_INPATIENT"] > 0 {
					t.Fatalf("round %d: MEDICAL aid recorded after inpatient aid that covers it: %v", round, rows)
				}
			}
			if len(rows) == 0 || seen["MEDICAL"] > 1 || seen["MEDICAL_INPATIENT"] > 1 {
				t.Fatalf("round %d: %v", round, rows)
			}
		}
	})
}
