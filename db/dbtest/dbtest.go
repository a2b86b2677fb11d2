// Package dbtest runs one test body against every database dialect: SQLite in
// a temporary folder and PostgreSQL in a fresh schema of its own, both fully
// migrated. PostgreSQL comes from AIDHUB_TEST_DATABASE_URL (default
// postgres://postgres@127.0.0.1:5432/aidhub_test); the database is created
// when missing. With CI=true an unreachable PostgreSQL fails the test;
// elsewhere it is skipped with a note on how to start it.
package dbtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/aidhub/aidhub/db"
	"github.com/aidhub/aidhub/migrations"
)

// DefaultURL is the PostgreSQL the tests use unless told otherwise.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/aidhub_test?sslmode=disable"

// PostgresURL returns the URL of the test database.
func PostgresURL() string {
	if u := os.Getenv("AIDHUB_TEST_DATABASE_URL"); u != "" {
		return u
	}
	return DefaultURL
}

var ensureOnce = sync.OnceValue(func() error { return ensureDatabase(context.Background(), PostgresURL()) })

// ensureDatabase creates the test database through the server's postgres
// database when it does not exist yet. Parallel test binaries may race here;
// "already exists" is success.
func ensureDatabase(ctx context.Context, rawURL string) error {
	conn, err := pgx.Connect(ctx, rawURL)
	if err == nil {
		return conn.Close(ctx)
	}
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "3D000" { // invalid_catalog_name
		return err
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return err
	}
	name := u.Path[1:]
	u.Path = "/postgres"
	admin, err := pgx.Connect(ctx, u.String())
	if err != nil {
		return err
	}
	defer admin.Close(ctx)
	_, err = admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	if errors.As(err, &pgErr) && (pgErr.Code == "42P04" || pgErr.Code == "23505") { // duplicate_database, unique race
		return nil
	}
	return err
}

// Each runs body once per dialect as subtests named "sqlite" and "pg".
func Each(t *testing.T, body func(t *testing.T, d *db.DB)) {
	t.Helper()
	t.Run(db.SQLite, func(t *testing.T) { body(t, SQLite(t)) })
	t.Run(db.Postgres, func(t *testing.T) { body(t, Postgres(t)) })
}

// SQLite returns a migrated SQLite database in a temporary folder.
func SQLite(t testing.TB) *db.DB {
	t.Helper()
	d, err := db.Open(context.Background(), db.Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	t.Cleanup(func() { d.Close() })
	migrate(t, d)
	return d
}

// Postgres returns a migrated PostgreSQL database in a schema of its own,
// dropped when the test ends.
func Postgres(t testing.TB) *db.DB {
	t.Helper()
	d := PostgresEmpty(t)
	migrate(t, d)
	return d
}

// PostgresEmpty is Postgres without migrations.
func PostgresEmpty(t testing.TB) *db.DB {
	t.Helper()
	if err := ensureOnce(); err != nil {
		Unavailable(t, "PostgreSQL", fmt.Sprintf("%v (start it with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start, or set AIDHUB_TEST_DATABASE_URL)", err))
	}
	ctx := context.Background()
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "t_" + hex.EncodeToString(b[:])
	admin, err := pgx.Connect(ctx, PostgresURL())
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	u, _ := url.Parse(PostgresURL())
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	d, err := db.Open(ctx, db.Config{URL: u.String()})
	if err != nil {
		t.Fatalf("open pg: %v", err)
	}
	t.Cleanup(func() {
		d.Close()
		c, err := pgx.Connect(context.Background(), PostgresURL())
		if err == nil {
			_, _ = c.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
			c.Close(context.Background())
		}
	})
	return d
}

// Unavailable skips (or, under CI=true, fails) a test that needs a service
// that cannot be reached.
func Unavailable(t testing.TB, service, why string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is required in CI but unavailable: %s", service, why)
	}
	t.Skipf("%s unavailable, skipping: %s", service, why)
}

func migrate(t testing.TB, d *db.DB) {
	t.Helper()
	m, err := migrations.New(d)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Up(context.Background()); err != nil {
		t.Fatalf("migrate %s: %v", d.Engine, err)
	}
}
