// Package migrations holds the SQL schema of both dialects, embedded, and runs
// it with bun's migrator under its lock. Both trees carry the same migration
// IDs; an applied migration is never edited, a change is a new file.
package migrations

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/uptrace/bun/migrate"

	"github.com/aidhub/aidhub/db"
	"github.com/aidhub/aidhub/jobs"
)

//go:embed pg/*.sql sqlite/*.sql
var files embed.FS

// FS returns the migration files of a dialect (db.Postgres or db.SQLite).
func FS(dialect string) (fs.FS, error) {
	dir := "sqlite"
	if dialect == db.Postgres {
		dir = "pg"
	}
	return fs.Sub(files, dir)
}

// Migrator runs the migrations of one database.
type Migrator struct {
	m  *migrate.Migrator
	db *db.DB
}

// New returns a migrator for d's dialect.
func New(d *db.DB) (*Migrator, error) {
	fsys, err := FS(d.Engine)
	if err != nil {
		return nil, err
	}
	ms := migrate.NewMigrations()
	if err := ms.Discover(fsys); err != nil {
		return nil, fmt.Errorf("migrations: discover: %w", err)
	}
	return &Migrator{m: migrate.NewMigrator(d.DB, ms, migrate.WithMarkAppliedOnSuccess(true)), db: d}, nil
}

// ErrLocked is returned when another process held the migration lock for the
// whole wait.
var ErrLocked = errors.New("migrations are locked by another process; if none is running, run `aidhub migrate unlock`")

// locked runs fn holding the migrator's lock. bun's lock does not wait, so
// this retries for a while: two replicas starting together both succeed.
func (mg *Migrator) locked(ctx context.Context, fn func() error) error {
	if err := mg.m.Init(ctx); err != nil {
		return fmt.Errorf("migrations: init: %w", err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		err := mg.m.Lock(ctx)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			return ErrLocked
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	defer mg.m.Unlock(context.WithoutCancel(ctx)) //nolint:errcheck // best effort; Unlock error is reported by the next Lock
	return fn()
}

// Up applies every pending migration, then River's (the job queue keeps
// its own tables and history), and returns the names of the hub's
// migrations it applied.
func (mg *Migrator) Up(ctx context.Context) ([]string, error) {
	var names []string
	err := mg.locked(ctx, func() error {
		group, err := mg.m.Migrate(ctx)
		if err != nil {
			return fmt.Errorf("migrations: up: %w", err)
		}
		for _, m := range group.Migrations {
			names = append(names, m.Name)
		}
		return jobs.Migrate(ctx, mg.db, nil)
	})
	return names, err
}

// Down rolls back the last applied group and returns the migrations undone.
func (mg *Migrator) Down(ctx context.Context) ([]string, error) {
	var names []string
	err := mg.locked(ctx, func() error {
		group, err := mg.m.Rollback(ctx)
		if err != nil {
			return fmt.Errorf("migrations: down: %w", err)
		}
		for _, m := range group.Migrations {
			names = append(names, m.Name)
		}
		return nil
	})
	return names, err
}

// Status describes one migration.
type Status struct {
	Name      string
	Comment   string
	Applied   bool
	AppliedAt time.Time
}

// Status lists every known migration with whether it is applied.
func (mg *Migrator) Status(ctx context.Context) ([]Status, error) {
	if err := mg.m.Init(ctx); err != nil {
		return nil, fmt.Errorf("migrations: init: %w", err)
	}
	ms, err := mg.m.MigrationsWithStatus(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrations: status: %w", err)
	}
	out := make([]Status, 0, len(ms))
	for _, m := range ms {
		out = append(out, Status{Name: m.Name, Comment: m.Comment, Applied: m.IsApplied(), AppliedAt: m.MigratedAt})
	}
	return out, nil
}

// Pending returns the names of migrations not applied yet.
func (mg *Migrator) Pending(ctx context.Context) ([]string, error) {
	st, err := mg.Status(ctx)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, s := range st {
		if !s.Applied {
			names = append(names, s.Name)
		}
	}
	return names, nil
}

// Unlock removes a lock left behind by a process that died mid-migration.
func (mg *Migrator) Unlock(ctx context.Context) error {
	if err := mg.m.Init(ctx); err != nil {
		return fmt.Errorf("migrations: init: %w", err)
	}
	return mg.m.Unlock(ctx)
}
