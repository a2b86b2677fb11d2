package main

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/aidhub/aidhub/auth"
	"github.com/aidhub/aidhub/hub"
	"github.com/aidhub/aidhub/warning"
)

// importSignalsCmd is `aidhub import signals FILE`: the service reads and
// stores the file in batches; the command opens the hub, shows progress and
// writes the report.
func (a *app) importSignalsCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "signals FILE",
		Short: "Import signals from other departments (CSV or JSON lines)",
		Long: `Import signals (income, medical spending, job loss, hospitalisation, …) that
other departments send about households and persons, from FILE: CSV with a
header or JSON lines with the same keys, one signal per row.

Columns: source, external_id, household (number) or household_external_id,
person_resident_id (身份证号) or person (number), kind, date (YYYY-MM-DD),
amount_yuan or amount_fen, status. Kinds: INCOME, MEDICAL_SPENDING,
EDUCATION_SPENDING, ARREARS (with an amount); EMPLOYMENT (status EMPLOYED,
LOST_JOB or REEMPLOYED), HOSPITALISATION, DISABILITY_GRADE (status 1-4 or
NONE), DEATH, SCHOOL_LEAVING (about one person).

Each batch goes in in one transaction with the evaluation jobs of its
households. Bad rows are skipped and reported as line,field,reason, one line
per bad field (never the value), while the good rows are stored; the exit
code is then 1. A signal whose source and external ID are stored already
with the same facts is counted as a duplicate, so running the import again
changes nothing.`,
		Example: `  aidhub import signals --data ./data signals.csv
  aidhub import signals --format jsonl --errors refused.csv --quiet medical.ndjson`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 {
				return errUsage{"import signals: give one FILE (CSV with a header, or JSON lines)"}
			}
			return nil
		},
	}
	fs := c.Flags()
	dataDir := dataFlag(c, "folder of the SQLite database and the key file")
	format := fs.String("format", "", "csv or jsonl (default: from the file name)")
	batch := fs.Int("batch", warning.DefaultImportBatch, "rows per transaction")
	errorsTo := fs.String("errors", "", "write the error report (CSV: line,field,reason) here instead of stderr")
	quiet := fs.Bool("quiet", false, "no progress bar")
	fixedCompletion(c, "format", "csv", "jsonl")
	c.RunE = action(func(ctx context.Context, args []string) error {
		if *batch < 1 || *batch > warning.MaxImportBatch {
			return errUsage{fmt.Sprintf("import signals: --batch must be 1 to %d", warning.MaxImportBatch)}
		}
		path := args[0]
		if *format != "" && *format != "csv" && *format != "jsonl" {
			return errUsage{fmt.Sprintf("import signals: --format must be csv or jsonl, not %q", *format)}
		}
		if *format == "" {
			if *format = formatOf(path); *format == "" {
				return errUsage{"import signals: cannot tell the format from the file name; pass --format csv or --format jsonl"}
			}
		}
		f, err := os.Open(path)
		if err != nil {
			return fmt.Errorf("import signals: %w", err)
		}
		defer f.Close()
		info, err := f.Stat()
		if err != nil {
			return fmt.Errorf("import signals: %w", err)
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

		bar := newProgress(a.stderr, "import signals", *quiet)
		rep, err := h.Warning.ImportSignals(auth.WithPrincipal(ctx, auth.System), io.TeeReader(f, bar.Bytes(info.Size())), *format, warning.ImportOptions{Batch: *batch})
		bar.Done(err)
		if err != nil {
			if rep != nil && rep.Rows > 0 {
				fmt.Fprintf(a.stdout, "stopped after %d rows: %d signals stored, %d duplicates, %d rows refused\n", rep.Rows, rep.Stored, rep.Duplicates, rep.Refused)
			}
			return fmt.Errorf("import signals: %w", err)
		}
		fmt.Fprintf(a.stdout, "imported %d rows: %d signals stored, %d duplicates, %d rows refused\n", rep.Rows, rep.Stored, rep.Duplicates, rep.Refused)
		if len(rep.Errors) == 0 {
			return nil
		}
		if err := a.writeRowErrors(*errorsTo, rep.Errors); err != nil {
			return fmt.Errorf("import signals: error report: %w", err)
		}
		return fmt.Errorf("import signals: %d rows refused (the others went in); see the error report", rep.Refused)
	})
	return c
}

// formatOf tells the format from a file name, "" when it cannot.
func formatOf(path string) string {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".csv":
		return "csv"
	case ".jsonl", ".ndjson":
		return "jsonl"
	}
	return ""
}

// writeRowErrors writes an import's errors as CSV, in line order, to the
// file path or, when it is "", to stderr.
func (a *app) writeRowErrors(path string, errs []warning.RowError) error {
	out := a.stderr
	if path != "" {
		ef, err := os.Create(path)
		if err != nil {
			return err
		}
		defer ef.Close()
		out = ef
	}
	slices.SortStableFunc(errs, func(x, y warning.RowError) int { return x.Line - y.Line })
	w := csv.NewWriter(out)
	_ = w.Write([]string{"line", "field", "reason"})
	for _, e := range errs {
		_ = w.Write([]string{strconv.Itoa(e.Line), e.Field, e.Reason})
	}
	w.Flush()
	return w.Error()
}
