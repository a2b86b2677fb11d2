// Package db opens the hub's database: SQLite in the data folder by default,
// PostgreSQL when a postgres:// URL is given. Both go through bun so that the
// stores above are written once.
package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/dialect/sqlitedialect"
	"github.com/uptrace/bun/driver/sqliteshim"
)

// Config selects and configures the database.
type Config struct {
	// URL is a postgres:// (or postgresql://) URL. Empty selects SQLite.
	URL string
	// DataDir holds the SQLite file when URL is empty.
	DataDir string
}

// Engine names.
const (
	SQLite   = "sqlite"
	Postgres = "pg"
)

// DB is the opened database.
type DB struct {
	*bun.DB
	Engine string
	// Where is a printable location without credentials.
	Where string
}

// IsPostgres reports whether the database is PostgreSQL.
func (d *DB) IsPostgres() bool { return d.Engine == Postgres }

// Open opens and pings the database. Errors are one-line and safe to print.
func Open(ctx context.Context, cfg Config) (*DB, error) {
	if cfg.URL != "" {
		return openPostgres(ctx, cfg.URL)
	}
	return openSQLite(ctx, cfg.DataDir)
}

func openPostgres(ctx context.Context, rawURL string) (*DB, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return nil, errors.New("database URL must look like postgres://user@host:5432/dbname")
	}
	cc, err := pgx.ParseConfig(rawURL)
	if err != nil {
		return nil, fmt.Errorf("database URL: %s", oneLine(err))
	}
	if cc.ConnectTimeout == 0 {
		cc.ConnectTimeout = 5 * time.Second
	}
	if _, set := cc.RuntimeParams["default_query_exec_mode"]; !set && !strings.Contains(rawURL, "default_query_exec_mode") {
		// bun writes its arguments into the SQL text, so nearly every
		// statement is new: preparing and caching each one doubles the
		// round trips and fills the cache for nothing.
		cc.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
	}
	sqldb := stdlib.OpenDB(*cc)
	// As many idle as open: with fewer, a burst above the idle count
	// closes connections as they come back and opens new ones for the next
	// burst, and each new connection is a new server process (under load
	// on the matches query every connection was replaced within seconds).
	// Idle ones still close after five minutes.
	sqldb.SetMaxOpenConns(20)
	sqldb.SetMaxIdleConns(20)
	sqldb.SetConnMaxIdleTime(5 * time.Minute)
	where := fmt.Sprintf("postgres://%s:%d/%s", cc.Host, cc.Port, cc.Database)
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := sqldb.PingContext(pingCtx); err != nil {
		sqldb.Close()
		return nil, fmt.Errorf("cannot reach PostgreSQL at %s: %s", where, oneLine(err))
	}
	return &DB{DB: bun.NewDB(sqldb, pgdialect.New()), Engine: Postgres, Where: where}, nil
}

func openSQLite(ctx context.Context, dir string) (*DB, error) {
	if dir == "" {
		dir = "data"
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("data folder %s: %s", dir, oneLine(err))
	}
	path := filepath.Join(dir, "aidhub.db")
	// WAL lets readers go on while one writer writes; immediate transactions
	// take the write lock up front, so two writers queue on busy_timeout
	// instead of failing with SQLITE_BUSY halfway through.
	dsn := "file:" + path + "?_pragma=foreign_keys(1)&_pragma=busy_timeout(30000)" +
		"&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_txlock=immediate"
	sqldb, err := sql.Open(sqliteshim.ShimName, dsn)
	if err != nil {
		return nil, fmt.Errorf("open SQLite %s: %s", path, oneLine(err))
	}
	sqldb.SetMaxOpenConns(8)
	if err := sqldb.PingContext(ctx); err != nil {
		sqldb.Close()
		return nil, fmt.Errorf("open SQLite %s: %s", path, oneLine(err))
	}
	return &DB{DB: bun.NewDB(sqldb, sqlitedialect.New()), Engine: SQLite, Where: path}, nil
}

func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}

// Tx runs fn in a transaction and commits when fn returns nil.
func (d *DB) Tx(ctx context.Context, fn func(ctx context.Context, tx bun.Tx) error) error {
	return d.DB.RunInTx(ctx, nil, fn)
}
