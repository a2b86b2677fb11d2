package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/aidhub/aidhub"
	"github.com/aidhub/aidhub/hub"
)

// sweepCmd runs the full sweep: every open need matched against the published
// resources, best matches written, watchlist counts printed.
func (a *app) sweepCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "sweep",
		Short: "Match every open need and print the watchlist counts",
		Long: `Match every open need against the published resources, store each need's
best match, and print the counts and the watchlist by colour.`,
		Example:           "  aidhub sweep --data ./data --quiet",
		Args:              noArgs,
		ValidArgsFunction: cobra.NoFileCompletions,
	}
	dataDir := dataFlag(c, "folder of the SQLite database and the key file")
	quiet := c.Flags().Bool("quiet", false, "no progress bar")
	c.RunE = action(func(ctx context.Context, _ []string) error {
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
		bar := newProgress(a.stderr, "sweep", *quiet)
		res, err := h.Matcher.Sweep(ctx, bar.Update)
		bar.Done(err)
		if err != nil {
			return err
		}
		st := res.Stats
		fmt.Fprintf(a.stdout, "swept %d open needs: %d matched, %d blocked by the duplicate rule (load %s, match %s, write %s)\n",
			st.Needs, st.Matched, st.Blocked, res.Load.Round(time.Millisecond), res.Match.Round(time.Millisecond), res.Write.Round(time.Millisecond))
		fmt.Fprintf(a.stdout, "watchlist: GREEN %d, BLUE %d, YELLOW %d, ORANGE %d, RED %d\n",
			st.ByColour[aidhub.Green], st.ByColour[aidhub.Blue], st.ByColour[aidhub.Yellow], st.ByColour[aidhub.Orange], st.ByColour[aidhub.Red])
		return nil
	})
	return c
}
