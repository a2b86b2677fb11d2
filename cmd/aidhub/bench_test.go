package main

import (
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/aidhub/aidhub/db"
)

func TestBenchGenerate(t *testing.T) {
	for _, engine := range []string{db.SQLite, db.Postgres} {
		t.Run(engine, func(t *testing.T) {
			e := env{}
			if engine == db.Postgres {
				e["AIDHUB_DATABASE_URL"] = postgresSchemaURL(t)
			}
			dir := t.TempDir()
			r := mustRun(t, e, "bench", "generate", "--persons", "500", "--resources", "20", "--seed", "3", "--today", "2026-11-28", "--data", dir, "--quiet")
			if !strings.Contains(r.stdout, "generated 500 persons in ") || !strings.Contains(r.stdout, "and 20 resources of 20 organizations into "+engine) ||
				!strings.Contains(r.stdout, "(seed 3, day 2026-11-28)") || !strings.Contains(r.stdout, "rows/s") {
				t.Errorf("output: %s", r)
			}
			if r.stderr != "" {
				t.Errorf("--quiet still writes to stderr: %s", r)
			}
			m := regexp.MustCompile(`\((\d+) needs`).FindStringSubmatch(r.stdout)
			if m == nil {
				t.Fatalf("no needs in the output: %s", r)
			}
			needs, _ := strconv.Atoi(m[1])

			// the hub takes it from there
			sw := mustRun(t, e, "sweep", "--data", dir, "--quiet")
			if !strings.Contains(sw.stdout, "swept "+m[1]+" open needs") || needs == 0 {
				t.Errorf("sweep after generate: %s", sw)
			}
			mustRun(t, e, "token", "create", "--role", "ADMIN", "--data", dir)

			// and it never writes over households
			again := run(t, e, "bench", "generate", "--persons", "10", "--seed", "4", "--data", dir, "--quiet")
			if again.code != 1 || again.stdout != "" {
				t.Fatalf("second generate: %s", again)
			}
			line := oneErrorLine(t, again)
			if !strings.Contains(line, "already has households") || !strings.Contains(line, "empty database") {
				t.Errorf("error line: %s", line)
			}
		})
	}
}

func TestBenchGenerateUsage(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{"bench"},
		{"bench", "sweep"},
		{"bench", "generate", "--data", dir},
		{"bench", "generate", "--persons", "0", "--data", dir},
		{"bench", "generate", "--persons", "10", "--resources", "-1", "--data", dir},
		{"bench", "generate", "--persons", "ten", "--data", dir},
		{"bench", "generate", "--persons", "10", "--data", dir, "extra"},
		{"bench", "generate", "--persons", "10", "--today", "28.11.2026", "--data", dir},
		{"bench", "generate", "--persons", "10", "--today", "1999-12-31", "--data", dir},
	} {
		r := run(t, env{}, args...)
		if r.code != 2 {
			t.Errorf("aidhub %s: %s", strings.Join(args, " "), r)
			continue
		}
		oneErrorLine(t, r)
	}
	if r := run(t, env{}, "help"); !strings.Contains(r.stdout, "aidhub bench generate --persons N") {
		t.Errorf("usage does not list bench generate: %s", r)
	}
}
