package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/aidhub/aidhub/synthpop"
)

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
