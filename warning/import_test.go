package warning_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aidhub/aidhub"
	"github.com/aidhub/aidhub/auth"
	"github.com/aidhub/aidhub/casework"
	"github.com/aidhub/aidhub/db"
	"github.com/aidhub/aidhub/db/dbtest"
	"github.com/aidhub/aidhub/warning"
)

// heardOutbox records the households it is told about.
type heardOutbox struct {
	mu         sync.Mutex
	households []int64
}

func (o *heardOutbox) SignalsRecorded(_ context.Context, _ db.Unit, ids []int64) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.households = append(o.households, ids...)
	return nil
}

// importFamily registers a household with an external ID and returns it,
// its persons and their resident IDs.
func (f *fixture) importFamily(t *testing.T, ext string) (*casework.Household, []*casework.Person, []string) {
	t.Helper()
	head, child := member("户主"+ext, "HEAD", 1980, "DIBAO"), member("子女"+ext, "CHILD", 2016)
	h, ps, err := f.cw.RegisterHousehold(adminCtx, casework.HouseholdInput{ExternalID: &ext, RegionCode: huayipo, Address: "测试路 2 号",
		MonthlyIncomeFen: 300_000, Members: []casework.PersonInput{head, child}})
	if err != nil {
		t.Fatal(err)
	}
	return h, ps, []string{head.ResidentID, child.ResidentID}
}

func importCSV(t *testing.T, f *fixture, ctx context.Context, text string) *warning.ImportReport {
	t.Helper()
	rep, err := f.svc.ImportSignals(ctx, strings.NewReader(text), "csv", warning.ImportOptions{Batch: 3})
	if err != nil {
		t.Fatalf("ImportSignals: %v", err)
	}
	return rep
}

// errorsOf returns the report's errors as "line field" strings, in order.
func errorsOf(rep *warning.ImportReport) []string {
	var out []string
	for _, e := range rep.Errors {
		out = append(out, fmt.Sprintf("%d %s", e.Line, e.Field))
	}
	slices.Sort(out)
	return out
}

const importHeader = "source,external_id,household,household_external_id,person_resident_id,person,kind,date,amount_yuan,amount_fen,status\n"

func TestImportSignals_GoodRowsInBadRowsReported(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		out := &heardOutbox{}
		f := newFixture(t, d, warning.WithOutbox(out))
		h, ps, ids := f.importFamily(t, "HH-1")
		other, _, _ := f.importFamily(t, "HH-2")
		unknownID := newID(1990) // valid, but no one on file
		badCheck := ids[0][:17] + string("0123456789X"[(strings.IndexByte("0123456789X", ids[0][17])+1)%11])
		rows := []string{
			fmt.Sprintf("HRSS,inc-1,%d,,,,INCOME,2026-10-15,1234.5,,", h.ID),           // 2: by number, yuan
			"HRSS,inc-2,,HH-1,,,INCOME,2026-09-15,,300000,",                            // 3: by external ID, fen
			fmt.Sprintf("HRSS,job-1,,,%s,,EMPLOYMENT,2026-11-02,,,LOST_JOB", ids[0]),   // 4: by resident ID
			fmt.Sprintf("NHSA,adm-1,,,,%d,HOSPITALISATION,2026-11-03,,,", ps[1].ID),    // 5: by person number
			"HRSS,bad-1,999999,,,,INCOME,2026-10-15,10,,",                              // 6: unknown household
			fmt.Sprintf("HRSS,bad-2,,,%s,,DEATH,2026-11-01,,,", unknownID),             // 7: unknown person
			fmt.Sprintf("HRSS,bad-3,%d,,,,INCOME,2026-11-29,10,,", h.ID),               // 8: future
			fmt.Sprintf("HRSS,bad-4,%d,,,,INCOME,1999-12-31,10,,", h.ID),               // 9: before 2000
			fmt.Sprintf("HRSS,bad-5,%d,,,,INCOME,2026-10-15,-10,,", h.ID),              // 10: negative
			fmt.Sprintf("HRSS,bad-6,%d,,,,LOTTERY_WIN,2026-10-15,10,,", h.ID),          // 11: unknown kind
			"hrss dept,bad-7,999999,,,,INCOME,3026-01-01,-1,,",                         // 12: four bad fields
			fmt.Sprintf("HRSS,bad-8,,,%s,,DEATH,2026-11-01,,,", badCheck),              // 13: malformed resident ID
			fmt.Sprintf("HRSS,bad-9,%d,,%s,,DEATH,2026-11-01,,,", other.ID, ids[0]),    // 14: person of another household
			fmt.Sprintf("HRSS,bad-10,%d,,,,DEATH,2026-11-01,,,", h.ID),                 // 15: event without its person
			fmt.Sprintf("HRSS,bad-11,,,,%d,EMPLOYMENT,2026-11-01,,,RETIRED", ps[0].ID), // 16: unknown status
			fmt.Sprintf("HRSS,bad-12,%d,,,,INCOME,2026-10-15,12.345,,", h.ID),          // 17: three decimals
			fmt.Sprintf("HRSS,bad-13,%d,,,,INCOME,2026-10-15,,-5,", h.ID),              // 18: negative fen
			fmt.Sprintf("HRSS,inc-1,%d,,,,INCOME,2026-10-15,999,,", h.ID),              // 19: same key, other fact
			"HRSS,inc-2,,HH-1,,,INCOME,2026-09-15,3000.00,,",                           // 20: same fact again
		}
		rep := importCSV(t, f, adminCtx, importHeader+strings.Join(rows, "\n")+"\n")
		if rep.Rows != 19 || rep.Stored != 4 || rep.Duplicates != 1 || rep.Refused != 14 {
			t.Fatalf("report %+v", *rep)
		}
		want := []string{
			"10 amount_yuan", "11 kind", "12 amount_yuan", "12 date", "12 household", "12 source", "13 person_resident_id",
			"14 person_resident_id", "15 person_resident_id", "16 status", "17 amount_yuan", "18 amount_fen", "19 external_id",
			"6 household", "7 person_resident_id", "8 date", "9 date",
		}
		if got := errorsOf(rep); !slices.Equal(got, want) {
			t.Errorf("errors:\n%v\nwant\n%v", got, want)
		}
		for _, e := range rep.Errors {
			for _, value := range append(ids, unknownID, badCheck, "-10", "LOTTERY_WIN", "1999-12-31", "3026", "hrss dept", "RETIRED", "12.345") {
				if strings.Contains(e.Reason, value) {
					t.Errorf("line %d %s: the reason %q shows the value", e.Line, e.Field, e.Reason)
				}
			}
		}
		if n := f.count(t, "signals"); n != 4 {
			t.Fatalf("%d signals stored, want 4", n)
		}
		var got []struct {
			HouseholdID int64
			PersonID    *int64
			AmountFen   *int64
			Kind        string
		}
		if err := d.NewSelect().TableExpr("signals").ColumnExpr("household_id, person_id, amount_fen, kind").OrderExpr("external_id").Scan(context.Background(), &got); err != nil {
			t.Fatal(err)
		}
		// adm-1, inc-1, inc-2, job-1
		if len(got) != 4 || got[0].HouseholdID != h.ID || got[0].PersonID == nil || *got[0].PersonID != ps[1].ID ||
			*got[1].AmountFen != 123_450 || *got[2].AmountFen != 300_000 || got[3].PersonID == nil || *got[3].PersonID != ps[0].ID || got[3].HouseholdID != h.ID {
			t.Errorf("stored %+v", got)
		}
		if !slices.Contains(out.households, h.ID) || slices.Contains(out.households, other.ID) {
			t.Errorf("evaluations queued for %v, want %d's", out.households, h.ID)
		}

		// Again: every good row is a duplicate, nothing new.
		again := importCSV(t, f, adminCtx, importHeader+strings.Join(rows, "\n")+"\n")
		if again.Stored != 0 || again.Duplicates != 5 || f.count(t, "signals") != 4 {
			t.Fatalf("second import %+v", *again)
		}
	})
}

func TestImportSignals_OnlyBadRowsStoreNothing(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		h, _, _ := f.importFamily(t, "HH-1")
		text := importHeader + fmt.Sprintf("HRSS,a,%d,,,,INCOME,2026-12-01,1,,\nHRSS,b,%d,,,,INCOME,2026-10-01,-1,,\nHRSS,c,424242,,,,INCOME,2026-10-01,1,,\n", h.ID, h.ID)
		audits := f.count(t, "audit_log")
		rep := importCSV(t, f, adminCtx, text)
		if rep.Stored != 0 || rep.Refused != 3 || len(rep.Errors) != 3 {
			t.Fatalf("report %+v", *rep)
		}
		if n := f.count(t, "signals"); n != 0 {
			t.Fatalf("%d signals stored from bad rows", n)
		}
		if n := f.count(t, "audit_log"); n != audits {
			t.Fatalf("%d audit entries for an import that stored nothing", n-audits)
		}
	})
}

func TestImportSignals_WhoMay(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		h, _, _ := f.importFamily(t, "HH-1")
		text := func(source string) string {
			return importHeader + fmt.Sprintf("%s,med-1,%d,,,,MEDICAL_SPENDING,2026-10-15,800,,\n", source, h.ID)
		}
		for _, c := range []struct {
			name string
			ctx  context.Context
			code string
		}{
			{"anonymous", anonCtx, aidhub.EUNAUTHENTICATED},
			{"case manager", cmCtx, aidhub.EFORBIDDEN},
			{"charity", charityCtx, aidhub.EFORBIDDEN},
			{"donor", donorCtx, aidhub.EFORBIDDEN},
		} {
			_, err := f.svc.ImportSignals(c.ctx, strings.NewReader(text("HRSS")), "csv", warning.ImportOptions{})
			if aidhub.ErrorCode(err) != c.code {
				t.Errorf("%s: %v, want %s", c.name, err, c.code)
			}
		}
		// A feed sends its own source's signals only, and its source is
		// taken when a row names none.
		rep := importCSV(t, f, feedCtx, text("HRSS"))
		if rep.Stored != 0 || !slices.Equal(errorsOf(rep), []string{"2 source"}) {
			t.Fatalf("feed importing another source: %+v", *rep)
		}
		rep = importCSV(t, f, feedCtx, text(""))
		if rep.Stored != 1 {
			t.Fatalf("feed importing its own: %+v", *rep)
		}
		var source string
		if err := d.NewSelect().TableExpr("signals").Column("source").Scan(context.Background(), &source); err != nil || source != "MEDICAL_INSURANCE" {
			t.Fatalf("stored source %q (%v)", source, err)
		}
		if n := f.count(t, "signals"); n != 1 {
			t.Fatalf("%d signals", n)
		}
	})
}

func TestImportSignals_JSONLines(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		h, _, ids := f.importFamily(t, "HH-1")
		text := strings.Join([]string{
			fmt.Sprintf(`{"source":"HRSS","external_id":"inc-1","household":%d,"kind":"INCOME","date":"2026-10-15","amount_yuan":1500}`, h.ID),
			fmt.Sprintf(`{"source":"HRSS","external_id":"dis-1","person_resident_id":"%s","kind":"DISABILITY_GRADE","date":"2026-10-20","status":"2"}`, ids[1]),
			``,
			`{"source":"HRSS","external_id":"x","household":"HH-1","kind":"INCOME","date":"2026-10-15","amount_yuan":1}`,
			`{"source":"HRSS","external_id":"y","household_external_id":"HH-1","kind":"INCOME","date":"2026-10-15","amount":1}`,
			`not json`,
			`{"source":"HRSS","external_id":"z","household_external_id":["HH-1"],"kind":"INCOME","date":"2026-10-15","amount_fen":1}`,
		}, "\n")
		rep, err := f.svc.ImportSignals(adminCtx, strings.NewReader(text), "jsonl", warning.ImportOptions{})
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"4 household", "5 amount", "6 ", "7 household_external_id"}
		if rep.Rows != 6 || rep.Stored != 2 || rep.Refused != 4 || !slices.Equal(errorsOf(rep), want) {
			t.Fatalf("report %+v, errors %v", *rep, errorsOf(rep))
		}
	})
}

func TestImportSignals_BadFiles(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		for _, c := range []struct {
			name, format, text string
			batch              int
		}{
			{"unknown format", "xlsx", importHeader, 0},
			{"empty file", "csv", "", 0},
			{"misspelt column", "csv", "source,external_id,household,kind,date,amount\n", 0},
			{"no kind", "csv", "source,external_id,household,date\n", 0},
			{"no one named", "csv", "source,external_id,kind,date,amount_fen\n", 0},
			{"column twice", "csv", "source,external_id,household,kind,kind,date\n", 0},
			{"batch too large", "csv", importHeader, warning.MaxImportBatch + 1},
		} {
			_, err := f.svc.ImportSignals(adminCtx, strings.NewReader(c.text), c.format, warning.ImportOptions{Batch: c.batch})
			if aidhub.ErrorCode(err) != aidhub.EBADINPUT {
				t.Errorf("%s: %v, want BAD_USER_INPUT", c.name, err)
			}
		}
		_, err := f.svc.ImportSignals(as(auth.Principal{}), strings.NewReader(importHeader), "csv", warning.ImportOptions{})
		wantCode(t, err, aidhub.EUNAUTHENTICATED)
	})
}

// The same signals many times over, one per batch: each key is stored
// once, with its first row's fact, and a later row with another fact is
// refused.
func TestImportSignals_RepeatsAcrossBatches(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		h, _, _ := f.importFamily(t, "HH-1")
		var b strings.Builder
		b.WriteString(importHeader)
		for range 20 {
			for m := 7; m <= 9; m++ {
				fmt.Fprintf(&b, "HRSS,inc-%d,%d,,,,INCOME,2026-%02d-15,1000,,\n", m, h.ID, m)
			}
		}
		fmt.Fprintf(&b, "HRSS,inc-7,%d,,,,INCOME,2026-07-15,999,,\n", h.ID) // line 62: another fact
		rep, err := f.svc.ImportSignals(adminCtx, strings.NewReader(b.String()), "csv", warning.ImportOptions{Batch: 1})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Rows != 61 || rep.Stored != 3 || rep.Duplicates != 57 || rep.Refused != 1 || !slices.Equal(errorsOf(rep), []string{"62 external_id"}) {
			t.Fatalf("report %+v", *rep)
		}
		if n := f.count(t, "signals"); n != 3 {
			t.Fatalf("%d signals stored, want 3", n)
		}
	})
}

// Two imports of one file at once: each signal is stored once, and
// neither import fails on the keys the other stored first.
func TestImportSignals_ConcurrentImports(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		h, _, _ := f.importFamily(t, "HH-1")
		var b strings.Builder
		b.WriteString(importHeader)
		for i := range 40 {
			fmt.Fprintf(&b, "HRSS,med-%d,%d,,,,MEDICAL_SPENDING,2026-10-%02d,%d,,\n", i, h.ID, 1+i%28, 100+i)
		}
		var wg sync.WaitGroup
		reps := make([]*warning.ImportReport, 2)
		errs := make([]error, 2)
		for i := range reps {
			wg.Add(1)
			go func() {
				defer wg.Done()
				reps[i], errs[i] = f.svc.ImportSignals(adminCtx, strings.NewReader(b.String()), "csv", warning.ImportOptions{Batch: 2})
			}()
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("import %d: %v", i, err)
			}
		}
		if stored := reps[0].Stored + reps[1].Stored; stored != 40 || reps[0].Duplicates+reps[1].Duplicates != 40 || reps[0].Refused+reps[1].Refused != 0 {
			t.Fatalf("reports %+v and %+v", *reps[0], *reps[1])
		}
		if n := f.count(t, "signals"); n != 40 {
			t.Fatalf("%d signals stored, want 40", n)
		}
	})
}
