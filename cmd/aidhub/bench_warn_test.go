package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBenchWarn generates a small store with its signals and runs the
// backtest on it (SQLite; the backtest reads through the warning service,
// whose reads are tested on both databases in package warning).
func TestBenchWarn(t *testing.T) {
	dir := t.TempDir()
	g := mustRun(t, env{}, "bench", "generate", "--persons", "3000", "--resources", "10", "--seed", "5", "--today", "2026-11-28", "--data", dir, "--quiet")
	if !strings.Contains(g.stdout, " signals of 2025-12 … 2026-11 (") || !strings.Contains(g.stdout, "a flood in 万州区 (500101) in 2026-") {
		t.Errorf("generate output: %s", g)
	}
	shocks, err := os.ReadFile(filepath.Join(dir, "shocks.csv"))
	if err != nil || !strings.HasPrefix(string(shocks), "household_id,month,kind\n") {
		t.Fatalf("shocks.csv: %v %q", err, shocks)
	}

	r := mustRun(t, env{}, "bench", "warn", "--data", dir, "--months", "3")
	for _, want := range []string{
		"## early-warning backtest: ",
		"; months 2026-09 … 2026-11",
		"2026-08 (only to tell new warnings from open ones): calibrate ",
		"| type | shock | shocks | recall adaptive | recall fixed |",
		"| INCOME_SUDDEN_DROP | INCOME_COLLAPSE | ",
		"| HOSPITALISATION_HIGH_OOP | MEDICAL_BILL | ",
		"| JOB_LOSS_WITH_DEPENDANTS | JOB_LOSS | ",
		"| any of its types | MEDICAL_BILL | ",
		"| adaptive | ", "| fixed | ",
		"targets: adaptive recall ≥ fixed on every type: ",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("output lacks %q: %s", want, r)
		}
	}
}

func TestBenchWarnUsage(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{"bench", "warn", "--months", "0", "--data", dir},
		{"bench", "warn", "--months", "10", "--data", dir},
		{"bench", "warn", "--workers", "0", "--data", dir},
		{"bench", "warn", "--data", dir, "extra"},
	} {
		r := run(t, env{}, args...)
		if r.code != 2 {
			t.Errorf("aidhub %s: %s", strings.Join(args, " "), r)
			continue
		}
		oneErrorLine(t, r)
	}
	// no ground truth in the folder: a failure, not a usage error
	r := run(t, env{}, "bench", "warn", "--data", dir)
	if r.code != 1 || !strings.Contains(oneErrorLine(t, r), "bench generate --data") {
		t.Errorf("without a ground truth: %s", r)
	}
}
