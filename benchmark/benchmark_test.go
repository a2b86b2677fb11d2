package benchmark_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aidhub/aidhub"
	"github.com/aidhub/aidhub/benchmark"
	"github.com/aidhub/aidhub/db"
	"github.com/aidhub/aidhub/db/dbtest"
	"github.com/aidhub/aidhub/hub"
	"github.com/aidhub/aidhub/matching"
	"github.com/aidhub/aidhub/regions"
	"github.com/aidhub/aidhub/search"
	"github.com/aidhub/aidhub/search/searchtest"
	"github.com/aidhub/aidhub/secret"
	"github.com/aidhub/aidhub/synthpop"
)

func fixedNow() time.Time { return time.Date(2026, 11, 29, 12, 0, 0, 0, time.FixedZone("CST", 8*3600)) }

// TestBaselinesAgree runs `bench match` on a small generated population:
// the engine, the SQL matcher (PostgreSQL only) and the Meilisearch
// baseline (when a test Meilisearch is running) must give every need the
// same top match, so the comparison code cannot rot.
func TestBaselinesAgree(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		keys, err := secret.NewKeys([]byte("benchmark tests: thirty-two bytes of key material"))
		if err != nil {
			t.Fatal(err)
		}
		h, err := hub.New(ctx, d, hub.Config{Offline: true, Keys: keys, Now: fixedNow, DataDir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		cat, err := h.Catalog.Snapshot(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := synthpop.Run(ctx, h.DB, keys, cat, regions.Chongqing(), synthpop.Options{
			Persons: 4000, Resources: 600, Seed: 5, Today: fixedNow(),
		}); err != nil {
			t.Fatal(err)
		}

		var meili search.MeiliConfig
		if os.Getenv("AIDHUB_TEST_MEILI_URL") != "" || os.Getenv("CI") == "true" {
			meili = searchtest.MeiliConfig(t)
		} else {
			t.Log("no test Meilisearch (run through ./scripts/test): the Meilisearch baseline is not checked")
		}
		var out bytes.Buffer
		sum, err := benchmark.Run(ctx, h, benchmark.Options{
			Runs: 1, MeiliURL: meili.URL, MeiliKey: meili.Key, MeiliIndex: meili.Index, MeiliSample: 100_000,
			Rematch: 1, ServiceRematch: true, Out: &out,
			// SQLite without Meilisearch has no baseline to compare with.
			AllowNoComparison: !d.IsPostgres() && meili.URL == "",
		})
		t.Log("\n" + out.String())
		if err != nil {
			t.Fatal(err)
		}
		if sum.SampleNeeds < 1000 || sum.SampleNeeds != sum.OpenNeeds {
			t.Errorf("sample of %d needs of %d open", sum.SampleNeeds, sum.OpenNeeds)
		}
		if d.IsPostgres() && sum.Compared["engine = sql"] != sum.SampleNeeds {
			t.Errorf("engine and SQL compared on %d needs, want %d", sum.Compared["engine = sql"], sum.SampleNeeds)
		}
		if meili.URL != "" {
			want := "engine = meilisearch"
			if d.IsPostgres() {
				want = "engine = sql = meilisearch"
			}
			if sum.Compared[want] != sum.SampleNeeds || sum.MeiliNeeds != sum.SampleNeeds {
				t.Errorf("%s compared on %d needs (%d queried), want %d", want, sum.Compared[want], sum.MeiliNeeds, sum.SampleNeeds)
			}
		}
	})
}

// TestNothingCompared: a run in which no baseline met the engine (here
// an empty store: no open need in the sample, and on SQLite no SQL
// matcher) fails with ErrNothingCompared and says why, rather than
// reporting "0 comparisons, 0 mismatches" as agreement; unless allowed.
func TestNothingCompared(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		keys, err := secret.NewKeys([]byte("benchmark tests: thirty-two bytes of key material"))
		if err != nil {
			t.Fatal(err)
		}
		h, err := hub.New(ctx, d, hub.Config{Offline: true, Keys: keys, Now: fixedNow, DataDir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		for _, allow := range []bool{false, true} {
			var out bytes.Buffer
			sum, err := benchmark.Run(ctx, h, benchmark.Options{Runs: 1, Rematch: 1, AllowNoComparison: allow, Out: &out})
			if allow && err != nil {
				t.Fatalf("allowed: %v\n%s", err, out.String())
			}
			if !allow && !errors.Is(err, benchmark.ErrNothingCompared) {
				t.Fatalf("err = %v, want ErrNothingCompared\n%s", err, out.String())
			}
			if !strings.Contains(out.String(), "agreement: nothing compared: the sample has no open need") ||
				strings.Contains(out.String(), "0 comparisons") {
				t.Errorf("report:\n%s", out.String())
			}
			if sum == nil || sum.Compared["engine = sql"] != 0 || len(sum.Mismatches) != 0 {
				t.Errorf("summary %+v", sum)
			}
		}
	})
}

// TestFilter pins the Meilisearch filter of a need.
func TestFilter(t *testing.T) {
	today, _ := aidhub.ParseDay("2026-11-29")
	n := matching.Need{Region: "500103001", Category: "MEDICAL", Item: "MEDICAL_AID", Groups: []string{"DIBAO", "ORPHAN"}, Age: 7, IncomePerCapitaFen: 41000}
	want := `categories = "MEDICAL" AND (anyGroup = true OR groups IN ["DIBAO", "ORPHAN"]) AND coverage IN ["5", "50", "500", "5001", "50010", "500103", "5001030", "50010300", "500103001"]` +
		` AND ageMin <= 7 AND ageMax >= 7 AND incomeCeiling >= 41000 AND validFrom <= 9829 AND validUntil >= 9829 AND unitsLeft > 0 AND budgetLeft > 0`
	if got := benchmark.Filter(&n, today); got != want {
		t.Errorf("filter\n got %s\nwant %s", got, want)
	}
	n.Item, n.Groups = "", nil
	if got := benchmark.Filter(&n, today); got[:54] != `categories = "MEDICAL" AND anyGroup = true AND coverag` {
		t.Errorf("filter without item and groups: %s", got)
	}
}
