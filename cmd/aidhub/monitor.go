package main

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/aidhub/aidhub"
	"github.com/aidhub/aidhub/auth"
	"github.com/aidhub/aidhub/hub"
	"github.com/aidhub/aidhub/warning/detect"
)

// monitorCmd is `aidhub monitor`: the early warning's full pass, every
// household against every warning type, with the counts of what it raised.
func (a *app) monitorCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "monitor",
		Short: "Evaluate every household against every warning type and print what was raised",
		Long: `Run the early warning's full pass (动态监测): calibrate this month's
adaptive thresholds, evaluate every household against every enabled warning
type, and raise the warnings that are not open yet. Prints the warnings
raised per type (code, count, Chinese name) and per severity, the month, the
households evaluated and how long it took. A warning already open for a
household is not raised again, so running it twice raises nothing new.`,
		Example: `  aidhub monitor --data ./data
  AIDHUB_DATABASE_URL=postgres://aidhub@db:5432/aidhub aidhub monitor --quiet`,
		Args:              noArgs,
		ValidArgsFunction: cobra.NoFileCompletions,
	}
	dataDir := dataFlag(c, "folder of the SQLite database and the key file")
	quiet := c.Flags().Bool("quiet", false, "no progress bar")
	today := c.Flags().String("today", "", "development and benchmarks only: evaluate as if the date in China were this day, YYYY-MM-DD (also AIDHUB_TODAY)")
	c.RunE = action(func(ctx context.Context, _ []string) error {
		now, err := a.monitorClock(*today)
		if err != nil {
			return err
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
		ctx = auth.WithPrincipal(ctx, auth.System)
		bar := newProgress(a.stderr, "monitor", *quiet)
		res, err := h.Warning.FullPass(ctx, bar.Update)
		bar.Done(err)
		if err != nil {
			return err
		}
		types, err := h.Warning.Types(ctx)
		if err != nil {
			return err
		}
		total := 0
		for _, n := range res.Raised {
			total += n
		}
		fmt.Fprintf(a.stdout, "monitored %d households for %s: %d warnings raised in %s\n",
			res.Households, res.Month, total, res.Took.Round(time.Millisecond))
		tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
		// The name last: tabwriter counts runes, and a Chinese character
		// is two columns wide.
		fmt.Fprintln(tw, "type\traised\tname")
		for _, t := range types {
			if n := res.Raised[t.Code]; n > 0 || t.Enabled {
				fmt.Fprintf(tw, "%s\t%d\t%s\n", t.Code, n, t.NameZh)
			}
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		fmt.Fprintf(a.stdout, "by severity: CRITICAL %d, HIGH %d, MEDIUM %d, LOW %d\n",
			res.BySeverity[detect.SeverityCritical], res.BySeverity[detect.SeverityHigh],
			res.BySeverity[detect.SeverityMedium], res.BySeverity[detect.SeverityLow])
		return nil
	})
	return c
}

// monitorClock is the real clock, or with --today (or AIDHUB_TODAY; the
// flag wins) one on which the date in China is that day: a synthetic
// population generated for a day is monitored on that day.
func (a *app) monitorClock(flagValue string) (func() time.Time, error) {
	value, source := flagValue, "--today"
	if value == "" {
		value, source = a.getenv("AIDHUB_TODAY"), "AIDHUB_TODAY"
	}
	if value == "" {
		return nil, nil
	}
	if a.getenv("AIDHUB_ENV") == "production" {
		return nil, errUsage{fmt.Sprintf("monitor: %s is for development and benchmarks only, not with AIDHUB_ENV=production; remove it", source)}
	}
	d, err := aidhub.ParseDate(value)
	if err != nil || d.Year() < 2000 || d.Year() > 2100 {
		return nil, errUsage{fmt.Sprintf("monitor: %s must be a date from 2000 to 2100 in the form YYYY-MM-DD", source)}
	}
	return shiftedClock(d, time.Now), nil
}
