package casework

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/uptrace/bun"

	"github.com/aidhub/aidhub"
	"github.com/aidhub/aidhub/audit"
	"github.com/aidhub/aidhub/auth"
	"github.com/aidhub/aidhub/catalog"
	"github.com/aidhub/aidhub/db"
)

// ImportColumns are the columns of a household import, one row per person;
// a household's own columns repeat on each of its members' rows (the first
// row's values count). groups is "CODE:YYYY-MM-DD[:YYYY-MM-DD];…".
var ImportColumns = []string{
	"household_external_id", "region_code", "address", "monthly_income_fen",
	"medical_spending_fen", "education_spending_fen", "housing_spending_fen", "other_spending_fen",
	"person_external_id", "name", "resident_id", "relation", "groups",
}

// ImportRow is one person of a household import.
type ImportRow struct {
	Line                 int
	HouseholdExternalID  string `json:"household_external_id"`
	RegionCode           string `json:"region_code"`
	Address              string `json:"address"`
	MonthlyIncomeFen     int64  `json:"monthly_income_fen"`
	MedicalSpendingFen   int64  `json:"medical_spending_fen"`
	EducationSpendingFen int64  `json:"education_spending_fen"`
	HousingSpendingFen   int64  `json:"housing_spending_fen"`
	OtherSpendingFen     int64  `json:"other_spending_fen"`
	PersonExternalID     string `json:"person_external_id"`
	Name                 string `json:"name"`
	ResidentID           string `json:"resident_id"`
	Relation             string `json:"relation"`
	Groups               string `json:"groups"`

	// unreadable are the fields the reader could not read as their type
	// (a number that is not one) and the keys that are no column: the row
	// is refused with them and every other fault ImportBatch finds.
	unreadable []RowError
}

// fields points at the row's value of each column, by column name.
func (row *ImportRow) fields() map[string]any {
	return map[string]any{
		"household_external_id": &row.HouseholdExternalID, "region_code": &row.RegionCode, "address": &row.Address,
		"monthly_income_fen": &row.MonthlyIncomeFen, "medical_spending_fen": &row.MedicalSpendingFen,
		"education_spending_fen": &row.EducationSpendingFen, "housing_spending_fen": &row.HousingSpendingFen,
		"other_spending_fen": &row.OtherSpendingFen, "person_external_id": &row.PersonExternalID, "name": &row.Name,
		"resident_id": &row.ResidentID, "relation": &row.Relation, "groups": &row.Groups,
	}
}

// reasonNotFen is why a money column is unreadable.
const reasonNotFen = "is not a whole number of fen"

// RowError is one bad row of an import: where, which field, why. It never
// holds the value, which may be personal data.
type RowError struct {
	Line   int
	Field  string
	Reason string
}

// ImportReport counts what an import did.
type ImportReport struct {
	Rows              int
	HouseholdsCreated int
	PersonsCreated    int
	// PersonsPresent were imported before (same person external ID): an
	// import run twice changes nothing.
	PersonsPresent int
	// RowsRefused went in not at all; Errors has one entry for each bad
	// field of each of them, so it may be longer.
	RowsRefused int
	Errors      []RowError
}

// Refuse records one refused row with its faults.
func (r *ImportReport) Refuse(faults ...RowError) {
	r.RowsRefused++
	r.Errors = append(r.Errors, faults...)
}

// ImportReader reads rows from CSV (with a header naming ImportColumns, in
// any order) or JSON lines.
type ImportReader struct {
	next func() (ImportRow, *RowError, error)
}

// NewImportReader reads format "csv" or "jsonl" from r.
func NewImportReader(r io.Reader, format string) (*ImportReader, error) {
	switch format {
	case "csv":
		cr := csv.NewReader(r)
		cr.FieldsPerRecord = -1
		header, err := cr.Read()
		if err != nil {
			return nil, fmt.Errorf("import: read CSV header: %w", err)
		}
		col := map[string]int{}
		for i, h := range header {
			col[strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))] = i
		}
		for _, need := range []string{"household_external_id", "region_code", "person_external_id", "name", "resident_id", "relation"} {
			if _, ok := col[need]; !ok {
				return nil, fmt.Errorf("import: the CSV header has no column %q (columns: %s)", need, strings.Join(ImportColumns, ","))
			}
		}
		line := 1
		return &ImportReader{next: func() (ImportRow, *RowError, error) {
			rec, err := cr.Read()
			line++
			if err != nil {
				var pe *csv.ParseError
				if errors.As(err, &pe) {
					return ImportRow{}, &RowError{Line: pe.Line, Field: "", Reason: "not valid CSV: " + pe.Err.Error()}, nil
				}
				return ImportRow{}, nil, err
			}
			line, _ = cr.FieldPos(0)
			row := ImportRow{Line: line}
			for name, dst := range row.fields() {
				i, ok := col[name]
				if !ok || i >= len(rec) {
					continue
				}
				v := strings.TrimSpace(rec[i])
				switch dst := dst.(type) {
				case *string:
					*dst = v
				case *int64:
					if v == "" {
						continue
					}
					n, err := strconv.ParseInt(v, 10, 64)
					if err != nil {
						row.unreadable = append(row.unreadable, RowError{Line: line, Field: name, Reason: reasonNotFen})
					}
					*dst = n
				}
			}
			return row, nil, nil
		}}, nil
	case "jsonl":
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 64*1024), 1<<20)
		line := 0
		return &ImportReader{next: func() (ImportRow, *RowError, error) {
			for sc.Scan() {
				line++
				text := strings.TrimSpace(sc.Text())
				if text == "" {
					continue
				}
				return decodeJSONRow(text, line)
			}
			if err := sc.Err(); err != nil {
				return ImportRow{}, nil, err
			}
			return ImportRow{}, nil, io.EOF
		}}, nil
	}
	return nil, fmt.Errorf("import: unknown format %q: use csv or jsonl", format)
}

// decodeJSONRow reads one JSON line field by field, so that every field of
// the wrong type and every unknown key is reported, not just the first.
func decodeJSONRow(text string, line int) (ImportRow, *RowError, error) {
	var object map[string]json.RawMessage
	if err := json.NewDecoder(strings.NewReader(text)).Decode(&object); err != nil || object == nil {
		return ImportRow{Line: line}, &RowError{Line: line, Reason: "not a JSON object of the import's fields: malformed JSON"}, nil
	}
	row := ImportRow{Line: line}
	fields := row.fields()
	keys := make([]string, 0, len(object))
	for k := range object {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		dst, ok := fields[k]
		if !ok {
			row.unreadable = append(row.unreadable, RowError{Line: line, Reason: fmt.Sprintf("unknown key %q", aidhub.Clip(k))})
			continue
		}
		if err := json.Unmarshal(object[k], dst); err != nil {
			reason := "is not a string"
			if _, number := dst.(*int64); number {
				reason = reasonNotFen
			}
			row.unreadable = append(row.unreadable, RowError{Line: line, Field: k, Reason: reason})
		}
	}
	return row, nil, nil
}

// Next returns the next row, a row error for a row that could not be read,
// or io.EOF.
func (r *ImportReader) Next() (ImportRow, *RowError, error) { return r.next() }

// importPerson is a checked row.
type importPerson struct {
	row ImportRow
	pp  *preparedPerson
}

// ImportBatch imports one batch of rows in one transaction. Bad rows go to
// the report and the rest go in; rows whose person external ID is on file
// already are skipped, so an import can be run again. It runs as the
// caller in ctx, which must be ADMIN (the CLI runs as the hub itself).
func (s *Service) ImportBatch(ctx context.Context, rows []ImportRow, report *ImportReport) error {
	pr := auth.FromContext(ctx)
	if err := pr.Require("importing households", auth.Admin); err != nil {
		return err
	}
	cat, err := s.catalog.Snapshot(ctx)
	if err != nil {
		return err
	}
	report.Rows += len(rows)
	var good []importPerson
	seenID := map[string]int{}
	seenExt := map[string]bool{}
	for _, row := range rows {
		pp, faults := s.checkImportRow(row, cat)
		if len(faults) > 0 {
			report.Refuse(faults...)
			continue
		}
		key := string(pp.person.ResidentIDIndex)
		if line, dup := seenID[key]; dup {
			report.Refuse(RowError{Line: row.Line, Field: "resident_id", Reason: fmt.Sprintf("is the same as on line %d", line)})
			continue
		}
		if seenExt[row.PersonExternalID] {
			report.Refuse(RowError{Line: row.Line, Field: "person_external_id", Reason: "appears twice in the file"})
			continue
		}
		seenID[key], seenExt[row.PersonExternalID] = row.Line, true
		good = append(good, importPerson{row: row, pp: pp})
	}
	if len(good) == 0 {
		return nil
	}
	var created, createdHouseholds, present int
	var batchErrors []RowError
	err = s.db.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		created, createdHouseholds, present, batchErrors = 0, 0, 0, nil
		// Persons imported before are skipped by external ID; resident IDs
		// on file under another person are errors.
		exts := make([]string, len(good))
		indexes := make([][]byte, len(good))
		for i, g := range good {
			exts[i], indexes[i] = g.row.PersonExternalID, g.pp.person.ResidentIDIndex
		}
		var existing []Person
		if err := tx.NewSelect().Model(&existing).Column("id", "external_id", "resident_id_index").
			Where("external_id IN (?) OR resident_id_index IN (?)", bun.List(exts), bun.List(indexes)).Scan(ctx); err != nil {
			return err
		}
		byExt, byIndex := map[string]bool{}, map[string]bool{}
		for _, p := range existing {
			if p.ExternalID != nil {
				byExt[*p.ExternalID] = true
			}
			byIndex[string(p.ResidentIDIndex)] = true
		}
		var todo []importPerson
		for _, g := range good {
			switch {
			case byExt[g.row.PersonExternalID]:
				present++
			case byIndex[string(g.pp.person.ResidentIDIndex)]:
				batchErrors = append(batchErrors, RowError{Line: g.row.Line, Field: "resident_id", Reason: "a person with this resident ID is registered already under another external ID"})
			default:
				todo = append(todo, g)
			}
		}
		if len(todo) == 0 {
			return nil
		}
		households, n, err := s.importHouseholds(ctx, tx, todo)
		if err != nil {
			return err
		}
		createdHouseholds = n
		persons := make([]Person, len(todo))
		for i, g := range todo {
			p := g.pp.person
			ext := g.row.PersonExternalID
			p.ExternalID, p.HouseholdID, p.CreatedAt = &ext, households[g.row.HouseholdExternalID].ID, s.now().UTC()
			persons[i] = p
		}
		if err := s.flagTwins(ctx, tx, persons, households, todo); err != nil {
			return err
		}
		if _, err := tx.NewInsert().Model(&persons).Exec(ctx); err != nil {
			return err
		}
		var memberships []Membership
		for i, g := range todo {
			for _, m := range g.pp.groups {
				memberships = append(memberships, Membership{PersonID: persons[i].ID, GroupCode: m.GroupCode, Since: m.Since, Until: m.Until, CreatedAt: persons[i].CreatedAt})
			}
		}
		if len(memberships) > 0 {
			if _, err := tx.NewInsert().Model(&memberships).Exec(ctx); err != nil {
				return err
			}
		}
		created = len(persons)
		return s.audit.Append(ctx, db.UnitOf(tx), "importHouseholds", "Household", 0, audit.Summary{
			"households": createdHouseholds, "persons": created, "present": present,
		})
	})
	if err != nil {
		return wrap(err, "casework: import batch")
	}
	report.PersonsCreated += created
	report.HouseholdsCreated += createdHouseholds
	report.PersonsPresent += present
	for _, e := range batchErrors {
		report.Refuse(e)
	}
	return nil
}

// checkImportRow checks every field of row and returns the person, or
// each fault in column order.
func (s *Service) checkImportRow(row ImportRow, cat *catalog.Catalog) (*preparedPerson, []RowError) {
	faults := slices.Clone(row.unreadable)
	fault := func(err error) {
		re := RowError{Line: row.Line, Reason: err.Error()}
		var ae *aidhub.Error
		if errors.As(renameField(err), &ae) {
			re.Field, re.Reason = ae.Field, ae.Message
		}
		if !slices.Contains(faults, re) { // two bad groups may fail alike
			faults = append(faults, re)
		}
	}
	required := func(field string, v *string) *string {
		ext, err := checkExternalID(field, v)
		if err == nil && ext == nil {
			err = aidhub.Invalid(field, "is required: imports are idempotent by external ID")
		}
		if err != nil {
			fault(err)
		}
		return ext
	}
	ext := required("household_external_id", &row.HouseholdExternalID)
	required("person_external_id", &row.PersonExternalID)
	in := HouseholdInput{
		ExternalID: ext, RegionCode: row.RegionCode, Address: row.Address, MonthlyIncomeFen: row.MonthlyIncomeFen,
		MedicalSpendingFen: row.MedicalSpendingFen, EducationSpendingFen: row.EducationSpendingFen,
		HousingSpendingFen: row.HousingSpendingFen, OtherSpendingFen: row.OtherSpendingFen,
	}
	for _, err := range s.householdProblems(&in) {
		fault(err)
	}
	groups, err := parseGroups(row.Groups)
	if err != nil {
		fault(err)
	}
	pp, problems := s.checkPerson(PersonInput{Name: row.Name, ResidentID: row.ResidentID, Relation: Relation(strings.ToUpper(row.Relation)), Groups: groups}, cat, "")
	for _, err := range problems {
		fault(err)
	}
	if len(faults) > 0 {
		slices.SortStableFunc(faults, func(a, b RowError) int { return columnIndex(a.Field) - columnIndex(b.Field) })
		return nil, faults
	}
	return pp, nil
}

// columnIndex places a fault's field among the import's columns; a fault
// of no column comes first.
func columnIndex(field string) int {
	return slices.Index(ImportColumns, field)
}

// renameField turns the API's field names into the import's column names.
func renameField(err error) error {
	var ae *aidhub.Error
	if errors.As(err, &ae) {
		names := map[string]string{"residentId": "resident_id", "regionCode": "region_code", "monthlyIncomeFen": "monthly_income_fen",
			"spending.medicalFen": "medical_spending_fen", "spending.educationFen": "education_spending_fen",
			"spending.housingFen": "housing_spending_fen", "spending.otherFen": "other_spending_fen"}
		if n, ok := names[ae.Field]; ok {
			ae.Field = n
		}
		if strings.HasPrefix(ae.Field, "groups[") {
			ae.Field = "groups"
		}
	}
	return err
}

// parseGroups reads "DIBAO:2024-01-01;DISABILITY:2020-03-01:2026-12-31".
func parseGroups(s string) ([]MembershipInput, error) {
	var out []MembershipInput
	for _, part := range strings.Split(s, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		fields := strings.Split(part, ":")
		if len(fields) < 2 || len(fields) > 3 {
			return nil, aidhub.Invalid("groups", "write each group as CODE:YYYY-MM-DD or CODE:SINCE:UNTIL, separated by ;")
		}
		since, err := aidhub.ParseDate(fields[1])
		if err != nil {
			return nil, aidhub.Invalid("groups", "%s", err)
		}
		m := MembershipInput{GroupCode: strings.ToUpper(fields[0]), Since: since}
		if len(fields) == 3 {
			until, err := aidhub.ParseDate(fields[2])
			if err != nil {
				return nil, aidhub.Invalid("groups", "%s", err)
			}
			m.Until = &until
		}
		out = append(out, m)
	}
	return out, nil
}

// importHouseholds finds or creates the households of a batch by external
// ID; it reports how many it created.
func (s *Service) importHouseholds(ctx context.Context, tx bun.Tx, todo []importPerson) (map[string]*Household, int, error) {
	byExt := map[string]*Household{}
	var exts []string
	for _, g := range todo {
		if _, ok := byExt[g.row.HouseholdExternalID]; !ok {
			byExt[g.row.HouseholdExternalID] = nil
			exts = append(exts, g.row.HouseholdExternalID)
		}
	}
	var found []*Household
	if err := tx.NewSelect().Model(&found).Where("external_id IN (?)", bun.List(exts)).Scan(ctx); err != nil {
		return nil, 0, err
	}
	for _, h := range found {
		byExt[*h.ExternalID] = h
	}
	now := s.now().UTC()
	var fresh []*Household
	for _, g := range todo {
		if byExt[g.row.HouseholdExternalID] != nil {
			continue
		}
		ext := g.row.HouseholdExternalID
		h := &Household{
			ExternalID: &ext, RegionCode: g.row.RegionCode, Address: strings.TrimSpace(g.row.Address),
			MonthlyIncomeFen: g.row.MonthlyIncomeFen, MedicalSpendingFen: g.row.MedicalSpendingFen,
			EducationSpendingFen: g.row.EducationSpendingFen, HousingSpendingFen: g.row.HousingSpendingFen,
			OtherSpendingFen: g.row.OtherSpendingFen, Version: 1, CreatedAt: now, UpdatedAt: now,
		}
		byExt[ext] = h
		fresh = append(fresh, h)
	}
	if len(fresh) > 0 {
		if _, err := tx.NewInsert().Model(&fresh).Exec(ctx); err != nil {
			return nil, 0, err
		}
	}
	return byExt, len(fresh), nil
}

// flagTwins marks possible duplicates (same name, birth date and village)
// against the persons on file, with one query. Twins within one batch are
// not marked: neither has an ID to point at yet.
func (s *Service) flagTwins(ctx context.Context, tx bun.Tx, persons []Person, households map[string]*Household, todo []importPerson) error {
	// Narrow by name and by birth date, not by name alone: common names
	// would otherwise pull in a large part of the table every batch. The
	// pairs are matched below.
	var names, births []any
	seenName, seenBirth := map[string]bool{}, map[aidhub.Date]bool{}
	for _, p := range persons {
		if !seenName[p.Name] {
			seenName[p.Name] = true
			names = append(names, p.Name)
		}
		if !seenBirth[p.BirthDate] {
			seenBirth[p.BirthDate] = true
			births = append(births, p.BirthDate)
		}
	}
	type twin struct {
		ID         int64
		Name       string
		BirthDate  aidhub.Date
		RegionCode string
	}
	var known []twin
	if err := tx.NewSelect().TableExpr("persons AS p").Join("JOIN households AS h ON h.id = p.household_id").
		ColumnExpr("p.id, p.name, p.birth_date, h.region_code").Where("p.name IN (?) AND p.birth_date IN (?)", bun.List(names), bun.List(births)).
		OrderExpr("p.id").Scan(ctx, &known); err != nil {
		return err
	}
	first := map[string]int64{}
	key := func(name string, birth aidhub.Date, region string) string {
		return name + "\x00" + birth.String() + "\x00" + region
	}
	for _, k := range known {
		if _, ok := first[key(k.Name, k.BirthDate, k.RegionCode)]; !ok {
			first[key(k.Name, k.BirthDate, k.RegionCode)] = k.ID
		}
	}
	for i := range persons {
		region := households[todo[i].row.HouseholdExternalID].RegionCode
		if id, ok := first[key(persons[i].Name, persons[i].BirthDate, region)]; ok {
			persons[i].PossibleDuplicateOf = &id
		}
	}
	return nil
}
