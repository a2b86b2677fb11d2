package main

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/aidhub/aidhub/auth"
	"github.com/aidhub/aidhub/casework"
	"github.com/aidhub/aidhub/hub"
)

// importCmd is `aidhub import households FILE`: rows go in per batch,
// each batch in one transaction; bad rows are reported by line, field and
// reason, a line for each bad field, while the good ones go in. Running it again changes nothing.
func (a *app) importCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "households FILE",
		Short: "Import households and persons from a CSV or JSON-lines file",
		Long: `Import households and their persons from FILE, CSV with a header or JSON
lines with the same keys, one row per person. Each batch goes in in one
transaction; rows already imported (same person external ID) are skipped;
bad rows go in not at all and are reported as line,field,reason (never the
value), a line for each bad field of the row, while the good ones go in, and
the exit code is then 1.`,
		Example: `  aidhub import households --data ./data households.csv
  aidhub import households --format jsonl --errors refused.csv --quiet export.ndjson`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 {
				return errUsage{"import households: give one FILE (CSV with a header, or JSON lines)"}
			}
			return nil
		},
	}
	fs := c.Flags()
	dataDir := dataFlag(c, "folder of the SQLite database and the key file")
	format := fs.String("format", "", "csv or jsonl (default: from the file name)")
	batch := fs.Int("batch", 1000, "rows per transaction")
	errorsTo := fs.String("errors", "", "write the error report (CSV: line,field,reason, a line per bad field) here instead of stderr")
	quiet := fs.Bool("quiet", false, "no progress bar")
	fixedCompletion(c, "format", "csv", "jsonl")
	c.RunE = action(func(ctx context.Context, args []string) error {
		if *batch < 1 || *batch > 10000 {
			return errUsage{"import households: --batch must be 1 to 10000"}
		}
		path := args[0]
		if *format == "" {
			switch strings.ToLower(filepath.Ext(path)) {
			case ".csv":
				*format = "csv"
			case ".jsonl", ".ndjson":
				*format = "jsonl"
			default:
				return errUsage{"import households: cannot tell the format from the file name; pass --format csv or --format jsonl"}
			}
		}
		f, err := os.Open(path)
		if err != nil {
			return fmt.Errorf("import households: %w", err)
		}
		defer f.Close()
		info, err := f.Stat()
		if err != nil {
			return fmt.Errorf("import households: %w", err)
		}
		bar := newProgress(a.stderr, "import households", *quiet)
		reader, err := casework.NewImportReader(io.TeeReader(f, bar.Bytes(info.Size())), *format)
		if err != nil {
			return err
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

		ctx = auth.WithPrincipal(ctx, auth.System)
		var report casework.ImportReport
		rows := make([]casework.ImportRow, 0, *batch)
		flush := func() error {
			if len(rows) == 0 {
				return nil
			}
			err := h.Casework.ImportBatch(ctx, rows, &report)
			rows = rows[:0]
			return err
		}
		for {
			row, rowErr, err := reader.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return fmt.Errorf("import households: read %s: %w", path, err)
			}
			if rowErr != nil {
				report.Rows++
				report.Refuse(*rowErr)
				continue
			}
			rows = append(rows, row)
			if len(rows) == *batch {
				if err := flush(); err != nil {
					return err
				}
			}
		}
		if err := flush(); err != nil {
			return err
		}
		bar.Done(nil)

		fmt.Fprintf(a.stdout, "imported %d rows: %d households and %d persons created, %d persons already present, %d rows refused\n",
			report.Rows, report.HouseholdsCreated, report.PersonsCreated, report.PersonsPresent, report.RowsRefused)
		if len(report.Errors) == 0 {
			return nil
		}
		out := a.stderr
		if *errorsTo != "" {
			ef, err := os.Create(*errorsTo)
			if err != nil {
				return fmt.Errorf("import households: error report: %w", err)
			}
			defer ef.Close()
			out = ef
		}
		slices.SortStableFunc(report.Errors, func(x, y casework.RowError) int { return x.Line - y.Line })
		w := csv.NewWriter(out)
		_ = w.Write([]string{"line", "field", "reason"})
		for _, e := range report.Errors {
			_ = w.Write([]string{strconv.Itoa(e.Line), e.Field, e.Reason})
		}
		w.Flush()
		if err := w.Error(); err != nil {
			return fmt.Errorf("import households: error report: %w", err)
		}
		return fmt.Errorf("import households: %d rows refused (the others went in); see the error report", report.RowsRefused)
	})
	return group("import", "Import data into the store", "say what to import: `aidhub import households FILE`", c)
}
