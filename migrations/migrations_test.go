package migrations_test

import (
	"context"
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
