package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/aidhub/aidhub"
	"github.com/aidhub/aidhub/benchmark"
	"github.com/aidhub/aidhub/hub"
)

// benchMatchCmd times the matching engine on the store's data against the
// SQL and Meilisearch baselines and checks that they agree (package
// benchmark).
func (a *app) benchMatchCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "match",
		Short: "Time matching on the store's data against the SQL and Meilisearch baselines",
		Long: `Time the matching engine's sweep on the store's data (see bench generate)
beside a set-based SQL matcher and one Meilisearch query per need, and check
that they agree on each need's top match; exit 1 when they do not.`,
		Example: `  aidhub bench match --data ./bench
  aidhub bench match --regions all --sql-full --runs 3
  aidhub bench match --meili-bin "$(./scripts/meilisearch)" --cpuprofile cpu.out`,
		Args:              noArgs,
		ValidArgsFunction: cobra.NoFileCompletions,
	}
	fs := c.Flags()
	dataDir := dataFlag(c, "folder of the SQLite database and the key file")
	day := fs.String("today", "", "the day to match on, YYYY-MM-DD (default: today in China)")
	runs := fs.Int("runs", 2, "how many times to time the sweep, the SQL matcher and the Meilisearch queries")
	workers := fs.Int("workers", runtime.GOMAXPROCS(0), "sweep workers")
	regions := fs.String("regions", "500103,500112,500235", "region prefixes of the SQL sample (comma-separated), or all")
	sqlFull := fs.Bool("sql-full", false, "also run the SQL matcher over every open need")
	workMem := fs.String("work-mem", "256MB", "PostgreSQL work_mem for the SQL matcher's session")
	jit := fs.Bool("jit", false, "leave PostgreSQL's JIT on for the SQL matcher")
	meiliBin := fs.String("meili-bin", "", "start this Meilisearch binary for the run (./scripts/meilisearch prints it)")
	meiliURL := fs.String("meili-url", "", "use the Meilisearch at this URL instead")
	meiliKey := fs.String("meili-key", "", "its API key")
	meiliSample := fs.Int("meili-sample", 2000, "needs of the sample that get one Meilisearch query each")
	meiliWorkers := fs.Int("meili-workers", 2, "Meilisearch queries at a time")
	rematch := fs.Int("rematch", 2, "resources of each kind (city-wide, district, street or village) to time the publish re-match for")
	serviceRematch := fs.Bool("service-rematch", true, "also time matchsvc.RematchResource (loads the matcher's engine and need index)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the run to this file")
	allowNoComparison := fs.Bool("allow-no-comparison", false, "succeed even when nothing could be compared (no PostgreSQL and no Meilisearch, or no open need in the sample)")
	c.RunE = action(func(ctx context.Context, _ []string) error {
		switch {
		case *runs < 1 || *runs > 10:
			return errUsage{"bench match: --runs must be 1 to 10"}
		case *workers < 1 || *workers > 256:
			return errUsage{"bench match: --workers must be 1 to 256"}
		case *meiliSample < 1 || *meiliWorkers < 1 || *meiliWorkers > 64:
			return errUsage{"bench match: --meili-sample must be at least 1 and --meili-workers 1 to 64"}
		case *rematch < 0:
			return errUsage{"bench match: --rematch must be 0 or more"}
		case *meiliBin != "" && *meiliURL != "":
			return errUsage{"bench match: give --meili-bin or --meili-url, not both"}
		}
		var prefixes []string
		if *regions != "all" {
			for _, p := range strings.Split(*regions, ",") {
				p = strings.TrimSpace(p)
				if p == "" || strings.Trim(p, "0123456789") != "" || len(p) > 12 {
					return errUsage{fmt.Sprintf("bench match: --regions: %q is not a division-code prefix", p)}
				}
				prefixes = append(prefixes, p)
			}
		}
		now := time.Now
		if *day != "" {
			d, err := aidhub.ParseDate(*day)
			if err != nil || d.Year() < 2000 || d.Year() > 2100 {
				return errUsage{"bench match: --today must be a date from 2000 to 2100 in the form YYYY-MM-DD"}
			}
			noon := time.Date(d.Year(), d.Month(), d.Day(), 12, 0, 0, 0, time.FixedZone("CST", 8*3600))
			now = func() time.Time { return noon }
		}
		if *cpuProfile != "" {
			f, err := os.Create(*cpuProfile)
			if err != nil {
				return err
			}
			defer f.Close()
			if err := pprof.StartCPUProfile(f); err != nil {
				return err
			}
			defer pprof.StopCPUProfile()
		}

		h, err := hub.Open(ctx, hub.Config{
			DatabaseURL: a.getenv("AIDHUB_DATABASE_URL"),
			DataDir:     *dataDir,
			Secret:      a.getenv("AIDHUB_SECRET"),
			Offline:     true,
			Logs:        a.stderr,
			Now:         now,
		})
		if err != nil {
			return err
		}
		defer h.Close()
		_, err = benchmark.Run(ctx, h, benchmark.Options{
			Workers: *workers, Runs: *runs, Prefixes: prefixes, SQLFull: *sqlFull, WorkMem: *workMem, JIT: *jit,
			MeiliBin: *meiliBin, MeiliURL: *meiliURL, MeiliKey: *meiliKey, MeiliSample: *meiliSample, MeiliWorkers: *meiliWorkers,
			Rematch: *rematch, ServiceRematch: *serviceRematch, AllowNoComparison: *allowNoComparison, Out: a.stdout,
		})
		if errors.Is(err, benchmark.ErrMismatch) || errors.Is(err, benchmark.ErrNothingCompared) {
			return fmt.Errorf("bench match: %w", err)
		}
		return err
	})
	return c
}
