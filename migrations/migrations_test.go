package migrations_test

import (
	"context"
	"fmt"
	"io/fs"
	"regexp"
	"slices"
	"testing"

	"github.com/aidhub/aidhub/db"
	"github.com/aidhub/aidhub/db/dbtest"
	"github.com/aidhub/aidhub/migrations"
)

var fileName = regexp.MustCompile(`^(\d{14})_[a-z0-9_]+\.tx\.(up|down)\.sql$`)

func ids(t *testing.T, dialect string) []string {
	t.Helper()
	fsys, err := migrations.FS(dialect)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		m := fileName.FindStringSubmatch(e.Name())
		if m == nil {
			t.Errorf("%s/%s: name must be ID_name.tx.up.sql or .tx.down.sql", dialect, e.Name())
			continue
		}
		out = append(out, e.Name())
	}
	return out
}

func TestMigrations_SameIDsInBothTrees(t *testing.T) {
	pg, lite := ids(t, db.Postgres), ids(t, db.SQLite)
	if len(pg) == 0 {
		t.Fatal("no migrations")
	}
	if !slices.Equal(pg, lite) {
		t.Fatalf("migration files differ:\npg:     %v\nsqlite: %v", pg, lite)
	}
	for _, name := range pg {
		if m := fileName.FindStringSubmatch(name); m[2] == "up" {
			down := name[:len(name)-len("up.sql")] + "down.sql"
			if !slices.Contains(pg, down) {
				t.Errorf("%s has no down migration", name)
			}
		}
	}
}

func TestMigrations_UpDownUp(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		m, err := migrations.New(d)
		if err != nil {
			t.Fatal(err)
		}
		// dbtest already migrated up; everything must be applied.
		if pending, err := m.Pending(ctx); err != nil || len(pending) != 0 {
			t.Fatalf("pending after up: %v, %v", pending, err)
		}
		for {
			undone, err := m.Down(ctx)
			if err != nil {
				t.Fatalf("down: %v", err)
			}
			if len(undone) == 0 {
				break
			}
		}
		var n int
		if err := d.NewSelect().ColumnExpr("count(*)").TableExpr("bun_migrations").Scan(ctx, &n); err != nil || n != 0 {
			t.Fatalf("after down, %d migrations recorded (%v)", n, err)
		}
		if _, err := d.NewSelect().ColumnExpr("count(*)").TableExpr("resources").Exec(ctx); err == nil {
			t.Fatal("resources table still exists after down")
		}
		applied, err := m.Up(ctx)
		if err != nil || len(applied) == 0 {
			t.Fatalf("up again: %v, %v", applied, err)
		}
		again, err := m.Up(ctx)
		if err != nil || len(again) != 0 {
			t.Fatalf("second up must be a no-op: %v, %v", again, err)
		}
	})
}

// The EXPIRED migration rebuilds the resources table on SQLite: every row,
// link and reference survives it both ways, and IDs are never reused.
func TestMigrations_ResourceExpired_KeepsRows(t *testing.T) {
	const name = "20261128000004" // bun names a migration by its ID
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		exec := func(query string, args ...any) {
			t.Helper()
			if _, err := d.ExecContext(ctx, query, args...); err != nil {
				t.Fatalf("%s: %v", query, err)
			}
		}
		count := func(query string) int {
			t.Helper()
			var n int
			if err := d.NewRaw(query).Scan(ctx, &n); err != nil {
				t.Fatalf("%s: %v", query, err)
			}
			return n
		}
		const at = "2026-11-28 04:00:00+00"
		exec(`INSERT INTO service_categories (code, name_zh, name_en, duplicate_window_days, sort) VALUES ('BASIC', '基本生活', 'Basic living', 30, 1)`)
		exec(`INSERT INTO service_items (code, category_code, name_zh, name_en, unit, household_level, sort) VALUES ('MEALS', 'BASIC', '助餐', 'Meals', '', false, 1)`)
		exec(`INSERT INTO population_groups (code, name_zh, name_en, description, tier, sort) VALUES ('DIBAO', '低保', 'Minimum living allowance', '', 1, 1)`)
		exec(`INSERT INTO organizations (name, kind, division_code, created_at, updated_at) VALUES ('慈善会', 'CHARITY', '500103', ?, ?)`, at, at)
		for i, status := range []string{"PUBLISHED", "PAUSED", "DRAFT"} {
			exec(`INSERT INTO resources (organization_id, title, status, valid_until, version, created_at, updated_at) VALUES (1, ?, ?, '2026-12-31', 1, ?, ?)`,
				fmt.Sprintf("资源 %d", i+1), status, at, at)
			exec(`INSERT INTO resource_items (resource_id, item_code) VALUES (?, 'MEALS')`, i+1)
			exec(`INSERT INTO resource_groups (resource_id, group_code) VALUES (?, 'DIBAO')`, i+1)
			exec(`INSERT INTO resource_coverage (resource_id, division_prefix) VALUES (?, '500103')`, i+1)
		}
		exec(`DELETE FROM resources WHERE id = 3`) // the highest ID is gone, never to be reused
		exec(`INSERT INTO households (region_code, created_at, updated_at) VALUES ('500103001003', ?, ?)`, at, at)
		exec(`INSERT INTO assessments (household_id, assessed_on, assessor_role, created_at) VALUES (1, '2026-11-28', 'ADMIN', ?)`, at)
		exec(`INSERT INTO needs (assessment_id, household_id, category_code, severity, opened_on, status) VALUES (1, 1, 'BASIC', 3, '2026-11-28', 'OPEN')`)
		exec(`INSERT INTO need_matches (need_id, resource_id, score, swept_at) VALUES (1, 1, 0.5, ?)`, at)
		exec(`INSERT INTO referrals (household_id, resource_id, organization_id, category_code, period_start, period_end, status, respond_by, created_at, updated_at)
			VALUES (1, 2, 1, 'BASIC', '2026-11-28', '2026-12-28', 'PENDING', ?, ?, ?)`, at, at, at)
		intact := func(t *testing.T) {
			t.Helper()
			for table, want := range map[string]int{"resources": 2, "resource_items": 2, "resource_groups": 2, "resource_coverage": 2, "need_matches": 1, "referrals": 1} {
				if got := count("SELECT count(*) FROM " + table); got != want {
					t.Errorf("%s has %d rows, want %d", table, got, want)
				}
			}
			if d.IsPostgres() {
				return
			}
			if n := count("SELECT count(*) FROM pragma_foreign_key_check"); n != 0 {
				t.Errorf("%d broken foreign keys", n)
			}
			if n := count("SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name IN ('resources_organization', 'resources_status')"); n != 2 {
				t.Errorf("%d of the 2 resource indexes", n)
			}
		}
		// The migration alone, as its own group, so Down undoes only it.
		exec(`UPDATE bun_migrations SET group_id = group_id + 1 WHERE name = ?`, name)
		m, err := migrations.New(d)
		if err != nil {
			t.Fatal(err)
		}
		exec(`UPDATE resources SET status = 'EXPIRED' WHERE id = 2`)
		if undone, err := m.Down(ctx); err != nil || !slices.Equal(undone, []string{name}) {
			t.Fatalf("down: %v, %v", undone, err)
		}
		intact(t)
		if got := count("SELECT count(*) FROM resources WHERE id = 2 AND status = 'PAUSED'"); got != 1 {
			t.Errorf("an EXPIRED resource is not PAUSED after down")
		}
		if _, err := d.ExecContext(ctx, `UPDATE resources SET status = 'EXPIRED' WHERE id = 1`); err == nil {
			t.Error("EXPIRED is accepted after down")
		}
		if applied, err := m.Up(ctx); err != nil || !slices.Equal(applied, []string{name}) {
			t.Fatalf("up: %v, %v", applied, err)
		}
		intact(t)
		exec(`UPDATE resources SET status = 'EXPIRED' WHERE id = 1`)
		exec(`INSERT INTO resources (organization_id, title, status, version, created_at, updated_at) VALUES (1, '新资源', 'DRAFT', 1, ?, ?)`, at, at)
		if got := count("SELECT max(id) FROM resources"); got != 4 {
			t.Errorf("a new resource got ID %d, want 4 (3 was used before)", got)
		}
	})
}
