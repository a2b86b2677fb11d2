package synthpop

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aidhub/aidhub"
	"github.com/jackc/pgx/v5"
	"github.com/uptrace/bun/schema"
)

// table is a table the generator fills, with the columns it writes (the
// others keep their defaults). dates marks DATE columns, whose values are
// time.Time at midnight UTC.
type table struct {
	name  string
	cols  []string
	dates map[string]bool
}

func newTable(name string, cols string, dates ...string) *table {
	t := &table{name: name, cols: strings.Fields(cols), dates: map[string]bool{}}
	for _, d := range dates {
		t.dates[d] = true
	}
	return t
}

// The tables in the order they are written (foreign keys point backwards).
var (
	tOrganizations = newTable("organizations", "id name kind division_code description contact_phone website created_at updated_at")
	tResources     = newTable("resources", "id organization_id title description status age_min age_max income_ceiling_fen "+
		"capacity_units units_taken capacity_budget_fen budget_taken_fen valid_from valid_until address division_code "+
		"contact_name contact_phone eligibility_rule version created_at updated_at published_at", "valid_from", "valid_until")
	tResourceItems    = newTable("resource_items", "resource_id item_code")
	tResourceGroups   = newTable("resource_groups", "resource_id group_code")
	tResourceCoverage = newTable("resource_coverage", "resource_id division_prefix")
	tHouseholds       = newTable("households", "id region_code address monthly_income_fen medical_spending_fen "+
		"education_spending_fen housing_spending_fen other_spending_fen version created_at updated_at")
	tPersons     = newTable("persons", "id household_id name relation resident_id_index resident_id_sealed birth_date female created_at", "birth_date")
	tMemberships = newTable("group_memberships", "id person_id group_code since until created_at", "since", "until")
	tConsents    = newTable("consents", "id household_id purposes granted_by_person_id method granted_at expires_at created_at")
	tAssessments = newTable("assessments", "id household_id assessed_on assessor_role created_at", "assessed_on")
	tNeeds       = newTable("needs", "id assessment_id household_id person_id category_code item_code severity opened_on status", "opened_on")
	tReferrals   = newTable("referrals", "id household_id person_id need_id resource_id organization_id category_code item_code "+
		"units amount_fen period_start period_end status capacity_taken respond_by created_at updated_at version", "period_start", "period_end")
	tReferralEvents = newTable("referral_events", "id referral_id from_status to_status at actor_role reason")
	tAidRecords     = newTable("aid_records", "id household_id person_id category_code item_code provider_kind provider_org_id "+
		"provider_name amount_fen units period_start period_end source recorded_at", "period_start", "period_end")
	tSignals = newTable("signals", "id source external_id household_id person_id kind observed_on month amount_fen status recorded_at", "observed_on")
)

// written are the tables the generator writes.
var written = []*table{tOrganizations, tResources, tResourceItems, tResourceGroups, tResourceCoverage,
	tHouseholds, tPersons, tMemberships, tConsents, tAssessments, tNeeds, tReferrals, tReferralEvents, tAidRecords, tSignals}

// sequenced are the tables whose id the generator assigns and whose
// sequence it moves past the largest afterwards.
var sequenced = []*table{tOrganizations, tResources, tHouseholds, tPersons, tMemberships, tConsents,
	tAssessments, tNeeds, tReferrals, tReferralEvents, tAidRecords, tSignals}

// store writes rows inside one transaction.
type store interface {
	// write appends rows to a table.
	write(ctx context.Context, t *table, rows [][]any) error
	// queryInt runs a query returning one integer.
	queryInt(ctx context.Context, query string) (int64, error)
	// queryStrings runs a query returning one text column.
	queryStrings(ctx context.Context, query string) ([]string, error)
	// exec runs a statement.
	exec(ctx context.Context, query string) error
	// setSequence makes the next generated id of t follow its largest.
	setSequence(ctx context.Context, t *table) error
}

// ---- PostgreSQL: COPY ----

type pgStore struct{ tx pgx.Tx }

func (s pgStore) write(ctx context.Context, t *table, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	n, err := s.tx.CopyFrom(ctx, pgx.Identifier{t.name}, t.cols, pgx.CopyFromRows(rows))
	if err != nil {
		return fmt.Errorf("generate: copy into %s: %w", t.name, err)
	}
	if n != int64(len(rows)) {
		return fmt.Errorf("generate: copy into %s: %d of %d rows", t.name, n, len(rows))
	}
	return nil
}

func (s pgStore) queryInt(ctx context.Context, query string) (int64, error) {
	var n int64
	err := s.tx.QueryRow(ctx, query).Scan(&n)
	return n, err
}

func (s pgStore) queryStrings(ctx context.Context, query string) ([]string, error) {
	rows, err := s.tx.Query(ctx, query)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

func (s pgStore) exec(ctx context.Context, query string) error {
	_, err := s.tx.Exec(ctx, query)
	return err
}

func (s pgStore) setSequence(ctx context.Context, t *table) error {
	// setval(…, max + 1, false): the next id is max + 1, also for an
	// empty table.
	_, err := s.tx.Exec(ctx, fmt.Sprintf(
		"SELECT setval(pg_get_serial_sequence('%s', 'id'), COALESCE((SELECT MAX(id) FROM %s), 0) + 1, false)", t.name, t.name))
	if err != nil {
		return fmt.Errorf("generate: set the sequence of %s: %w", t.name, err)
	}
	return nil
}

// deferChecks drops the foreign keys, unique constraints and secondary
// indexes of the tables the generator writes, inside the transaction, and
// returns the statements that put them back exactly as they were (read
// from the catalog, so they follow the migrations). Checking and indexing
// millions of rows once at the end is several times faster than row by
// row during COPY; the database still checks every constraint before the
// commit, and on any error the rollback restores the schema. The tables
// are locked exclusively meanwhile: generate into a store nobody uses.
func (s pgStore) deferChecks(ctx context.Context, tables []*table) (restore []string, err error) {
	names := make([]string, len(tables))
	for i, t := range tables {
		names[i] = t.name
	}
	const ours = "(SELECT to_regclass(n) FROM unnest($1::text[]) AS n)"
	rows, err := s.tx.Query(ctx, `SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid), contype::text
		FROM pg_constraint WHERE contype IN ('f', 'u') AND conrelid IN `+ours+`
		ORDER BY contype = 'u' DESC, conrelid::regclass::text, conname`, names)
	if err != nil {
		return nil, fmt.Errorf("generate: read constraints: %w", err)
	}
	type constraint struct{ Table, Name, Def, Kind string }
	cons, err := pgx.CollectRows(rows, pgx.RowToStructByPos[constraint])
	if err != nil {
		return nil, fmt.Errorf("generate: read constraints: %w", err)
	}
	rows, err = s.tx.Query(ctx, `SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
		FROM pg_index AS i WHERE NOT i.indisprimary AND i.indrelid IN `+ours+`
		AND NOT EXISTS (SELECT 1 FROM pg_constraint AS c WHERE c.conindid = i.indexrelid)
		ORDER BY 1`, names)
	if err != nil {
		return nil, fmt.Errorf("generate: read indexes: %w", err)
	}
	type index struct{ Name, Def string }
	idx, err := pgx.CollectRows(rows, pgx.RowToStructByPos[index])
	if err != nil {
		return nil, fmt.Errorf("generate: read indexes: %w", err)
	}
	var drop []string
	// foreign keys go first and come back last; unique constraints and
	// indexes come back before them
	for i := len(cons) - 1; i >= 0; i-- {
		c := cons[i]
		drop = append(drop, fmt.Sprintf("ALTER TABLE %s DROP CONSTRAINT %s", c.Table, pgx.Identifier{c.Name}.Sanitize()))
	}
	for _, x := range idx {
		drop = append(drop, "DROP INDEX "+x.Name)
		restore = append(restore, x.Def)
	}
	for _, c := range cons {
		restore = append(restore, fmt.Sprintf("ALTER TABLE %s ADD CONSTRAINT %s %s", c.Table, pgx.Identifier{c.Name}.Sanitize(), c.Def))
	}
	// index builds and checks of millions of rows like memory
	if _, err := s.tx.Exec(ctx, "SET LOCAL maintenance_work_mem = '512MB'"); err != nil {
		return nil, fmt.Errorf("generate: %w", err)
	}
	for _, q := range drop {
		if _, err := s.tx.Exec(ctx, q); err != nil {
			return nil, fmt.Errorf("generate: %s: %w", q, err)
		}
	}
	return restore, nil
}

// ---- SQLite: multi-row INSERT ----

// sqliteBatch is the number of rows per INSERT statement.
const sqliteBatch = 250

type sqliteStore struct {
	tx      *sql.Tx
	dialect schema.Dialect
	buf     []byte
}

func (s *sqliteStore) write(ctx context.Context, t *table, rows [][]any) error {
	for len(rows) > 0 {
		n := min(len(rows), sqliteBatch)
		b := s.buf[:0]
		b = append(b, "INSERT INTO "...)
		b = append(b, t.name...)
		b = append(b, " ("...)
		b = append(b, strings.Join(t.cols, ", ")...)
		b = append(b, ") VALUES "...)
		for i, row := range rows[:n] {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = append(b, '(')
			for j, v := range row {
				if j > 0 {
					b = append(b, ", "...)
				}
				var err error
				if b, err = s.appendValue(b, v, t.dates[t.cols[j]]); err != nil {
					return fmt.Errorf("generate: insert into %s: column %s: %w", t.name, t.cols[j], err)
				}
			}
			b = append(b, ')')
		}
		s.buf = b
		if _, err := s.tx.ExecContext(ctx, string(b)); err != nil {
			return fmt.Errorf("generate: insert into %s: %w", t.name, err)
		}
		rows = rows[n:]
	}
	return nil
}

// appendValue writes a literal the way bun writes it for SQLite, so what
// the hub reads back is what it would have written itself.
func (s *sqliteStore) appendValue(b []byte, v any, date bool) ([]byte, error) {
	switch v := v.(type) {
	case nil:
		return append(b, "NULL"...), nil
	case int64:
		return strconv.AppendInt(b, v, 10), nil
	case int:
		return strconv.AppendInt(b, int64(v), 10), nil
	case string:
		return s.dialect.AppendString(b, v), nil
	case []byte:
		return s.dialect.AppendBytes(b, v), nil
	case bool:
		return s.dialect.AppendBool(b, v), nil
	case time.Time:
		if date {
			return s.dialect.AppendString(b, v.Format(aidhub.DateLayout)), nil
		}
		return s.dialect.AppendTime(b, v), nil
	}
	return b, fmt.Errorf("unexpected value of type %T", v)
}

func (s *sqliteStore) queryInt(ctx context.Context, query string) (int64, error) {
	var n int64
	err := s.tx.QueryRowContext(ctx, query).Scan(&n)
	return n, err
}

func (s *sqliteStore) queryStrings(ctx context.Context, query string) ([]string, error) {
	rows, err := s.tx.QueryContext(ctx, query)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

func (s *sqliteStore) exec(ctx context.Context, query string) error {
	_, err := s.tx.ExecContext(ctx, query)
	return err
}

func (s *sqliteStore) setSequence(ctx context.Context, t *table) error {
	// SQLite raises sqlite_sequence by itself when a row brings a larger
	// id; set it anyway so the hub's next id follows the generated ones
	// whatever happened before.
	max, err := s.queryInt(ctx, "SELECT COALESCE(MAX(id), 0) FROM "+t.name)
	if err != nil {
		return fmt.Errorf("generate: set the sequence of %s: %w", t.name, err)
	}
	res, err := s.tx.ExecContext(ctx, "UPDATE sqlite_sequence SET seq = MAX(seq, ?) WHERE name = ?", max, t.name)
	if err == nil {
		var n int64
		if n, err = res.RowsAffected(); err == nil && n == 0 && max > 0 {
			_, err = s.tx.ExecContext(ctx, "INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)", t.name, max)
		}
	}
	if err != nil {
		return fmt.Errorf("generate: set the sequence of %s: %w", t.name, err)
	}
	return nil
}
