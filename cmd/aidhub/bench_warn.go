package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/spf13/cobra"

	"github.com/aidhub/aidhub/benchmark"
	"github.com/aidhub/aidhub/hub"
	"github.com/aidhub/aidhub/synthpop"
	"github.com/aidhub/aidhub/warning/detect"
)

// benchWarnCmd backtests the early-warning types on the generated signals:
// adaptive thresholds against fixed ones, scored against the shocks bench
// generate injected (package benchmark, warn.go).
func (a *app) benchWarnCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "warn",
		Short: "Backtest the warning types on the generated signals: adaptive against fixed thresholds",
		Long: `Read the generated store's households and signals once, then for each of the
last --months months calibrate the adaptive thresholds and evaluate every
household against the default warning types, with those thresholds and with
the types' fixed city-wide cut-offs. Print, per type that has ground truth,
the injected shocks found (recall) and the share of its warnings that were
injected shocks (precision), the warnings per 1,000 people per district, the
flood district's figure, and whether issue 14's targets hold. Reads the
ground truth bench generate wrote into --data; exits non-zero only on errors.`,
		Example: `  aidhub bench warn --data ./bench
  aidhub bench warn --data ./bench --months 8 --workers 2`,
		Args:              noArgs,
		ValidArgsFunction: cobra.NoFileCompletions,
	}
	fs := c.Flags()
	dataDir := dataFlag(c, "folder of the SQLite database, the key file and the ground truth of bench generate")
	months := fs.Int("months", 6, "the last months of the signals to evaluate (1 to 9: each needs 3 months of baseline)")
	workers := fs.Int("workers", min(2, runtime.GOMAXPROCS(0)), "evaluation workers")
	c.RunE = action(func(ctx context.Context, _ []string) error {
		switch {
		case *months < 1 || *months > 9:
			return errUsage{"bench warn: --months must be 1 to 9"}
		case *workers < 1 || *workers > 64:
			return errUsage{"bench warn: --workers must be 1 to 64"}
		}
		truth, err := synthpop.ReadGroundTruth(*dataDir)
		if err != nil {
			return fmt.Errorf("bench warn: %w", err)
		}
		// the hub's today is the generator's: ages, recent events and
		// groups left are as the signals were generated
		noon := time.Date(truth.Today.Year(), truth.Today.Month(), truth.Today.Day(), 12, 0, 0, 0, time.FixedZone("CST", 8*3600))
		h, err := hub.Open(ctx, hub.Config{
			DatabaseURL: a.getenv("AIDHUB_DATABASE_URL"),
			DataDir:     *dataDir,
			Secret:      a.getenv("AIDHUB_SECRET"),
			Offline:     true,
			Logs:        a.stderr,
			Now:         func() time.Time { return noon },
		})
		if err != nil {
			return err
		}
		defer h.Close()
		types := detect.DefaultTypes()
		_, err = benchmark.Warn(ctx, h.Warning, benchmark.WarnOptions{
			Types: types, Truth: truth, Months: *months, Workers: *workers, Out: a.stdout,
			NewEvaluator: func(src detect.ThresholdSource) (benchmark.Evaluator, error) { return detect.NewEvaluator(types, src) },
		})
		return err
	})
	return c
}

// writeGroundTruth prints what bench generate made of the signals and
// writes their ground truth (the injected shocks, the flood; no personal
// data) into the data folder, where bench warn reads it.
func (a *app) writeGroundTruth(rep synthpop.Report, dataDir string) error {
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return fmt.Errorf("bench generate: %w", err)
	}
	if err := synthpop.WriteGroundTruth(dataDir, rep.GroundTruth()); err != nil {
		return fmt.Errorf("bench generate: %w", err)
	}
	flood := "no flood"
	if f := rep.Flood; f.District != "" {
		flood = fmt.Sprintf("a flood in %s (%s) in %s", f.Name, f.District, f.Month)
	}
	fmt.Fprintf(a.stdout, "%d signals of %s … %s (%.1f per household-year), %d injected shocks, %s; ground truth in %s and %s\n",
		rep.Signals, rep.SignalMonths[0], rep.SignalMonths[1], float64(rep.Signals)/float64(max(rep.Households, 1)), len(rep.Shocks), flood,
		filepath.Join(dataDir, synthpop.ShocksFile), filepath.Join(dataDir, synthpop.SignalsFile))
	return nil
}
