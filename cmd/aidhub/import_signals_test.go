package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aidhub/aidhub/db"
)

// signalFamilies imports two households through the CLI: H1 (a head born
// 1980, a spouse, a child of 10) and H2 (an elder alone), and returns
// the resident IDs of H1's head and spouse.
func signalFamilies(t *testing.T, e env, dir string) (head, spouse string) {
	t.Helper()
	head, spouse = residentID("500103", "19800101", 11), residentID("500103", "19820202", 22)
	text := strings.Join([]string{
		"household_external_id,region_code,monthly_income_fen,person_external_id,name,resident_id,relation,groups",
		"H1,500103001003,300000,P1,张三," + head + ",HEAD,DIBAO:2024-01-01",
		"H1,500103001003,,P2,李四," + spouse + ",SPOUSE,",
		"H1,500103001003,,P3,张小三," + residentID("500103", "20160303", 33) + ",CHILD,",
		"H2,500103001003,100000,P4,王老太," + residentID("500103", "19400404", 44) + ",HEAD,",
	}, "\n") + "\n"
	path := filepath.Join(t.TempDir(), "households.csv")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	mustRun(t, e, "import", "households", "--data", dir, "--quiet", path)
	return head, spouse
}

func writeFile(t *testing.T, name, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestImportSignals(t *testing.T) {
	for _, engine := range []string{db.SQLite, db.Postgres} {
		t.Run(engine, func(t *testing.T) {
			e := env{}
			if engine == db.Postgres {
				e["AIDHUB_DATABASE_URL"] = postgresSchemaURL(t)
			}
			dir := t.TempDir()
			head, spouse := signalFamilies(t, e, dir)
			unknown := residentID("500103", "19700707", 77)
			csvText := strings.Join([]string{
				"source,external_id,household_external_id,person_resident_id,kind,date,amount_yuan,status",
				"HRSS,inc-1,H1,,INCOME,2026-10-15,3000,",
				"HRSS,inc-2,H1,,INCOME,2026-11-15,450.50,",
				"HRSS,job-1,," + spouse + ",EMPLOYMENT,2026-11-20,,LOST_JOB",
				"HRSS,bad-1,H9,,INCOME,2026-10-15,10,",           // 5: unknown household
				"HRSS,bad-2,," + unknown + ",DEATH,2026-11-20,,", // 6: unknown person
				"HRSS,bad-3,H1,,INCOME,2099-01-01,-5,",           // 7: future and negative
				"HRSS,bad-4,H1,,WINDFALL,2026-11-20,1,",          // 8: unknown kind
				"HRSS,bad-5,H1,,INCOME,1999-12-31,1,",            // 9: before 2000
				"HRSS,bad-6,," + head + "0,DEATH,2026-11-20,,",   // 10: not a resident ID
			}, "\n") + "\n"
			path := writeFile(t, "signals.csv", csvText)
			report := filepath.Join(t.TempDir(), "errors.csv")
			r := run(t, e, "import", "signals", "--data", dir, "--quiet", "--errors", report, path)
			if r.code != 1 || !strings.Contains(r.stdout, "imported 9 rows: 3 signals stored, 0 duplicates, 6 rows refused") {
				t.Fatalf("first import: %s", r)
			}
			if line := oneErrorLine(t, r); !strings.Contains(line, "6 rows refused") {
				t.Errorf("error line %q", line)
			}
			text, err := os.ReadFile(report)
			if err != nil {
				t.Fatal(err)
			}
			want := []string{
				"line,field,reason",
				"5,household_external_id,no household with this external ID",
				"6,person_resident_id,no person on file",
				"7,", "7,", // date and amount, in either order
				`8,kind,"is not a signal kind`,
				"9,date,is before 2000-01-01",
				"10,person_resident_id,",
			}
			lines := strings.Split(strings.TrimSpace(string(text)), "\n")
			if len(lines) != len(want) {
				t.Fatalf("error report:\n%s", text)
			}
			for i, w := range want {
				if !strings.HasPrefix(lines[i], w) {
					t.Errorf("error report line %d = %q, want prefix %q", i, lines[i], w)
				}
			}
			for _, value := range []string{head, spouse, unknown, "H9", "WINDFALL", "2099", "-5"} {
				if strings.Contains(string(text), value) || strings.Contains(r.stdout+r.stderr, value) {
					t.Errorf("the value %q reached the report or the output", value)
				}
			}

			// Again, as JSON lines with one new signal: the rest are duplicates.
			jsonl := `{"source":"HRSS","external_id":"inc-1","household_external_id":"H1","kind":"INCOME","date":"2026-10-15","amount_fen":300000}` + "\n" +
				`{"source":"NHSA","external_id":"adm-1","person_resident_id":"` + head + `","kind":"HOSPITALISATION","date":"2026-11-21"}` + "\n"
			r = mustRun(t, e, "import", "signals", "--data", dir, "--quiet", writeFile(t, "more.ndjson", jsonl))
			if !strings.Contains(r.stdout, "imported 2 rows: 1 signals stored, 1 duplicates, 0 rows refused") {
				t.Fatalf("jsonl import: %s", r)
			}

			// Only bad rows: nothing stored.
			r = run(t, e, "import", "signals", "--data", dir, "--quiet", writeFile(t, "bad.csv", "source,external_id,household,kind,date,amount_fen\nHRSS,x,424242,INCOME,2026-10-01,-1\n"))
			if r.code != 1 || !strings.Contains(r.stdout, "0 signals stored") {
				t.Fatalf("bad-only import: %s", r)
			}

			d, err := db.Open(context.Background(), db.Config{URL: e["AIDHUB_DATABASE_URL"], DataDir: dir})
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			var n int
			if err := d.QueryRowContext(context.Background(), "SELECT count(*) FROM signals").Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != 4 {
				t.Errorf("signals = %d, want 4", n)
			}
		})
	}
}

func TestImportSignalsUsage(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"import", "signals"}, "FILE"},
		{[]string{"import", "signals", "a.csv", "b.csv"}, "FILE"},
		{[]string{"import", "signals", "signals.txt"}, "--format"},
		{[]string{"import", "signals", "--format", "xlsx", "x.csv"}, "xlsx"},
		{[]string{"import", "signals", "--batch", "0", "x.csv"}, "--batch"},
		{[]string{"import", "signals", "--batch", fmt.Sprint(1 << 20), "x.csv"}, "--batch"},
	} {
		r := run(t, env{}, c.args...)
		if r.code != 2 {
			t.Errorf("aidhub %s: want exit 2, got %s", strings.Join(c.args, " "), r)
			continue
		}
		if line := oneErrorLine(t, r); !strings.Contains(line, c.want) {
			t.Errorf("aidhub %s: %q does not mention %q", strings.Join(c.args, " "), line, c.want)
		}
	}
	// A header the import cannot read is a failure of the file: exit 1.
	r := run(t, env{}, "import", "signals", "--data", t.TempDir(), "--quiet", writeFile(t, "s.csv", "source,external_id,household,kind,date,amount\n"))
	if r.code != 1 || !strings.Contains(oneErrorLine(t, r), "header") {
		t.Errorf("misspelt column: %s", r)
	}
}
