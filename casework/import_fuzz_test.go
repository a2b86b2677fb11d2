package casework

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/aidhub/aidhub/catalog"
	"github.com/aidhub/aidhub/regions"
	"github.com/aidhub/aidhub/residentid"
	"github.com/aidhub/aidhub/secret"
)

const fuzzImportHeader = "household_external_id,region_code,address,monthly_income_fen,medical_spending_fen,education_spending_fen,housing_spending_fen,other_spending_fen,person_external_id,name,resident_id,relation,groups\n"

// FuzzImportCSV feeds the household import arbitrary files, read as CSV and
// as JSON lines, and checks every row as ImportBatch would: no panic, and
// the reader always moves on (at most one row or row error per line, then
// io.EOF); a row's fields are trimmed and its lines go forward; a row error
// or each fault of a refused row names an import column (or, for a key
// that is no column, none), once, and never quotes the resident ID; a row accepted holds a valid resident ID, sealed so that it
// opens to that ID, and no more group memberships than the row lists.
func FuzzImportCSV(f *testing.F) {
	good := "H1,500101001001,Some street 1,120000,0,0,0,0,P1,张三,11010519491231002X,head,DIBAO:2024-01-01\n" +
		"H1,500101001001,Some street 1,120000,0,0,0,0,P2,李四,110105491231002,spouse,DIBAO:2024-01-01:2026-12-31;DISABILITY:2020-03-01\n"
	for _, s := range []string{
		fuzzImportHeader + good,
		"\ufeff" + strings.ReplaceAll(fuzzImportHeader+good, "\n", "\r\n"),
		"name,resident_id,relation,person_external_id,region_code,household_external_id\n张三,11010519491231002X,HEAD,P1,500101001001,H1\n",
		fuzzImportHeader,
		"household_external_id,region_code\nH1,500101001001\n",
		"",
		"\n\n\n",
		fuzzImportHeader + `"H1,500101001001` + "\n",
		fuzzImportHeader + `H"1,500101001001,,,,,,,,P1,x,11010519491231002X,HEAD,` + "\n",
		fuzzImportHeader + "H1,500101001001,,99999999999999999999,,,,,P1,x,11010519491231002X,HEAD,\n",
		fuzzImportHeader + "H1,500101001001,,-1,,,,,P1,x,11010519491231002X,HEAD,\n",
		fuzzImportHeader + "H1,500101001001,,0x10,,,,,P1,x,11010519491231002X,HEAD,\n",
		fuzzImportHeader + "H1,5001,,,,,,,P1,x,11010519491231002X,HEAD,\n",
		fuzzImportHeader + "H1,500101001001,,,,,,,P1,\xff\xfe,11010519491231002\xff,HEAD,\n",
		fuzzImportHeader + "H1,500101001001,,,,,,,P1,x,11010519491231002X,HEAD,DIBAO\n",
		fuzzImportHeader + "H1,500101001001,,,,,,,P1,x,11010519491231002X,HEAD,DIBAO:2027-13-45\n",
		fuzzImportHeader + "H1,500101001001,,,,,,,P1,x,11010519491231002X,HEAD,DIBAO:2024-01-01:2023-01-01\n",
		fuzzImportHeader + "H1,500101001001,,,,,,,P1,x,11010519491231002X,HEAD,:::;;;::\n",
		fuzzImportHeader + "H1,500101001001,,,,,,,P1,x,11010519491231002X,HEAD," + strings.Repeat("DIBAO:2024-01-01;", 2000) + "\n",
		fuzzImportHeader + "H1,500101001001,,,,,,,P1," + strings.Repeat("名", 5000) + ",11010519491231002X,HEAD,\n",
		fuzzImportHeader + "H1,500101001001,,,,,,,P1,x,11010519491231002X,HEAD,,extra,columns,\n",
		fuzzImportHeader + "H1\n" + strings.Repeat(",", 5000) + "\n",
		fuzzImportHeader + `"` + strings.Repeat(`""`, 5000) + `"` + "\n",
		fuzzImportHeader + "H1,500101001001,,,,,,,P1,x,11010519491231002X,HEAD,\x00\n",
		`{"household_external_id":"H1","region_code":"500101001001","person_external_id":"P1","name":"张三","resident_id":"11010519491231002X","relation":"HEAD","groups":"DIBAO:2024-01-01","monthly_income_fen":120000}` + "\n",
		`{"household_external_id":1}` + "\n" + `{"unknown":true}` + "\n{\n" + strings.Repeat("[", 10000) + "\n",
		`{"monthly_income_fen":1e400}` + "\n",
	} {
		f.Add([]byte(s))
	}
	d, err := catalog.LoadDefaults()
	if err != nil {
		f.Fatal(err)
	}
	cat := catalog.NewCatalog(d.Groups, d.Categories, d.Items, d.Plans)
	keys, err := secret.NewKeys(bytes.Repeat([]byte{7}, secret.MinMasterSize))
	if err != nil {
		f.Fatal(err)
	}
	today := time.Date(2026, 11, 28, 4, 0, 0, 0, time.UTC)
	s := &Service{regions: regions.Chongqing(), keys: keys, now: func() time.Time { return today }}
	columns := map[string]bool{}
	for _, c := range ImportColumns {
		columns[c] = true
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<20 {
			t.Skip("larger than the files the import reads in one go")
		}
		for _, format := range []string{"csv", "jsonl"} {
			r, err := NewImportReader(bytes.NewReader(data), format)
			if err != nil {
				if format != "csv" || len(err.Error()) > 500 {
					t.Fatalf("%s: NewImportReader: %v", format, err)
				}
				continue
			}
			lines := bytes.Count(data, []byte("\n")) + bytes.Count(data, []byte("\r")) + 1
			lastLine := 0
			for n := 0; ; n++ {
				if n > lines {
					t.Fatalf("%s: more than %d rows from %d lines: the reader does not move on", format, n, lines)
				}
				row, rowErr, err := r.Next()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					if format == "jsonl" && errors.Is(err, bufio.ErrTooLong) {
						break // a line over 1 MiB: the import stops with an error
					}
					t.Fatalf("%s: Next: %v", format, err)
				}
				if rowErr != nil {
					if rowErr.Line < 1 || rowErr.Reason == "" || rowErr.Field != "" && !columns[rowErr.Field] || len(rowErr.Reason) > 200 {
						t.Fatalf("%s: row error %+v", format, rowErr)
					}
					continue
				}
				if row.Line < lastLine || row.Line < 1 {
					t.Fatalf("%s: row on line %d after line %d", format, row.Line, lastLine)
				}
				lastLine = row.Line
				if format == "csv" {
					for _, v := range []string{row.HouseholdExternalID, row.RegionCode, row.Address, row.PersonExternalID, row.Name, row.ResidentID, row.Relation, row.Groups} {
						if strings.TrimSpace(v) != v {
							t.Fatalf("csv: field %q is not trimmed", v)
						}
					}
				}
				checkFuzzedRow(t, s, cat, row, columns)
			}
		}
	})
}

func checkFuzzedRow(t *testing.T, s *Service, cat *catalog.Catalog, row ImportRow, columns map[string]bool) {
	t.Helper()
	pp, faults := s.checkImportRow(row, cat)
	if len(faults) > 0 {
		seen := map[RowError]bool{}
		for _, f := range faults {
			// A fault names a column, or none for a key that is no column.
			if f.Line != row.Line || f.Reason == "" || f.Field == "" && !strings.HasPrefix(f.Reason, "unknown key") || f.Field != "" && !columns[f.Field] {
				t.Fatalf("row %+v: fault %+v, want one naming a column", row, f)
			}
			if seen[f] {
				t.Fatalf("row %+v: fault %+v reported twice", row, f)
			}
			seen[f] = true
			if !utf8.ValidString(f.Reason) && utf8.ValidString(row.Groups) && utf8.ValidString(row.RegionCode) && utf8.ValidString(row.Relation) {
				t.Fatalf("row %+v: reason %q", row, f.Reason)
			}
			// The resident ID (personal data) is never quoted back, unless the
			// same text sits in a column that may be.
			rid := strings.TrimSpace(row.ResidentID)
			if len(rid) >= 6 && strings.Contains(f.Reason, rid) && !strings.Contains(row.RegionCode+row.Relation+row.Groups, rid) {
				t.Fatalf("row %+v: reason %q quotes the resident ID", row, f.Reason)
			}
		}
		return
	}
	p := pp.person
	id, perr := residentid.Parse(row.ResidentID, s.now().In(chinaTime))
	if perr != nil {
		t.Fatalf("row %+v accepted with resident ID refused by the parser: %v", row, perr)
	}
	if opened, err := s.keys.Open(p.ResidentIDSealed, p.ResidentIDIndex); err != nil || string(opened) != string(id) {
		t.Fatalf("row %+v: sealed resident ID opens to %q, %v", row, opened, err)
	}
	if p.BirthDate.Time != id.BirthDate() || p.Female != id.Female() || p.Name == "" || p.Name != strings.TrimSpace(p.Name) {
		t.Fatalf("row %+v: person %+v for %v", row, p, id.Mask(residentid.MaskPartial))
	}
	if !slices.Contains(Relations, p.Relation) {
		t.Fatalf("row %+v: relation %q", row, p.Relation)
	}
	if n := len(pp.groups); n > strings.Count(row.Groups, ";")+1 || n > 0 && strings.TrimSpace(row.Groups) == "" {
		t.Fatalf("row %+v: %d memberships", row, n)
	}
	for _, g := range pp.groups {
		if _, ok := cat.Group(g.GroupCode); !ok || g.Since.IsZero() || g.Until != nil && g.Until.Before(g.Since) {
			t.Fatalf("row %+v: membership %+v", row, g)
		}
	}
}
