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

// residentID builds a valid GB 11643 number from region, birth date and
// sequence.
func residentID(region, birth string, seq int) string {
	s := fmt.Sprintf("%s%s%03d", region, birth, seq)
	weights := []int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i, w := range weights {
		sum += int(s[i]-'0') * w
	}
	return s + string("10X98765432"[sum%11])
}

func TestImportHouseholds(t *testing.T) {
	for _, engine := range []string{db.SQLite, db.Postgres} {
		t.Run(engine, func(t *testing.T) {
			e := env{}
			if engine == db.Postgres {
				e["AIDHUB_DATABASE_URL"] = postgresSchemaURL(t)
			}
			dir := t.TempDir()
			good1, good2, good3 := residentID("500103", "19600101", 11), residentID("500103", "19620202", 22), residentID("500104", "19900505", 33)
			bad := residentID("500103", "19700303", 44)
			bad = bad[:17] + string("0123456789X"[(strings.IndexByte("0123456789X", bad[17])+1)%11]) // wrong check digit
			csvText := strings.Join([]string{
				"household_external_id,region_code,address,monthly_income_fen,medical_spending_fen,education_spending_fen,housing_spending_fen,other_spending_fen,person_external_id,name,resident_id,relation,groups",
				"H1,500103001003,解放碑1号,120000,30000,0,0,0,P1,张三," + good1 + ",HEAD,DIBAO:2024-01-01",
				"H1,500103001003,,,,,,,P2,李四," + good2 + ",SPOUSE,",
				"H2,500103001003,,abc,,,,,P3,王五," + residentID("500103", "19700303", 55) + ",HEAD,",
				"H3,500103001003,,,,,,,P4,赵六," + bad + ",HEAD,",
				"H4,999999999999,,,,,,,P5,钱七," + residentID("500103", "19800101", 66) + ",HEAD,",
				"H5,500103001003,,,,,,,P6,孙八," + residentID("500103", "19800101", 77) + ",HEAD,NOPE:2024-01-01",
				"H6,500103001003,,,,,,,P7,周九," + good1 + ",HEAD,",
			}, "\n") + "\n"
			path := filepath.Join(t.TempDir(), "households.csv")
			if err := os.WriteFile(path, []byte(csvText), 0o600); err != nil {
				t.Fatal(err)
			}
			report := filepath.Join(t.TempDir(), "errors.csv")
			r := run(t, e, "import", "households", "--data", dir, "--quiet", "--errors", report, path)
			if r.code != 1 || !strings.Contains(r.stdout, "2 persons created") || !strings.Contains(r.stdout, "5 rows refused") {
				t.Fatalf("first import: %s", r)
			}
			oneErrorLine(t, r)
			text, err := os.ReadFile(report)
			if err != nil {
				t.Fatal(err)
			}
			want := []string{
				"line,field,reason",
				"4,monthly_income_fen,is not a whole number of fen",
				"5,resident_id,has a wrong check digit",
				"6,region_code,",
				"7,groups,",
				"8,resident_id,is the same as on line 2",
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
			for _, id := range []string{good1, good2, bad} {
				if strings.Contains(string(text), id) || strings.Contains(r.stdout+r.stderr, id) {
					t.Errorf("a resident ID reached the report or the output")
				}
			}

			// Run again, with a new good row: what is there stays, the new row goes in.
			more := csvText + "H7,500104001001,,,,,,,P8,吴十," + good3 + ",HEAD,\n"
			if err := os.WriteFile(path, []byte(more), 0o600); err != nil {
				t.Fatal(err)
			}
			r = run(t, e, "import", "households", "--data", dir, "--quiet", "--errors", report, path)
			if r.code != 1 || !strings.Contains(r.stdout, "1 households and 1 persons created, 2 persons already present") {
				t.Fatalf("second import: %s", r)
			}

			// JSON lines, all good, into the same households.
			jsonl := fmt.Sprintf(`{"household_external_id":"H1","region_code":"500103001003","person_external_id":"P9","name":"张小三","resident_id":"%s","relation":"child"}`+"\n",
				residentID("500103", "20100101", 88))
			jpath := filepath.Join(t.TempDir(), "more.jsonl")
			if err := os.WriteFile(jpath, []byte(jsonl+`{"nope":1}`+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			r = run(t, e, "import", "households", "--data", dir, "--quiet", "--errors", report, jpath)
			if r.code != 1 || !strings.Contains(r.stdout, "0 households and 1 persons created") || !strings.Contains(r.stdout, "1 rows refused") {
				t.Fatalf("jsonl import: %s", r)
			}

			d, err := db.Open(context.Background(), db.Config{URL: e["AIDHUB_DATABASE_URL"], DataDir: dir})
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			count := func(q string) int {
				var n int
				if err := d.QueryRowContext(context.Background(), q).Scan(&n); err != nil {
					t.Fatal(err)
				}
				return n
			}
			if got := count("SELECT count(*) FROM households"); got != 2 {
				t.Errorf("households = %d, want 2", got)
			}
			if got := count("SELECT count(*) FROM persons"); got != 4 {
				t.Errorf("persons = %d, want 4", got)
			}
			if got := count("SELECT count(*) FROM persons WHERE household_id = (SELECT id FROM households WHERE external_id = 'H1')"); got != 3 {
				t.Errorf("H1 has %d persons, want 3", got)
			}
			if got := count("SELECT count(*) FROM group_memberships"); got != 1 {
				t.Errorf("memberships = %d, want 1", got)
			}
		})
	}
}

// TestImportHouseholds_EveryBadField: a row with several bad fields is
// reported with each of them (in column order, never the value) and goes in
// not at all, while the good row of the same household beside it goes in;
// the summary counts rows, not faults.
func TestImportHouseholds_EveryBadField(t *testing.T) {
	for _, engine := range []string{db.SQLite, db.Postgres} {
		t.Run(engine, func(t *testing.T) {
			e := env{}
			if engine == db.Postgres {
				e["AIDHUB_DATABASE_URL"] = postgresSchemaURL(t)
			}
			dir := t.TempDir()
			good := residentID("500103", "19600101", 11)
			bad := residentID("500103", "19700303", 44)
			bad = bad[:17] + string("0123456789X"[(strings.IndexByte("0123456789X", bad[17])+1)%11]) // wrong check digit
			csvText := "household_external_id,region_code,address,monthly_income_fen,medical_spending_fen,education_spending_fen,housing_spending_fen,other_spending_fen,person_external_id,name,resident_id,relation,groups\n" +
				"H1,500103001003,,,,,,,P1,张三," + good + ",HEAD,\n" +
				"H1,500103001003,,abc,,,,,P2,王五," + bad + ",COUSIN,\n"
			jsonl := fmt.Sprintf(`{"household_external_id":"H1","region_code":"500103001003","person_external_id":"P3","name":"李四","resident_id":"%s","relation":"CHILD","monthly_income_fen":"abc","medical_spending_fen":1.5,"nope":1}`+"\n",
				residentID("500103", "20100101", 88))
			for _, c := range []struct {
				file, text string
				created    string
				want       []string
			}{
				{"households.csv", csvText, "1 households and 1 persons created", []string{
					"line,field,reason",
					"3,monthly_income_fen,is not a whole number of fen",
					"3,resident_id,has a wrong check digit",
					"3,relation,",
				}},
				{"more.jsonl", jsonl, "0 households and 0 persons created", []string{
					"line,field,reason",
					`1,,"unknown key`,
					"1,monthly_income_fen,is not a whole number of fen",
					"1,medical_spending_fen,is not a whole number of fen",
				}},
			} {
				path := filepath.Join(t.TempDir(), c.file)
				if err := os.WriteFile(path, []byte(c.text), 0o600); err != nil {
					t.Fatal(err)
				}
				report := filepath.Join(t.TempDir(), "errors.csv")
				r := run(t, e, "import", "households", "--data", dir, "--quiet", "--errors", report, path)
				if r.code != 1 || !strings.Contains(r.stdout, c.created) || !strings.Contains(r.stdout, "1 rows refused") {
					t.Fatalf("%s: %s", c.file, r)
				}
				if !strings.Contains(oneErrorLine(t, r), "1 rows refused") {
					t.Errorf("%s: %s", c.file, r)
				}
				text, err := os.ReadFile(report)
				if err != nil {
					t.Fatal(err)
				}
				lines := strings.Split(strings.TrimSpace(string(text)), "\n")
				if len(lines) != len(c.want) {
					t.Fatalf("%s: error report:\n%s", c.file, text)
				}
				for i, w := range c.want {
					if !strings.HasPrefix(lines[i], w) {
						t.Errorf("%s: error report line %d = %q, want prefix %q", c.file, i, lines[i], w)
					}
				}
				if strings.Contains(string(text), bad[:17]) || strings.Contains(string(text), "王五") || strings.Contains(string(text), "abc") {
					t.Errorf("%s: the report quotes a value:\n%s", c.file, text)
				}
			}

			d, err := db.Open(context.Background(), db.Config{URL: e["AIDHUB_DATABASE_URL"], DataDir: dir})
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			var names []string
			rows, err := d.QueryContext(context.Background(), "SELECT external_id FROM persons ORDER BY external_id")
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			for rows.Next() {
				var n string
				if err := rows.Scan(&n); err != nil {
					t.Fatal(err)
				}
				names = append(names, n)
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			if strings.Join(names, ",") != "P1" {
				t.Errorf("persons on file: %v, want only P1", names)
			}
		})
	}
}

func TestImportUsage(t *testing.T) {
	for _, args := range [][]string{
		{"import"},
		{"import", "persons", "x.csv"},
		{"import", "households"},
		{"import", "households", "file.txt"},
		{"import", "households", "--batch", "0", "x.csv"},
	} {
		r := run(t, env{}, args...)
		if r.code != 2 {
			t.Errorf("aidhub %s: want exit 2, got %s", strings.Join(args, " "), r)
		}
		oneErrorLine(t, r)
	}
}
