package audit_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/aidhub/aidhub/audit"
	"github.com/aidhub/aidhub/auth"
	"github.com/aidhub/aidhub/db"
	"github.com/aidhub/aidhub/db/dbtest"
)

var (
	cm      = auth.Principal{TokenID: 7, Role: auth.CaseManager, RegionPrefix: "500103"}
	charity = auth.Principal{TokenID: 9, Role: auth.Charity, OrganizationID: 3}
)

func as(p auth.Principal) context.Context { return auth.WithPrincipal(context.Background(), p) }

// now is a clock with nanoseconds and a zone other than UTC.
func now() time.Time {
	return time.Date(2026, 11, 28, 12, 0, 0, 123456789, time.FixedZone("CST", 8*3600))
}

func appendIn(t testing.TB, d *db.DB, log *audit.Log, ctx context.Context, action string, id int64, s audit.Summary) {
	t.Helper()
	if err := d.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		return log.Append(ctx, db.UnitOf(tx), action, "Thing", id, s)
	}); err != nil {
		t.Fatalf("append: %v", err)
	}
}

func verify(t testing.TB, log *audit.Log) int64 {
	t.Helper()
	bad, err := log.Verify(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return bad
}

func all(t testing.TB, d *db.DB) []audit.Entry {
	t.Helper()
	var es []audit.Entry
	if err := d.NewSelect().Model(&es).Order("id").Scan(context.Background()); err != nil {
		t.Fatal(err)
	}
	return es
}

func exec(t testing.TB, d *db.DB, query string, args ...any) {
	t.Helper()
	if _, err := d.ExecContext(context.Background(), query, args...); err != nil {
		t.Fatal(err)
	}
}

func TestLog_AppendAndVerify(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		log := audit.New(d, now)
		if bad := verify(t, log); bad != 0 {
			t.Fatalf("empty log: %d", bad)
		}
		appendIn(t, d, log, as(cm), "registerHousehold", 1, audit.Summary{"persons": 3, "regionCode": "500103001003"})
		appendIn(t, d, log, as(charity), "transitionReferral", 5, audit.Summary{"to": "ACCEPTED"})
		appendIn(t, d, log, context.Background(), "system", 0, nil)
		appendIn(t, d, log, as(auth.System), "expire", 5, audit.Summary{"to": "EXPIRED"})
		// A rolled-back transaction leaves no entry.
		boom := errors.New("boom")
		if err := d.Tx(as(cm), func(ctx context.Context, tx bun.Tx) error {
			if err := log.Append(ctx, db.UnitOf(tx), "lost", "Thing", 9, nil); err != nil {
				return err
			}
			return boom
		}); !errors.Is(err, boom) {
			t.Fatal(err)
		}

		es := all(t, d)
		if len(es) != 4 {
			t.Fatalf("%d entries", len(es))
		}
		e := es[0]
		if !e.At.Equal(now().Truncate(time.Microsecond)) || *e.TokenID != 7 || e.Role != "CASE_MANAGER" || e.OrganizationID != nil ||
			e.RegionPrefix != "500103" || e.Action != "registerHousehold" || e.SubjectType != "Thing" || *e.SubjectID != 1 ||
			e.Summary != `{"persons":3,"regionCode":"500103001003"}` || len(e.Hash) != 64 || e.PrevHash != fmt.Sprintf("%064d", 0) {
			t.Fatalf("first entry %+v", e)
		}
		if es[1].Role != "CHARITY" || *es[1].OrganizationID != 3 || es[1].PrevHash != es[0].Hash {
			t.Fatalf("second entry %+v", es[1])
		}
		if es[2].Role != "ANONYMOUS" || es[2].TokenID != nil || es[2].SubjectID != nil || es[2].Summary != "null" {
			t.Fatalf("anonymous entry %+v", es[2])
		}
		if es[3].Role != "ADMIN" || es[3].TokenID != nil {
			t.Fatalf("system entry %+v", es[3])
		}
		if bad := verify(t, log); bad != 0 {
			t.Fatalf("intact chain reported broken at %d", bad)
		}
		got, err := log.Entries(context.Background(), "Thing", 5)
		if err != nil || len(got) != 2 || got[0].ID != es[1].ID || got[1].ID != es[3].ID {
			t.Fatalf("entries of Thing 5: %+v, %v", got, err)
		}

		// Each changed field breaks the chain at its entry; restored, it
		// holds again.
		for _, c := range []struct {
			column string
			value  any
		}{
			{"summary", `{"persons":4,"regionCode":"500103001003"}`},
			{"role", "ADMIN"},
			{"action", "deleteEverything"},
			{"subject_id", 2},
			{"token_id", 8},
			{"region_prefix", "50"},
			{"at", now().Add(time.Second)},
		} {
			exec(t, d, "UPDATE audit_log SET "+c.column+" = ? WHERE id = ?", c.value, es[1].ID)
			if bad := verify(t, log); bad != es[1].ID {
				t.Errorf("%s changed: verify says %d, want %d", c.column, bad, es[1].ID)
			}
			var orig any
			switch c.column {
			case "summary":
				orig = es[1].Summary
			case "role":
				orig = es[1].Role
			case "action":
				orig = es[1].Action
			case "subject_id":
				orig = *es[1].SubjectID
			case "token_id":
				orig = *es[1].TokenID
			case "region_prefix":
				orig = es[1].RegionPrefix
			case "at":
				orig = es[1].At
			}
			exec(t, d, "UPDATE audit_log SET "+c.column+" = ? WHERE id = ?", orig, es[1].ID)
			if bad := verify(t, log); bad != 0 {
				t.Fatalf("%s restored: verify says %d", c.column, bad)
			}
		}
		// A recomputed hash does not help: the next entry's link breaks.
		exec(t, d, "UPDATE audit_log SET hash = ? WHERE id = ?", fmt.Sprintf("%064x", 1), es[1].ID)
		if bad := verify(t, log); bad != es[1].ID {
			t.Fatalf("hash changed: %d", bad)
		}
		exec(t, d, "UPDATE audit_log SET hash = ? WHERE id = ?", es[1].Hash, es[1].ID)
		// A removed entry breaks the link of the one after it.
		exec(t, d, "DELETE FROM audit_log WHERE id = ?", es[1].ID)
		if bad := verify(t, log); bad != es[2].ID {
			t.Fatalf("entry removed: verify says %d, want %d", bad, es[2].ID)
		}
	})
}

func TestLog_VerifyLongChain(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		// More than one page of the verifier.
		log := audit.New(d, now)
		const n = 1005
		if err := d.Tx(as(cm), func(ctx context.Context, tx bun.Tx) error {
			for i := range n {
				if err := log.Append(ctx, db.UnitOf(tx), "step", "Thing", int64(i+1), audit.Summary{"i": i}); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if bad := verify(t, log); bad != 0 {
			t.Fatalf("intact: %d", bad)
		}
		es := all(t, d)
		target := es[1002].ID
		exec(t, d, "UPDATE audit_log SET summary = ? WHERE id = ?", `{"i":0}`, target)
		if bad := verify(t, log); bad != target {
			t.Fatalf("tampered entry on the second page: verify says %d, want %d", bad, target)
		}
	})
}

func TestLog_ConcurrentAppend(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		// Appenders in many transactions at once keep one linear chain.
		log := audit.New(d, now)
		const writers, each = 24, 5
		var wg sync.WaitGroup
		errs := make(chan error, writers)
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range each {
					err := d.Tx(as(cm), func(ctx context.Context, tx bun.Tx) error {
						return log.Append(ctx, db.UnitOf(tx), "race", "Thing", int64(w*100+i), audit.Summary{"w": w, "i": i})
					})
					if err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatalf("concurrent append: %v", err)
		}
		es := all(t, d)
		if len(es) != writers*each {
			t.Fatalf("%d entries", len(es))
		}
		prevs := map[string]bool{}
		for _, e := range es {
			if prevs[e.PrevHash] {
				t.Fatalf("two entries follow the same one: the chain forked")
			}
			prevs[e.PrevHash] = true
		}
		if bad := verify(t, log); bad != 0 {
			t.Fatalf("chain broken at %d", bad)
		}
	})
}
