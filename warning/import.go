package warning

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"github.com/aidhub/aidhub"
	"github.com/aidhub/aidhub/audit"
	"github.com/aidhub/aidhub/auth"
	"github.com/aidhub/aidhub/casework"
	"github.com/aidhub/aidhub/db"
	"github.com/aidhub/aidhub/warning/detect"
)

// ImportColumns are the columns of a signal import, one signal per row. A
// row names its household by number (household) or by the external ID its
// household import gave it (household_external_id), or names a person by
// resident ID (person_resident_id: what another department knows) or by
// number (person); person kinds need a person. The amount is in yuan
// (amount_yuan, up to two decimals) or in fen (amount_fen), for the kinds
// that carry one; date is YYYY-MM-DD. source may be left empty under a
// DATA_FEED token: its own source is taken.
var ImportColumns = []string{
	"source", "external_id", "household", "household_external_id", "person_resident_id", "person",
	"kind", "date", "amount_yuan", "amount_fen", "status",
}

// Column positions in a raw row.
const (
	colSource = iota
	colExternalID
	colHousehold
	colHouseholdExt
	colResidentID
	colPerson
	colKind
	colDate
	colYuan
	colFen
	colStatus
	nColumns
)

// DefaultImportBatch is how many rows one transaction of an import takes.
const DefaultImportBatch = 5000

// MaxImportBatch bounds a batch: its lookups and its stored-signal check
// are one statement each.
const MaxImportBatch = 20000

// ImportOptions tune an import.
type ImportOptions struct {
	// Batch is the rows per transaction; 0 means DefaultImportBatch.
	Batch int
}

// RowError is one bad field of a row: where, which column, why. It never
// holds the value, which may be personal data.
type RowError struct {
	Line   int
	Field  string
	Reason string
}

// ImportReport counts what an import did: every row read is stored, a
// duplicate (its source and external ID stored before with the same fact)
// or refused, with one RowError per bad field, in line order.
type ImportReport struct {
	Rows       int
	Stored     int
	Duplicates int
	Refused    int
	Errors     []RowError
}

// rawRow is one row as read, its columns as text.
type rawRow struct {
	line   int
	fields [nColumns]string
}

// ImportSignals reads signals from r, CSV with a header (format "csv") or
// JSON lines with the same keys ("jsonl"), and stores them in batches, each
// in one transaction with the evaluation jobs of its households and its
// audit entry. Bad rows are skipped and reported by line, column and
// reason, never with the value; the good rows are stored; a row whose
// source and external ID are stored already with the same fact is a
// duplicate, so an import can be run again. Batches stored before an error
// that ends the import (a database failure, a cancelled ctx) stay stored;
// the report counts the rows of the batches that were done.
//
// Errors: UNAUTHENTICATED; FORBIDDEN (not ADMIN or DATA_FEED);
// BAD_USER_INPUT (an unknown format, a CSV header without the needed
// columns or with unknown ones, a batch size out of range).
func (s *Service) ImportSignals(ctx context.Context, r io.Reader, format string, opts ImportOptions) (*ImportReport, error) {
	p := auth.FromContext(ctx)
	if err := p.Require("importing signals", auth.Admin, auth.DataFeed); err != nil {
		return nil, err
	}
	batch := opts.Batch
	if batch == 0 {
		batch = DefaultImportBatch
	}
	if batch < 1 || batch > MaxImportBatch {
		return nil, aidhub.Invalid("batch", "a batch is 1 to %d rows", MaxImportBatch)
	}
	next, err := newRowReader(r, format)
	if err != nil {
		return nil, err
	}
	im := &importRun{s: s, p: p, rep: &ImportReport{}}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	im.cancel = cancel
	// On PostgreSQL several batches are stored at once: a batch's COPY
	// waits on the server (its indexes and foreign-key checks are most of
	// an import's time) while others are read, checked and resolved, and
	// the server's work spreads over its cores. Four did 500,000 signals
	// in 21 s where one took 35 s (BENCHMARKS.md). SQLite has one writer.
	// Each worker takes the rows of its share of the keys (source and
	// external ID), in file order: a key repeated in the file meets itself
	// in one worker, so the first of its rows is the one stored, as in a
	// one-by-one import.
	workers := 1
	if s.db.IsPostgres() {
		workers = 4
	}
	queues := make([]chan []rawRow, workers)
	var wg sync.WaitGroup
	for i := range queues {
		queues[i] = make(chan []rawRow, 1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for rows := range queues[i] {
				im.store(ctx, rows)
			}
		}()
	}
	readErr := im.read(ctx, next, batch, queues)
	for _, q := range queues {
		close(q)
	}
	wg.Wait()
	// Workers finish in any order; the report reads top to bottom.
	slices.SortStableFunc(im.rep.Errors, func(a, b RowError) int { return cmp.Compare(a.Line, b.Line) })
	switch {
	case im.err != nil:
		return im.rep, im.err
	case readErr != nil:
		return im.rep, fmt.Errorf("warning: import signals: read: %w", readErr)
	}
	return im.rep, ctx.Err()
}

// importRun is one import: its report, and the first error that ended it.
type importRun struct {
	s      *Service
	p      auth.Principal
	cancel func()

	mu  sync.Mutex
	rep *ImportReport
	err error
}

// read hands the rows to the queues, batch by batch, each row to the
// queue of its key, and reports the rows it cannot read; it stops early
// when the import has failed.
func (im *importRun) read(ctx context.Context, next func() (rawRow, *RowError, error), size int, queues []chan []rawRow) error {
	send := func(q chan<- []rawRow, rows []rawRow) bool {
		select {
		case q <- rows:
			return true
		case <-ctx.Done():
			return false
		}
	}
	seed := maphash.MakeSeed()
	parts := make([][]rawRow, len(queues))
	for {
		row, rowErr, err := next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		if rowErr != nil {
			im.mu.Lock()
			im.rep.Rows++
			im.rep.Refused++
			im.rep.Errors = append(im.rep.Errors, *rowErr)
			im.mu.Unlock()
			continue
		}
		i := 0
		if len(queues) > 1 {
			source := row.fields[colSource]
			if source == "" && im.p.Role == auth.DataFeed {
				source = im.p.Source // what checkImportRow will make of it
			}
			i = int(maphash.String(seed, source+"\x00"+row.fields[colExternalID]) % uint64(len(queues)))
		}
		if parts[i] == nil {
			parts[i] = make([]rawRow, 0, size)
		}
		parts[i] = append(parts[i], row)
		if len(parts[i]) == size {
			if !send(queues[i], parts[i]) {
				return nil
			}
			parts[i] = nil
		}
	}
	for i, rows := range parts {
		if len(rows) > 0 && !send(queues[i], rows) {
			return nil
		}
	}
	return nil
}

// store stores one batch, again when a concurrent writer (another
// import, recordSignals) stored some of its signals first (the batch then
// sees them as duplicates), and adds its report or ends the import with
// its error.
func (im *importRun) store(ctx context.Context, rows []rawRow) {
	if ctx.Err() != nil {
		return
	}
	var part *ImportReport
	var err error
	for attempt := 1; ; attempt++ {
		part, err = im.s.importBatch(ctx, im.p, rows)
		if err == nil || attempt == 5 || !concurrentWrite(err) {
			break
		}
	}
	im.mu.Lock()
	defer im.mu.Unlock()
	if err != nil {
		if im.err == nil {
			im.err = err
			im.cancel()
		}
		return
	}
	im.rep.Rows += part.Rows
	im.rep.Stored += part.Stored
	im.rep.Duplicates += part.Duplicates
	im.rep.Refused += part.Refused
	im.rep.Errors = append(im.rep.Errors, part.Errors...)
}

// concurrentWrite reports whether err is another transaction's signal
// under the same key, or a deadlock with it: worth another attempt.
func concurrentWrite(err error) bool {
	var pgErr *pgconn.PgError
	return db.IsUniqueViolation(err) || (errors.As(err, &pgErr) && pgErr.Code == "40P01")
}

// newRowReader returns the reader of format: each call gives the next row,
// a row error for a row that cannot be read at all, or io.EOF.
func newRowReader(r io.Reader, format string) (func() (rawRow, *RowError, error), error) {
	switch format {
	case "csv":
		return csvRows(r)
	case "jsonl":
		return jsonRows(r), nil
	}
	return nil, aidhub.Invalid("format", "unknown format: use csv or jsonl")
}

// columnIndex finds a column by name.
func columnIndex(name string) int { return slices.Index(ImportColumns, name) }

func csvRows(r io.Reader) (func() (rawRow, *RowError, error), error) {
	cr := csv.NewReader(bufio.NewReaderSize(r, 1<<16))
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		return nil, aidhub.Invalid("header", "the file has no CSV header line (columns: %s)", strings.Join(ImportColumns, ","))
	}
	// from[i] is the raw column of file column i, -1 for none.
	from := make([]int, len(header))
	seen := map[int]bool{}
	for i, h := range header {
		name := strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		c := columnIndex(name)
		if c < 0 {
			// An unknown column is most likely a misspelt one: a silently
			// ignored amount column would store signals without amounts.
			return nil, aidhub.Invalid("header", "column %d is not one of %s", i+1, strings.Join(ImportColumns, ","))
		}
		if seen[c] {
			return nil, aidhub.Invalid("header", "column %s appears twice", name)
		}
		seen[c], from[i] = true, c
	}
	for _, need := range []int{colExternalID, colKind, colDate} {
		if !seen[need] {
			return nil, aidhub.Invalid("header", "the header has no column %s (columns: %s)", ImportColumns[need], strings.Join(ImportColumns, ","))
		}
	}
	if !seen[colHousehold] && !seen[colHouseholdExt] && !seen[colResidentID] && !seen[colPerson] {
		return nil, aidhub.Invalid("header", "the header names no household or person column (household, household_external_id, person_resident_id or person)")
	}
	return func() (rawRow, *RowError, error) {
		rec, err := cr.Read()
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return rawRow{}, &RowError{Line: pe.Line, Reason: "not valid CSV: " + pe.Err.Error()}, nil
			}
			return rawRow{}, nil, err
		}
		line, _ := cr.FieldPos(0)
		row := rawRow{line: line}
		if len(rec) > len(from) {
			return rawRow{}, &RowError{Line: line, Reason: fmt.Sprintf("has %d fields; the header has %d", len(rec), len(from))}, nil
		}
		for i, v := range rec {
			row.fields[from[i]] = strings.TrimSpace(v)
		}
		return row, nil, nil
	}, nil
}

func jsonRows(r io.Reader) func() (rawRow, *RowError, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	line := 0
	return func() (rawRow, *RowError, error) {
		for sc.Scan() {
			line++
			text := bytes.TrimSpace(sc.Bytes())
			if len(text) == 0 {
				continue
			}
			var obj map[string]json.RawMessage
			if err := json.Unmarshal(text, &obj); err != nil {
				return rawRow{}, &RowError{Line: line, Reason: "is not a JSON object"}, nil
			}
			row := rawRow{line: line}
			for k, v := range obj {
				c := columnIndex(k)
				if c < 0 {
					return rawRow{}, &RowError{Line: line, Field: clipKey(k), Reason: "is not a signal field: want " + strings.Join(ImportColumns, ", ")}, nil
				}
				text, ok := jsonText(v)
				if !ok {
					return rawRow{}, &RowError{Line: line, Field: k, Reason: "is not a string or a number"}, nil
				}
				row.fields[c] = strings.TrimSpace(text)
			}
			return row, nil, nil
		}
		if err := sc.Err(); err != nil {
			return rawRow{}, nil, err
		}
		return rawRow{}, nil, io.EOF
	}
}

// clipKey shortens an unknown key for the report: a key is the sender's
// field name, not personal data, but it may be anything.
func clipKey(k string) string {
	if r := []rune(k); len(r) > 40 {
		return string(r[:40]) + "…"
	}
	return k
}

// jsonText is a JSON string's text or a number's digits; null is empty.
func jsonText(v json.RawMessage) (string, bool) {
	v = bytes.TrimSpace(v)
	switch {
	case len(v) == 0 || string(v) == "null":
		return "", true
	case v[0] == '"':
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return "", false
		}
		return s, true
	case v[0] == '-' || (v[0] >= '0' && v[0] <= '9'):
		return string(v), true
	}
	return "", false
}

// importRow is a row checked on its own: the signal so far and whom it
// names, to be resolved with the rest of its batch.
type importRow struct {
	line         int
	sig          Signal
	household    int64
	householdExt string
	person       int64
	residentID   int // index into the batch's resident IDs, -1 for none
	errs         []RowError
}

func (r *importRow) bad(field, format string, args ...any) {
	r.errs = append(r.errs, RowError{Line: r.line, Field: field, Reason: fmt.Sprintf(format, args...)})
}

// importBatch checks, resolves and stores one batch of rows.
func (s *Service) importBatch(ctx context.Context, p auth.Principal, raw []rawRow) (*ImportReport, error) {
	rep := &ImportReport{Rows: len(raw)}
	today := s.today()
	now := s.now().UTC()
	rows := make([]importRow, len(raw))
	var residentIDs []string
	for i := range raw {
		rows[i] = checkImportRow(&raw[i], p, today, now, &residentIDs)
	}
	if err := s.resolveRows(ctx, rows, residentIDs); err != nil {
		return nil, err
	}
	good := make([]*Signal, 0, len(rows))
	lineOf := make(map[*Signal]int, len(rows))
	for i := range rows {
		if len(rows[i].errs) > 0 {
			rep.Refused++
			rep.Errors = append(rep.Errors, rows[i].errs...)
			continue
		}
		good = append(good, &rows[i].sig)
		lineOf[&rows[i].sig] = rows[i].line
	}
	if len(good) == 0 {
		return rep, nil
	}
	var stored, duplicates int
	var conflicts []RowError
	err := s.importTx(ctx, func(ctx context.Context, tx bun.Tx, insert func(context.Context, []*Signal) error) error {
		stored, duplicates, conflicts = 0, 0, nil
		existing, err := s.storedForImport(ctx, tx, good)
		if err != nil {
			return err
		}
		fresh := make([]*Signal, 0, len(good))
		seen := make(map[[2]string]*Signal, len(good))
		for _, sg := range good {
			key := [2]string{sg.Source, sg.ExternalID}
			prev, ok := seen[key]
			if !ok {
				prev, ok = existing[key]
			}
			switch {
			case ok && sameFact(prev, sg):
				duplicates++
			case ok:
				conflicts = append(conflicts, RowError{Line: lineOf[sg], Field: "external_id",
					Reason: "this source's external ID is stored already (or earlier in the file) with different facts; a correction is a new signal with its own external ID"})
			default:
				seen[key] = sg
				fresh = append(fresh, sg)
			}
		}
		if len(fresh) == 0 {
			return nil
		}
		// In household order the indexes and the foreign-key checks walk
		// their pages once rather than jumping about.
		slices.SortFunc(fresh, func(a, b *Signal) int { return cmp.Compare(a.HouseholdID, b.HouseholdID) })
		if err := insert(ctx, fresh); err != nil {
			return err
		}
		stored = len(fresh)
		if s.outbox != nil {
			households := make([]int64, len(fresh))
			for i, sg := range fresh {
				households[i] = sg.HouseholdID
			}
			slices.Sort(households)
			if err := s.outbox.SignalsRecorded(ctx, db.UnitOf(tx), slices.Compact(households)); err != nil {
				return err
			}
		}
		return s.audit.Append(ctx, db.UnitOf(tx), "importSignals", "Signal", 0, audit.Summary{
			"rows": len(raw), "new": stored, "duplicates": duplicates, "sources": sourcesOf(fresh),
		})
	})
	if err != nil {
		return nil, wrap(err, "warning: import signals: the batch of lines %d to %d", raw[0].line, raw[len(raw)-1].line)
	}
	rep.Stored += stored
	rep.Duplicates += duplicates
	rep.Refused += len(conflicts)
	rep.Errors = append(rep.Errors, conflicts...)
	return rep, nil
}

func sourcesOf(sigs []*Signal) string {
	var out []string
	for _, sg := range sigs {
		if !slices.Contains(out, sg.Source) {
			out = append(out, sg.Source)
		}
	}
	slices.Sort(out)
	return strings.Join(out, ",")
}

// checkImportRow checks every field of a row on its own, collecting every
// bad one; the resident ID, if any, goes to residentIDs for the batch's
// lookup.
func checkImportRow(raw *rawRow, p auth.Principal, today aidhub.Date, now time.Time, residentIDs *[]string) importRow {
	f := &raw.fields
	r := importRow{line: raw.line, residentID: -1}
	r.sig.RecordedAt, r.sig.RecordedBy = now, tokenOf(p)
	r.sig.Source = f[colSource]
	if p.Role == auth.DataFeed {
		if r.sig.Source == "" {
			r.sig.Source = p.Source
		} else if r.sig.Source != p.Source {
			r.bad("source", "this token sends signals of source %s only", p.Source)
		}
	}
	if !auth.ValidSource(r.sig.Source) {
		r.bad("source", "a source is 1 to 40 of A-Z, 0-9 and _, starting with a letter (e.g. MEDICAL_INSURANCE)")
	}
	if ext, err := aidhub.CleanText("external_id", f[colExternalID], true, 100); err != nil {
		r.bad("external_id", "%s", reasonOf(err))
	} else {
		r.sig.ExternalID = ext
	}
	kindOK := slices.Contains(detect.Kinds, f[colKind])
	if kindOK {
		r.sig.Kind = f[colKind]
	} else if f[colKind] == "" {
		r.bad("kind", "is required: one of %s", strings.Join(detect.Kinds, ", "))
	} else {
		r.bad("kind", "is not a signal kind: want one of %s", strings.Join(detect.Kinds, ", "))
	}
	checkSubject(&r, f, kindOK, residentIDs)
	checkDate(&r, f[colDate], today)
	amount, amountField, amountOK := parseAmount(&r, f[colYuan], f[colFen])
	r.sig.Status = f[colStatus]
	if !kindOK {
		return r
	}
	// The kind decides whether an amount and a status belong.
	if slices.Contains(amountKinds, r.sig.Kind) {
		switch {
		case amountField == "":
			r.bad("amount_yuan", "a %s signal carries an amount (amount_yuan or amount_fen)", r.sig.Kind)
		case amountOK:
			r.sig.AmountFen = &amount
		}
	} else if amountField != "" {
		r.bad(amountField, "a %s signal carries no amount", r.sig.Kind)
	}
	if want, ok := statuses[r.sig.Kind]; ok {
		if !slices.Contains(want, r.sig.Status) {
			r.bad("status", "a %s signal's status is one of %s", r.sig.Kind, strings.Join(want, ", "))
		}
	} else if r.sig.Status != "" {
		r.bad("status", "a %s signal carries no status", r.sig.Kind)
	}
	return r
}

// checkSubject reads whom the row names.
func checkSubject(r *importRow, f *[nColumns]string, kindOK bool, residentIDs *[]string) {
	if v := f[colHousehold]; v != "" {
		if n, err := strconv.ParseInt(v, 10, 64); err != nil || n <= 0 {
			r.bad("household", "is not a household number")
		} else {
			r.household = n
		}
	}
	if v := f[colHouseholdExt]; v != "" {
		if ext, err := aidhub.CleanText("household_external_id", v, true, 100); err != nil {
			r.bad("household_external_id", "%s", reasonOf(err))
		} else {
			r.householdExt = ext
		}
	}
	if v := f[colPerson]; v != "" {
		if n, err := strconv.ParseInt(v, 10, 64); err != nil || n <= 0 {
			r.bad("person", "is not a person number")
		} else {
			r.person = n
		}
	}
	if v := f[colResidentID]; v != "" {
		if f[colPerson] != "" {
			r.bad("person_resident_id", "name the person by resident ID or by number, not both")
		} else {
			r.residentID = len(*residentIDs)
			*residentIDs = append(*residentIDs, v)
		}
	}
	if f[colHousehold] != "" && f[colHouseholdExt] != "" {
		r.bad("household_external_id", "name the household by number or by external ID, not both")
	}
	person := f[colPerson] != "" || f[colResidentID] != ""
	switch {
	case kindOK && slices.Contains(personKinds, f[colKind]) && !person:
		r.bad("person_resident_id", "a %s signal is about one person: give person_resident_id or person", f[colKind])
	case !person && f[colHousehold] == "" && f[colHouseholdExt] == "":
		r.bad("household", "a signal names its household (household or household_external_id) or its person (person_resident_id or person)")
	}
}

func checkDate(r *importRow, v string, today aidhub.Date) {
	if v == "" {
		r.bad("date", "is required: the day the fact is about, YYYY-MM-DD")
		return
	}
	t, err := time.Parse(aidhub.DateLayout, v)
	switch {
	case err != nil:
		r.bad("date", "is not a date in the form YYYY-MM-DD")
	case t.Before(earliestSignal.Time):
		r.bad("date", "is before 2000-01-01")
	case today.Before(aidhub.Date{Time: t}):
		r.bad("date", "is in the future (today is %s in China)", today)
	default:
		r.sig.ObservedOn = aidhub.Date{Time: t}
		r.sig.Month = monthOf(r.sig.ObservedOn)
	}
}

// maxAmountFen bounds an amount: above it a value is a typo.
const maxAmountFen = 1e12

// parseAmount reads amount_yuan or amount_fen; field is the column given
// ("" for none) and ok whether its value is good.
func parseAmount(r *importRow, yuan, fen string) (amount int64, field string, ok bool) {
	switch {
	case yuan != "" && fen != "":
		r.bad("amount_fen", "give amount_yuan or amount_fen, not both")
		return 0, "amount_fen", false
	case fen != "":
		n, err := strconv.ParseInt(fen, 10, 64)
		switch {
		case err != nil && strings.HasPrefix(fen, "-"):
			r.bad("amount_fen", "is negative: an amount is not")
		case err != nil:
			r.bad("amount_fen", "is not a whole number of fen")
		case n < 0:
			r.bad("amount_fen", "is negative: an amount is not")
		case n > maxAmountFen:
			r.bad("amount_fen", "is above 10,000,000,000 yuan")
		default:
			return n, "amount_fen", true
		}
		return 0, "amount_fen", false
	case yuan != "":
		if strings.HasPrefix(yuan, "-") {
			r.bad("amount_yuan", "is negative: an amount is not")
			return 0, "amount_yuan", false
		}
		n, good := yuanToFen(yuan)
		switch {
		case !good:
			r.bad("amount_yuan", "is not an amount of yuan with at most two decimals (e.g. 1234.50)")
		case n > maxAmountFen:
			r.bad("amount_yuan", "is above 10,000,000,000 yuan")
		default:
			return n, "amount_yuan", true
		}
		return 0, "amount_yuan", false
	}
	return 0, "", false
}

// yuanToFen reads "1234", "1234.5" or "1234.50" exactly, without floating
// point.
func yuanToFen(s string) (int64, bool) {
	whole, frac, dot := strings.Cut(s, ".")
	if whole == "" || len(whole) > 12 || !digits(whole) || (dot && (len(frac) == 0 || len(frac) > 2 || !digits(frac))) {
		return 0, false
	}
	n, _ := strconv.ParseInt(whole, 10, 64)
	n *= 100
	if len(frac) >= 1 {
		n += int64(frac[0]-'0') * 10
	}
	if len(frac) == 2 {
		n += int64(frac[1] - '0')
	}
	return n, true
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// reasonOf is an error's message without its field.
func reasonOf(err error) string {
	var ae *aidhub.Error
	if errors.As(err, &ae) {
		return ae.Message
	}
	return err.Error()
}

// resolveRows finds the households and persons the batch's rows name, in
// four statements for the batch, and fills each row's household and
// person or adds its errors.
func (s *Service) resolveRows(ctx context.Context, rows []importRow, residentIDs []string) error {
	var households, persons []int64
	var exts []string
	for i := range rows {
		r := &rows[i]
		if r.household > 0 {
			households = append(households, r.household)
		}
		if r.person > 0 {
			persons = append(persons, r.person)
		}
		if r.householdExt != "" {
			exts = append(exts, r.householdExt)
		}
	}
	known, personHH, err := s.casework.HouseholdOfPersons(ctx, compact(households), compact(persons))
	if err != nil {
		return err
	}
	byExt := map[string]int64{}
	if len(exts) > 0 {
		slices.Sort(exts)
		if byExt, err = s.casework.HouseholdsByExternalIDs(ctx, slices.Compact(exts)); err != nil {
			return err
		}
	}
	var residents []casework.ResidentLookup
	if len(residentIDs) > 0 {
		if residents, err = s.casework.PersonsByResidentIDs(ctx, residentIDs); err != nil {
			return err
		}
	}
	for i := range rows {
		resolveRow(&rows[i], known, personHH, byExt, residents)
	}
	return nil
}

func resolveRow(r *importRow, known map[int64]bool, personHH map[int64]int64, byExt map[string]int64, residents []casework.ResidentLookup) {
	hh, hhField := int64(0), ""
	switch {
	case r.household > 0:
		hhField = "household"
		if known[r.household] {
			hh = r.household
		} else {
			r.bad("household", "no household with this number")
		}
	case r.householdExt != "":
		hhField = "household_external_id"
		if id, ok := byExt[r.householdExt]; ok {
			hh = id
		} else {
			r.bad("household_external_id", "no household with this external ID")
		}
	}
	var person, owner int64
	switch {
	case r.person > 0:
		if h, ok := personHH[r.person]; ok {
			person, owner = r.person, h
		} else {
			r.bad("person", "no person with this number")
		}
	case r.residentID >= 0:
		res := residents[r.residentID]
		switch {
		case res.Err != nil:
			r.bad("person_resident_id", "%s", reasonOf(res.Err))
		case res.PersonID == 0:
			r.bad("person_resident_id", "no person on file has this resident ID")
		default:
			person, owner = res.PersonID, res.HouseholdID
		}
	}
	if person > 0 {
		if hh > 0 && hh != owner {
			field := "person"
			if r.residentID >= 0 {
				field = "person_resident_id"
			}
			r.bad(field, "the person is not a member of the household named in %s", hhField)
			return
		}
		hh = owner
		r.sig.PersonID = &person
	}
	r.sig.HouseholdID = hh
}

func compact(ids []int64) []int64 {
	slices.Sort(ids)
	return slices.Compact(ids)
}

// signalColumns are the columns an import writes, in COPY's order.
var signalColumns = []string{"source", "external_id", "household_id", "person_id", "kind", "observed_on", "month", "amount_fen", "status", "recorded_at", "recorded_by"}

// importTx runs fn in one transaction with an insert that writes signals
// in it: COPY on PostgreSQL (a multi-row INSERT of 5,000 signals is bound
// by formatting and parsing its SQL text), a multi-row INSERT on SQLite.
func (s *Service) importTx(ctx context.Context, fn func(ctx context.Context, tx bun.Tx, insert func(context.Context, []*Signal) error) error) error {
	if !s.db.IsPostgres() {
		return s.db.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
			return fn(ctx, tx, func(ctx context.Context, sigs []*Signal) error {
				// SQLite binds at most 32,766 variables per statement.
				for chunk := range slices.Chunk(sigs, 2000) {
					if _, err := tx.NewInsert().Model(&chunk).Exec(ctx); err != nil {
						return fmt.Errorf("insert signals: %w", err)
					}
				}
				return nil
			})
		})
	}
	// One connection holds the transaction and gives COPY its session.
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Close()
	return conn.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		return fn(ctx, tx, func(ctx context.Context, sigs []*Signal) error {
			return conn.Raw(func(dc any) error {
				pc, ok := dc.(*stdlib.Conn)
				if !ok {
					return fmt.Errorf("copy signals: the connection is %T, not pgx", dc)
				}
				n, err := pc.Conn().CopyFrom(ctx, pgx.Identifier{"signals"}, signalColumns, pgx.CopyFromSlice(len(sigs), func(i int) ([]any, error) {
					sg := sigs[i]
					return []any{sg.Source, sg.ExternalID, sg.HouseholdID, sg.PersonID, sg.Kind, sg.ObservedOn.Time,
						int32(sg.Month), sg.AmountFen, sg.Status, sg.RecordedAt, sg.RecordedBy}, nil
				}))
				if err != nil {
					return fmt.Errorf("copy signals: %w", err)
				}
				if n != int64(len(sigs)) {
					return fmt.Errorf("copy signals: %d of %d rows", n, len(sigs))
				}
				return nil
			})
		})
	})
}

// storedForImport is storedSignals for a batch of an import. On PostgreSQL
// it looks each key up through the unique index, one probe per key: with
// thousands of keys in an IN list the planner preferred to scan the whole
// table (≈ 0.4 s per batch at half a million signals, and growing).
func (s *Service) storedForImport(ctx context.Context, tx bun.Tx, sigs []*Signal) (map[[2]string]*Signal, error) {
	if !s.db.IsPostgres() {
		return storedSignals(ctx, tx, sigs)
	}
	bySource := map[string][]string{}
	for _, sg := range sigs {
		bySource[sg.Source] = append(bySource[sg.Source], sg.ExternalID)
	}
	out := map[[2]string]*Signal{}
	for source, ids := range bySource {
		var rows []*Signal
		// LATERAL … LIMIT 1 keeps the lookup a probe per key even while
		// the table's statistics lag behind a large import (a hash join
		// would read every signal each batch).
		if err := tx.NewRaw("SELECT sg.* FROM unnest(?::text[]) AS k (external_id) "+
			"CROSS JOIN LATERAL (SELECT * FROM signals WHERE source = ? AND external_id = k.external_id LIMIT 1) AS sg",
			pgdialect.Array(ids), source).Scan(ctx, &rows); err != nil {
			return nil, fmt.Errorf("read stored signals: %w", err)
		}
		for _, r := range rows {
			out[[2]string{r.Source, r.ExternalID}] = r
		}
	}
	return out, nil
}
