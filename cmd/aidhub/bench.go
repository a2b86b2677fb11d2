package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/aidhub/aidhub"
	"github.com/aidhub/aidhub/db"
	"github.com/aidhub/aidhub/hub"
	"github.com/aidhub/aidhub/regions"
	"github.com/aidhub/aidhub/secret"
	"github.com/aidhub/aidhub/synthpop"
)

// benchCmd is the benchmark chores: `bench generate` fills an empty store
// with a synthetic population; `bench match` times matching on it
// (bench_match.go).
func (a *app) benchCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "generate --persons N",
		Short: "Fill an empty store with a reproducible synthetic population",
		Long: `Fill an empty store with a synthetic population over the real Chongqing
division codes: households, persons, needs, aid records, referrals, and
published resources of generated organizations. The same --seed and
--today give the same population. Run aidhub reindex afterwards to make
the resources searchable.`,
		Example: `  aidhub bench generate --persons 100000 --resources 2000 --data ./bench
  aidhub bench generate --persons 3080000 --resources 20000 --seed 1 --today 2026-11-28`,
		Args:              noArgs,
		ValidArgsFunction: cobra.NoFileCompletions,
	}
	fs := c.Flags()
	persons := fs.Int("persons", 0, "persons to generate (Chongqing monitors 3,080,000; required)")
	resources := fs.Int("resources", 0, "published resources to generate")
	seed := fs.Int64("seed", 1, "random seed: the same seed and day give the same population")
	day := fs.String("today", "", "the day to generate for, YYYY-MM-DD (default: today in China)")
	dataDir := dataFlag(c, "folder of the SQLite database and the key file")
	quiet := fs.Bool("quiet", false, "no progress bar")
	c.RunE = action(func(ctx context.Context, _ []string) error {
		switch {
		case *persons < 1 || *persons > synthpop.MaxPersons:
			return errUsage{fmt.Sprintf("bench generate: --persons must be 1 to %d", synthpop.MaxPersons)}
		case *resources < 0 || *resources > synthpop.MaxResources:
			return errUsage{fmt.Sprintf("bench generate: --resources must be 0 to %d", synthpop.MaxResources)}
		}
		var today time.Time // zero: now
		if *day != "" {
			d, err := aidhub.ParseDate(*day)
			if err != nil || d.Year() < 2000 || d.Year() > 2100 {
				return errUsage{"bench generate: --today must be a date from 2000 to 2100 in the form YYYY-MM-DD"}
			}
			today = time.Date(d.Year(), d.Month(), d.Day(), 12, 0, 0, 0, time.FixedZone("CST", 8*3600))
		}

		h, err := hub.Open(ctx, hub.Config{
			DatabaseURL: a.getenv("AIDHUB_DATABASE_URL"),
			DataDir:     *dataDir,
			Secret:      a.getenv("AIDHUB_SECRET"),
			Offline:     true,
			Logs:        a.stderr,
		})
		if err != nil {
			return err
		}
		defer h.Close()
		// the keys the hub itself uses (the database says nothing of them)
		keys, err := secret.Load(a.getenv("AIDHUB_SECRET"), *dataDir)
		if err != nil {
			return err
		}
		cat, err := h.Catalog.Snapshot(ctx)
		if err != nil {
			return err
		}

		bar := newProgress(a.stderr, "generate", *quiet)
		rep, err := synthpop.Run(ctx, h.DB, keys, cat, regions.Chongqing(), synthpop.Options{
			Persons: *persons, Resources: *resources, Seed: *seed, Today: today,
			Progress: bar.Update,
		})
		bar.Done(err)
		if errors.Is(err, synthpop.ErrNotEmpty) {
			where := "this database"
			if h.DB.Engine == db.SQLite {
				where = "a new --data folder"
			}
			return fmt.Errorf("bench generate: %s already has households; generate only into an empty database (%s)", h.DB.Where, where)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(a.stdout, "generated %d persons in %d households (%d needs, %d aid records, %d referrals) and %d resources of %d organizations into %s %s (seed %d, day %s)\n",
			rep.Persons, rep.Households, rep.Needs, rep.AidRecords, rep.Referrals, rep.Resources, rep.Organizations, h.DB.Engine, h.DB.Where, rep.Seed, rep.Today)
		if err := a.writeGroundTruth(rep, *dataDir); err != nil {
			return err
		}
		fmt.Fprintf(a.stdout, "%d rows in %s: %.0f rows/s, %.0f persons/s", rep.Rows(), rep.Duration.Round(time.Millisecond),
			rep.RowsPerSecond(), float64(rep.Persons)/rep.Duration.Seconds())
		if rep.Rebuild > 0 {
			fmt.Fprintf(a.stdout, " (of which indexes and constraint checks %s)", rep.Rebuild.Round(time.Millisecond))
		}
		fmt.Fprintf(a.stdout, "; statistics %s\n", rep.Analyze.Round(time.Millisecond))
		fmt.Fprintln(a.stdout, "run `aidhub reindex` to make the resources searchable")

		return nil
	})
	return group("bench", "Generate a synthetic population and time matching on it", "say `bench generate --persons N --resources M --seed S` or `bench match`", c, a.benchMatchCmd(), a.benchWarnCmd())
}
