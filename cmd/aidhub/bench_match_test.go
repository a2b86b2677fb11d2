package main

import (
	"strings"
	"testing"

	"github.com/aidhub/aidhub/db"
)

// TestBenchMatch runs `bench match` end to end on a small generated store
// (without Meilisearch; package benchmark checks that baseline).
func TestBenchMatch(t *testing.T) {
	for _, engine := range []string{db.SQLite, db.Postgres} {
		t.Run(engine, func(t *testing.T) {
			e := env{}
			if engine == db.Postgres {
				e["AIDHUB_DATABASE_URL"] = postgresSchemaURL(t)
			}
			dir := t.TempDir()
			mustRun(t, e, "bench", "generate", "--persons", "300", "--resources", "40", "--seed", "2", "--today", "2026-11-29", "--data", dir, "--quiet")
			args := []string{"bench", "match", "--data", dir, "--today", "2026-11-29", "--regions", "all", "--runs", "1", "--rematch", "1"}
			if engine == db.SQLite {
				// No SQL matcher and no Meilisearch: nothing to compare,
				// which fails the run unless allowed.
				r := run(t, e, args...)
				if r.code != 1 || !strings.Contains(r.stdout, "agreement: nothing compared: the SQL matcher needs PostgreSQL and the store is sqlite; no Meilisearch was given") ||
					!strings.Contains(r.stderr, "nothing was compared") || strings.Contains(r.stdout, "0 comparisons") {
					t.Errorf("without --allow-no-comparison: %s", r)
				}
				oneErrorLine(t, r)
				args = append(args, "--allow-no-comparison")
			}
			r := mustRun(t, e, args...)
			want := "0 mismatches"
			if engine == db.SQLite {
				want = "agreement: nothing compared"
			}
			for _, want := range []string{"## engine", "sweep 1: ", "publish re-match", want} {
				if !strings.Contains(r.stdout, want) {
					t.Errorf("output lacks %q: %s", want, r)
				}
			}
			sql := strings.Contains(r.stdout, "check engine = sql: the same top match")
			if sql != (engine == db.Postgres) {
				t.Errorf("SQL matcher ran: %v on %s: %s", sql, engine, r)
			}
		})
	}
}

func TestBenchMatchUsage(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{"bench", "match", "--runs", "0", "--data", dir},
		{"bench", "match", "--regions", "50x", "--data", dir},
		{"bench", "match", "--today", "29.11.2026", "--data", dir},
		{"bench", "match", "--meili-bin", "m", "--meili-url", "http://x", "--data", dir},
		{"bench", "match", "--data", dir, "extra"},
	} {
		r := run(t, env{}, args...)
		if r.code != 2 {
			t.Errorf("aidhub %s: %s", strings.Join(args, " "), r)
			continue
		}
		oneErrorLine(t, r)
	}
}
