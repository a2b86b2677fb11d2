package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"

	"github.com/jackc/pgx/v5"

	"github.com/aidhub/aidhub/auth"
	"github.com/aidhub/aidhub/db"
	"github.com/aidhub/aidhub/db/dbtest"
	"github.com/aidhub/aidhub/migrations"
	"github.com/aidhub/aidhub/regions"
)

// TestMain runs the tests in an empty working folder, so a command that
// wrongly falls back to its default ./data never writes into the source tree.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "aidhub-cmd-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := os.Chdir(dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	if _, err := os.Stat("data"); err == nil && code == 0 {
		fmt.Fprintln(os.Stderr, "a test wrote into the default ./data folder")
		code = 1
	}
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// lockedBuffer is an io.Writer that the serving goroutines and the test may
// share.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// env is the whole environment the app sees: nothing leaks in from the
// test process (an AIDHUB_DATABASE_URL of the developer's, say).
type env map[string]string

func (e env) get(k string) string { return e[k] }

type result struct {
	code           int
	stdout, stderr string
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
}

// run runs the command line in-process and waits for it.
func run(t *testing.T, e env, args ...string) result {
	t.Helper()
	var stdout, stderr lockedBuffer
	a := &app{stdout: &stdout, stderr: &stderr, getenv: e.get}
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	code := a.run(ctx, args)
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// mustRun runs a command that has to succeed.
func mustRun(t *testing.T, e env, args ...string) result {
	t.Helper()
	r := run(t, e, args...)
	if r.code != 0 {
		t.Fatalf("aidhub %s: %s", strings.Join(args, " "), r)
	}
	return r
}

// oneErrorLine checks that stderr is exactly one "aidhub: …" line and
// returns it.
func oneErrorLine(t *testing.T, r result) string {
	t.Helper()
	if r.stderr == "" {
		t.Fatal("stderr is empty: the failure is not reported")
	}
	lines := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n")
	if len(lines) != 1 || !strings.HasSuffix(r.stderr, "\n") {
		t.Fatalf("want exactly one line on stderr, got %d:\n%s", len(lines), r.stderr)
	}
	line := lines[0]
	if !strings.HasPrefix(line, "aidhub: ") {
		t.Errorf("stderr line does not start with %q: %q", "aidhub: ", line)
	}
	for _, bad := range []string{"goroutine ", "panic", ".go:", "Usage:", "[--data DIR]"} {
		if strings.Contains(line, bad) {
			t.Errorf("stderr line looks like a stack trace or usage dump (%q): %q", bad, line)
		}
	}
	return line
}

func TestBadConfiguration(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	// Cleanup, not defer: the parallel subtests run after this function
	// returns.
	t.Cleanup(func() { busy.Close() })
	const unreachable = "postgres://postgres@127.0.0.1:1/nope?sslmode=disable&connect_timeout=2"

	cases := []struct {
		name string
		env  env
		args []string
		code int
		want []string // substrings of the one stderr line (case-insensitive)
	}{
		{name: "unknown flag", args: []string{"serve", "--bogus"}, code: 2, want: []string{"bogus"}},
		{name: "unknown command", args: []string{"frobnicate"}, code: 2, want: []string{"frobnicate"}},
		{name: "unknown migrate action", args: []string{"migrate", "sideways"}, code: 2, want: []string{"sideways"}},
		{name: "migrate without action", args: []string{"migrate"}, code: 2, want: []string{"up"}},
		{name: "unexpected serve argument", args: []string{"serve", "now"}, code: 2, want: []string{"now"}},
		{name: "bad DSN migrate", env: env{"AIDHUB_DATABASE_URL": "mysql://x"}, args: []string{"migrate", "status"}, code: 1, want: []string{"postgres://"}},
		{name: "bad DSN serve", env: env{"AIDHUB_DATABASE_URL": "mysql://x"}, args: []string{"serve", "--addr", "127.0.0.1:0"}, code: 1, want: []string{"postgres://"}},
		{name: "bad DSN token", env: env{"AIDHUB_DATABASE_URL": "mysql://x"}, args: []string{"token", "create", "--role", "ADMIN"}, code: 1, want: []string{"postgres://"}},
		{name: "unreachable PostgreSQL migrate", env: env{"AIDHUB_DATABASE_URL": unreachable}, args: []string{"migrate", "up"}, code: 1, want: []string{"PostgreSQL"}},
		{name: "unreachable PostgreSQL serve", env: env{"AIDHUB_DATABASE_URL": unreachable}, args: []string{"serve", "--addr", "127.0.0.1:0"}, code: 1, want: []string{"PostgreSQL"}},
		{name: "unreachable PostgreSQL seed", env: env{"AIDHUB_DATABASE_URL": unreachable}, args: []string{"seed", "demo"}, code: 1, want: []string{"PostgreSQL"}},
		{name: "port in use", args: []string{"serve", "--addr", busy.Addr().String(), "--data", "DATA"}, code: 1, want: []string{"already in use", busy.Addr().String()}},
		{name: "unknown role", args: []string{"token", "create", "--role", "KING", "--data", "DATA"}, code: 2, want: []string{"KING", "--role"}},
		{name: "no role", args: []string{"token", "create", "--data", "DATA"}, code: 2, want: []string{"--role"}},
		{name: "token without create", args: []string{"token", "mint"}, code: 2, want: []string{"token create"}},
		{name: "CHARITY without org", args: []string{"token", "create", "--role", "CHARITY", "--data", "DATA"}, code: 1, want: []string{"CHARITY", "--org"}},
		{name: "CHARITY with unknown org", args: []string{"token", "create", "--role", "CHARITY", "--org", "999", "--data", "DATA"}, code: 1, want: []string{"999"}},
		{name: "org not an ID", args: []string{"token", "create", "--role", "CHARITY", "--org", "acme", "--data", "DATA"}, code: 2, want: []string{"acme"}},
		{name: "unknown region", args: []string{"token", "create", "--role", "CASE_MANAGER", "--region", "999999", "--data", "DATA"}, code: 1, want: []string{"999999"}},
		{name: "CASE_MANAGER without region", args: []string{"token", "create", "--role", "CASE_MANAGER", "--data", "DATA"}, code: 1, want: []string{"--region"}},
		{name: "DATA_FEED without source", args: []string{"token", "create", "--role", "DATA_FEED", "--data", "DATA"}, code: 1, want: []string{"DATA_FEED", "--source"}},
		{name: "source on an ADMIN token", args: []string{"token", "create", "--role", "ADMIN", "--source", "HRSS", "--data", "DATA"}, code: 1, want: []string{"DATA_FEED", "source"}},
		{name: "source of a bad form", args: []string{"token", "create", "--role", "DATA_FEED", "--source", "medical insurance", "--data", "DATA"}, code: 2, want: []string{"--source", "A-Z"}},
		{name: "stray migrate argument", args: []string{"migrate", "up", "stray", "--data", "DATA"}, code: 2, want: []string{"stray"}},
		{name: "stray seed argument", args: []string{"seed", "demo", "stray", "--data", "DATA"}, code: 2, want: []string{"stray"}},
		{name: "stray token argument", args: []string{"token", "create", "--role", "ADMIN", "stray", "--data", "DATA"}, code: 2, want: []string{"stray"}},
		{name: "seed without demo", args: []string{"seed", "everything"}, code: 2, want: []string{"seed demo"}},
		{name: "AIDHUB_ENV staging", env: env{"AIDHUB_ENV": "staging"}, args: []string{"serve", "--addr", "127.0.0.1:0", "--data", "DATA"}, code: 2, want: []string{"AIDHUB_ENV", "staging"}},
		{name: "production without AIDHUB_SECRET", env: env{"AIDHUB_ENV": "production"}, args: []string{"serve", "--addr", "127.0.0.1:0", "--data", "DATA"}, code: 2, want: []string{"AIDHUB_SECRET", "production", "secret.key"}},
		{name: "--today in production", env: env{"AIDHUB_ENV": "production"}, args: []string{"serve", "--today", "2026-12-01", "--addr", "127.0.0.1:0", "--data", "DATA"}, code: 2, want: []string{"--today", "development", "production"}},
		{name: "AIDHUB_TODAY in production", env: env{"AIDHUB_ENV": "production", "AIDHUB_TODAY": "2026-12-01"}, args: []string{"serve", "--addr", "127.0.0.1:0", "--data", "DATA"}, code: 2, want: []string{"AIDHUB_TODAY", "development", "production"}},
		{name: "--today not a date", args: []string{"serve", "--today", "2026-02-30", "--addr", "127.0.0.1:0", "--data", "DATA"}, code: 2, want: []string{"--today", "2026-02-30", "YYYY-MM-DD"}},
		{name: "--today out of range", args: []string{"serve", "--today", "1999-12-31", "--addr", "127.0.0.1:0", "--data", "DATA"}, code: 2, want: []string{"--today", "2000 to 2100"}},
		{name: "AIDHUB_TODAY not a date", env: env{"AIDHUB_TODAY": "tomorrow"}, args: []string{"serve", "--addr", "127.0.0.1:0", "--data", "DATA"}, code: 2, want: []string{"AIDHUB_TODAY", "tomorrow", "YYYY-MM-DD"}},
		{name: "bad --today beside a good AIDHUB_TODAY", env: env{"AIDHUB_TODAY": "2026-12-01"}, args: []string{"serve", "--today", "12/01", "--addr", "127.0.0.1:0", "--data", "DATA"}, code: 2, want: []string{"--today", "12/01"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			args := make([]string, len(tc.args))
			for i, a := range tc.args {
				if a == "DATA" {
					a = dir
				}
				args[i] = a
			}
			e := tc.env
			if e == nil {
				e = env{}
			}
			if _, ok := e["AIDHUB_DATABASE_URL"]; ok && !contains(args, "--data") {
				// A PostgreSQL hub still keeps its Bleve index in the data
				// folder: never let it default to ./data in the source tree.
				args = append(args, "--data", dir)
			}
			r := run(t, e, args...)
			if r.code != tc.code {
				t.Errorf("exit %d, want %d\n%s", r.code, tc.code, r)
			}
			if r.stdout != "" {
				t.Errorf("stdout should be empty on failure, got %q", r.stdout)
			}
			line := oneErrorLine(t, r)
			for _, w := range tc.want {
				if !strings.Contains(strings.ToLower(line), strings.ToLower(w)) {
					t.Errorf("stderr line %q does not mention %q", line, w)
				}
			}
		})
	}
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func TestNoCommandIsAUsageError(t *testing.T) {
	r := run(t, env{})
	if r.code != 2 {
		t.Fatalf("exit %d, want 2\n%s", r.code, r)
	}
	if !strings.HasSuffix(r.stderr, "aidhub: no command given\n") {
		t.Errorf("stderr should end with the one error line:\n%s", r.stderr)
	}
}

func TestHelp(t *testing.T) {
	// Each command's help shows its own usage line (cli_test.go checks the
	// flags); the overall help lists every command.
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"help"}, "aidhub serve"},
		{[]string{"--help"}, "aidhub serve"},
		{[]string{"serve", "-h"}, "aidhub serve"},
		{[]string{"migrate", "up", "--help"}, "aidhub migrate up"},
		{[]string{"token", "create", "-h"}, "aidhub token create"},
		{[]string{"help", "token", "create"}, "aidhub token create"},
	} {
		r := run(t, env{}, tc.args...)
		if r.code != 0 || !strings.Contains(r.stdout, tc.want) || r.stderr != "" {
			t.Errorf("aidhub %s: %s", strings.Join(tc.args, " "), r)
		}
	}
}

// onlyToken checks that stdout is one line holding a token and returns it.
func onlyToken(t *testing.T, r result) string {
	t.Helper()
	if r.stderr != "" {
		t.Errorf("token create wrote to stderr:\n%s", r.stderr)
	}
	tok, ok := strings.CutSuffix(r.stdout, "\n")
	if !ok || strings.ContainsAny(tok, "\n \t") || !strings.HasPrefix(tok, auth.TokenPrefix) || len(tok) <= len(auth.TokenPrefix) {
		t.Fatalf("stdout should be only the token on one line, got %q", r.stdout)
	}
	return tok
}

func authenticate(t *testing.T, dir, token string) auth.Principal {
	t.Helper()
	ctx := context.Background()
	d, err := db.Open(ctx, db.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	p, err := auth.NewTokens(d, regions.Chongqing(), time.Now).Authenticate(ctx, token)
	if err != nil {
		t.Fatalf("authenticate %s: %v", token, err)
	}
	return p
}

func TestTokenCreate(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	e := env{}

	admin := onlyToken(t, mustRun(t, e, "token", "create", "--role", "ADMIN", "--label", "test admin", "--data", dir))
	if p := authenticate(t, dir, admin); p.Role != auth.Admin || p.OrganizationID != 0 || p.TokenID == 0 {
		t.Errorf("ADMIN token authenticates as %+v", p)
	}

	mgr := onlyToken(t, mustRun(t, e, "token", "create", "--role", "CASE_MANAGER", "--region", "500103", "--data", dir))
	if p := authenticate(t, dir, mgr); p.Role != auth.CaseManager || p.RegionPrefix != "500103" {
		t.Errorf("CASE_MANAGER token authenticates as %+v", p)
	}

	feed := onlyToken(t, mustRun(t, e, "token", "create", "--role", "DATA_FEED", "--source", "MEDICAL_INSURANCE", "--data", dir))
	if p := authenticate(t, dir, feed); p.Role != auth.DataFeed || p.Source != "MEDICAL_INSURANCE" {
		t.Errorf("DATA_FEED token authenticates as %+v", p)
	}

	r := mustRun(t, e, "seed", "demo", "--data", dir)
	if !strings.HasPrefix(r.stdout, "loaded ") {
		t.Fatalf("seed demo: %s", r)
	}
	globalID := base64.RawURLEncoding.EncodeToString([]byte("Organization:1"))
	for _, org := range []string{"1", globalID} {
		tok := onlyToken(t, mustRun(t, e, "token", "create", "--role", "CHARITY", "--org", org, "--data", dir))
		if p := authenticate(t, dir, tok); p.Role != auth.Charity || p.OrganizationID != 1 {
			t.Errorf("CHARITY --org %s token authenticates as %+v", org, p)
		}
	}

	// Each token is new.
	if again := onlyToken(t, mustRun(t, e, "token", "create", "--role", "ADMIN", "--data", dir)); again == admin {
		t.Error("two token create runs printed the same token")
	}
}

func TestSeedDemoOnce(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	first := mustRun(t, env{}, "seed", "demo", "--data", dir)
	if !strings.HasPrefix(first.stdout, "loaded ") || !strings.Contains(first.stdout, "organizations") {
		t.Fatalf("first seed: %s", first)
	}
	if strings.Contains(first.stdout, "loaded 0 ") {
		t.Errorf("first seed loaded nothing: %q", first.stdout)
	}
	second := mustRun(t, env{}, "seed", "demo", "--data", dir)
	if !strings.Contains(second.stdout, "not loaded") {
		t.Errorf("second seed should say the demo data was not loaded again: %s", second)
	}
	if first.stderr != "" || second.stderr != "" {
		t.Errorf("seed wrote to stderr:\n%s%s", first.stderr, second.stderr)
	}
}

func TestMigrate(t *testing.T) {
	t.Run(db.SQLite, func(t *testing.T) {
		t.Parallel()
		migrateRoundTrip(t, db.SQLite, env{}, t.TempDir())
	})
	t.Run(db.Postgres, func(t *testing.T) {
		t.Parallel()
		migrateRoundTrip(t, db.Postgres, env{"AIDHUB_DATABASE_URL": postgresSchemaURL(t)}, t.TempDir())
	})
}

// postgresSchemaURL creates a schema of the test's own and returns a URL
// whose search_path points at it; the schema is dropped when the test ends.
func postgresSchemaURL(t *testing.T) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	admin, err := pgx.Connect(ctx, dbtest.PostgresURL())
	if err != nil {
		// dbtest creates a missing test database, and skips (fails under
		// CI=true) when PostgreSQL is not there at all.
		_ = dbtest.PostgresEmpty(t)
		if admin, err = pgx.Connect(ctx, dbtest.PostgresURL()); err != nil {
			dbtest.Unavailable(t, "PostgreSQL", err.Error())
		}
	}
	defer admin.Close(ctx)
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "cli_" + hex.EncodeToString(b[:])
	if _, err := admin.Exec(ctx, "CREATE SCHEMA "+pgx.Identifier{schema}.Sanitize()); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, dbtest.PostgresURL())
		if err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP SCHEMA "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(dbtest.PostgresURL())
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// migrationIDs lists the IDs of the engine's migrations from their files.
func migrationIDs(t *testing.T, engine string) []string {
	t.Helper()
	fsys, err := migrations.FS(engine)
	if err != nil {
		t.Fatal(err)
	}
	ups, err := fs.Glob(fsys, "*.up.sql")
	if err != nil || len(ups) == 0 {
		t.Fatalf("no migrations for %s: %v", engine, err)
	}
	ids := make([]string, len(ups))
	for i, f := range ups {
		ids[i], _, _ = strings.Cut(f, "_")
	}
	return ids
}

// status runs `migrate status` and returns each migration's state word
// ("applied" or "pending") by line.
func status(t *testing.T, e env, dir string, ids []string) []string {
	t.Helper()
	r := mustRun(t, e, "migrate", "status", "--data", dir)
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	if len(lines) != len(ids) {
		t.Fatalf("migrate status lists %d lines, want one per migration (%d):\n%s", len(lines), len(ids), r.stdout)
	}
	states := make([]string, len(lines))
	for i, l := range lines {
		name, state, ok := strings.Cut(l, "\t")
		if !ok || !strings.HasPrefix(name, ids[i]) {
			t.Fatalf("status line %q: want migration %s, a tab, its state", l, ids[i])
		}
		word, at, _ := strings.Cut(state, " ")
		if word == "applied" {
			if _, err := time.Parse(time.RFC3339, at); err != nil {
				t.Errorf("status line %q: applied time: %v", l, err)
			}
		}
		states[i] = word
	}
	return states
}

func allAre(states []string, want string) bool {
	for _, s := range states {
		if s != want {
			return false
		}
	}
	return true
}

func migrateRoundTrip(t *testing.T, engine string, e env, dir string) {
	ids := migrationIDs(t, engine)

	if st := status(t, e, dir, ids); !allAre(st, "pending") {
		t.Errorf("fresh database: status %v, want all pending", st)
	}
	up := mustRun(t, e, "migrate", "up", "--data", dir)
	for _, id := range ids {
		if !strings.Contains(up.stdout, "applied "+id) {
			t.Errorf("migrate up does not report applying %s:\n%s", id, up.stdout)
		}
	}
	if st := status(t, e, dir, ids); !allAre(st, "applied") {
		t.Errorf("after up: status %v, want all applied", st)
	}
	if again := mustRun(t, e, "migrate", "up", "--data", dir); again.stdout != "nothing applied\n" {
		t.Errorf("second migrate up: %q, want %q", again.stdout, "nothing applied\n")
	}

	down := mustRun(t, e, "migrate", "down", "--data", dir)
	for _, id := range ids {
		if !strings.Contains(down.stdout, "rolled back "+id) {
			t.Errorf("migrate down does not report rolling back %s:\n%s", id, down.stdout)
		}
	}
	if st := status(t, e, dir, ids); !allAre(st, "pending") {
		t.Errorf("after down: status %v, want all pending", st)
	}

	up = mustRun(t, e, "migrate", "up", "--data", dir)
	if !strings.Contains(up.stdout, "applied "+ids[0]) {
		t.Errorf("migrate up after down:\n%s", up.stdout)
	}
	if st := status(t, e, dir, ids); !allAre(st, "applied") {
		t.Errorf("after up again: status %v, want all applied", st)
	}
	if r := mustRun(t, e, "migrate", "unlock", "--data", dir); r.stdout != "migration lock released\n" {
		t.Errorf("migrate unlock: %q", r.stdout)
	}
	// The re-migrated database works: it takes a token.
	onlyToken(t, mustRun(t, e, "token", "create", "--role", "ADMIN", "--data", dir))
}

// serveProc is one `aidhub serve` running in a goroutine.
type serveProc struct {
	t              *testing.T
	addr           string
	stdout, stderr *lockedBuffer
	cancel         context.CancelFunc
	done           chan int
	requestIDs     []string // X-Request-ID of every response received
}

func startServe(t *testing.T, e env, args ...string) *serveProc {
	t.Helper()
	s := &serveProc{t: t, stdout: &lockedBuffer{}, stderr: &lockedBuffer{}, done: make(chan int, 1)}
	addrc := make(chan string, 1)
	a := &app{stdout: s.stdout, stderr: s.stderr, getenv: e.get, ready: func(addr string) { addrc <- addr }}
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	go func() { s.done <- a.run(ctx, append([]string{"serve"}, args...)) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-s.done:
		case <-time.After(20 * time.Second):
			t.Error("serve did not stop")
		}
	})
	select {
	case s.addr = <-addrc:
	case code := <-s.done:
		s.done <- code
		t.Fatalf("serve ended before listening: exit %d\nstdout:\n%s\nstderr:\n%s", code, s.stdout, s.stderr)
	case <-time.After(30 * time.Second):
		t.Fatalf("serve did not listen within 30 s\nstderr:\n%s", s.stderr)
	}
	// Healthy within 30 s.
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := s.do(http.MethodGet, "/healthz", "")
		if err == nil && resp.status == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/healthz not 200 within 30 s: %v %+v", err, resp)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return s
}

type response struct {
	status int
	header http.Header
	body   []byte
}

var client = &http.Client{Timeout: 20 * time.Second}

// do sends a request; hdr is name, value pairs.
func (s *serveProc) do(method, path, body string, hdr ...string) (response, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, "http://"+s.addr+path, rd)
	if err != nil {
		return response{}, err
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/graphql-response+json, application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := client.Do(req)
	if err != nil {
		return response{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	s.requestIDs = append(s.requestIDs, resp.Header.Get("X-Request-ID"))
	return response{status: resp.StatusCode, header: resp.Header, body: b}, err
}

func (s *serveProc) get(path string) response {
	s.t.Helper()
	r, err := s.do(http.MethodGet, path, "")
	if err != nil {
		s.t.Fatalf("GET %s: %v", path, err)
	}
	return r
}

type gqlResponse struct {
	Data   json.RawMessage `json:"data"`
	Errors []struct {
		Message    string         `json:"message"`
		Extensions map[string]any `json:"extensions"`
	} `json:"errors"`
}

func (s *serveProc) graphql(query string, hdr ...string) (int, gqlResponse) {
	s.t.Helper()
	body, _ := json.Marshal(map[string]string{"query": query})
	r, err := s.do(http.MethodPost, "/graphql", string(body), hdr...)
	if err != nil {
		s.t.Fatalf("POST /graphql: %v", err)
	}
	var g gqlResponse
	if err := json.Unmarshal(r.body, &g); err != nil {
		s.t.Fatalf("POST /graphql: %d %s: %v", r.status, r.body, err)
	}
	return r.status, g
}

// stop cancels serve's context and returns its exit code.
func (s *serveProc) stop() int {
	s.t.Helper()
	s.cancel()
	select {
	case code := <-s.done:
		s.done <- code // for the cleanup
		return code
	case <-time.After(20 * time.Second):
		s.t.Fatalf("serve did not return within 20 s of cancel\nstderr:\n%s", s.stderr)
		return -1
	}
}

// checkLogs checks that stderr is JSON lines with a level, and that every
// response received has its one "request" line.
func (s *serveProc) checkLogs() {
	t := s.t
	t.Helper()
	logged := map[string]int{}
	requests := 0
	for i, line := range strings.Split(strings.TrimSuffix(s.stderr.String(), "\n"), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Errorf("stderr line %d is not JSON: %q", i+1, line)
			continue
		}
		if _, ok := m["level"].(string); !ok {
			t.Errorf("stderr line %d has no level: %q", i+1, line)
		}
		if m["message"] != "request" {
			continue
		}
		requests++
		id, _ := m["request_id"].(string)
		if id == "" {
			t.Errorf("request line without request_id: %q", line)
		}
		logged[id]++
		if _, ok := m["status"].(float64); !ok {
			t.Errorf("request line without a numeric status: %q", line)
		}
		if d, ok := m["duration_ms"].(float64); !ok || d < 0 {
			t.Errorf("request line without a duration_ms: %q", line)
		}
		for _, secret := range []string{"Authorization", "Bearer", "aht_", "resources(", "__schema"} {
			if strings.Contains(line, secret) {
				t.Errorf("request line carries %q: %q", secret, line)
			}
		}
	}
	if requests != len(s.requestIDs) {
		t.Errorf("%d request lines for %d requests\n%s", requests, len(s.requestIDs), s.stderr)
	}
	for _, id := range s.requestIDs {
		if logged[id] != 1 {
			t.Errorf("request %q has %d log lines, want 1", id, logged[id])
		}
	}
}

func hasHan(s string) bool {
	for _, r := range s {
		if unicode.Is(unicode.Han, r) {
			return true
		}
	}
	return false
}

func TestServeDemo(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := startServe(t, env{}, "--demo", "--data", dir, "--addr", "127.0.0.1:0")

	out := s.stdout.String()
	if !strings.Contains(out, "http://"+s.addr+"/graphql") {
		t.Errorf("stdout does not give the URL http://%s/graphql:\n%s", s.addr, out)
	}
	if !strings.Contains(out, "token create") || !strings.Contains(out, "--data "+dir) {
		t.Errorf("stdout does not say how to get a token for this data folder:\n%s", out)
	}

	if r := s.get("/readyz"); r.status != http.StatusOK {
		t.Errorf("/readyz: %d %s", r.status, r.body)
	}
	if r := s.get("/"); r.status != http.StatusOK || !bytes.Contains(bytes.ToLower(r.body), []byte("graphiql")) {
		t.Errorf("GET / (GraphiQL) in development: %d", r.status)
	}

	status, g := s.graphql(`{ resources(first: 50) { totalCount edges { node { title status } } } }`)
	if status != http.StatusOK || len(g.Errors) > 0 {
		t.Fatalf("resources: %d %+v", status, g.Errors)
	}
	var data struct {
		Resources struct {
			TotalCount int
			Edges      []struct {
				Node struct{ Title, Status string }
			}
		}
	}
	if err := json.Unmarshal(g.Data, &data); err != nil {
		t.Fatal(err)
	}
	edges := data.Resources.Edges
	if len(edges) == 0 {
		t.Fatal("an anonymous caller sees no demo resources")
	}
	if data.Resources.TotalCount != len(edges) {
		t.Errorf("totalCount %d, but %d edges", data.Resources.TotalCount, len(edges))
	}
	chinese := false
	for _, e := range edges {
		if e.Node.Status != "PUBLISHED" {
			t.Errorf("anonymous caller sees %q in status %s", e.Node.Title, e.Node.Status)
		}
		chinese = chinese || hasHan(e.Node.Title)
	}
	if !chinese {
		t.Errorf("no demo resource has a Chinese title: %+v", edges)
	}

	// The token command serve suggests works while serve runs (it must not
	// wait for the search index serve holds), and the token it prints
	// authenticates against the running server.
	tokc := make(chan result, 1)
	go func() { tokc <- run(t, env{}, "token", "create", "--role", "ADMIN", "--data", dir) }()
	var token string
	select {
	case r := <-tokc:
		if r.code != 0 {
			t.Fatalf("token create while serving: %s", r)
		}
		token = onlyToken(t, r)
	case <-time.After(20 * time.Second):
		t.Fatal("token create blocked while serve runs on the same data folder")
	}
	status, g = s.graphql(`{ resources(first: 50) { totalCount } }`, "Authorization", "Bearer "+token)
	var admin struct{ Resources struct{ TotalCount int } }
	if status != http.StatusOK || len(g.Errors) > 0 || json.Unmarshal(g.Data, &admin) != nil {
		t.Fatalf("resources as ADMIN: %d %+v %s", status, g.Errors, g.Data)
	}
	if admin.Resources.TotalCount <= data.Resources.TotalCount {
		t.Errorf("ADMIN sees %d resources, no more than anonymous (%d): drafts should show", admin.Resources.TotalCount, data.Resources.TotalCount)
	}
	if status, _ := s.graphql(`{ __typename }`, "Authorization", "Bearer aht_not-a-token"); status != http.StatusUnauthorized {
		t.Errorf("a bad token: %d, want 401", status)
	}

	// The GET transport answers too.
	if r, err := s.do(http.MethodGet, "/graphql?query=%7B__typename%7D", ""); err != nil || r.status != http.StatusOK {
		t.Errorf("GET /graphql: %v %d", err, r.status)
	}

	if code := s.stop(); code != 0 {
		t.Errorf("serve returned %d after cancel, want 0\nstderr:\n%s", code, s.stderr)
	}
	if strings.Contains(s.stderr.String(), "aidhub: ") {
		t.Errorf("a clean stop printed an error:\n%s", s.stderr)
	}
	s.checkLogs()
}

func TestServeProduction(t *testing.T) {
	t.Parallel()
	s := startServe(t, env{"AIDHUB_ENV": "production", "AIDHUB_SECRET": "ahTlzc07rn96AO5yWBoOi4aM6+8lYoDoyyucmcrtMZ8="}, "--data", t.TempDir(), "--addr", "127.0.0.1:0")

	if strings.Contains(s.stdout.String(), "GraphiQL") {
		t.Errorf("production stdout offers GraphiQL:\n%s", s.stdout)
	}
	if r := s.get("/"); r.status != http.StatusNotFound {
		t.Errorf("GET / in production: %d, want 404", r.status)
	}
	if r := s.get("/readyz"); r.status != http.StatusOK {
		t.Errorf("/readyz: %d %s", r.status, r.body)
	}
	_, g := s.graphql(`{ __schema { queryType { name } } }`)
	if len(g.Errors) == 0 {
		t.Errorf("introspection in production answered: %s", g.Data)
	}
	if bytes.Contains(g.Data, []byte("queryType")) {
		t.Errorf("introspection in production returned the schema: %s", g.Data)
	}
	// Ordinary queries still work.
	if _, g := s.graphql(`{ resources(first: 1) { totalCount } }`); len(g.Errors) > 0 {
		t.Errorf("a plain query in production: %+v", g.Errors)
	}

	if code := s.stop(); code != 0 {
		t.Errorf("serve returned %d after cancel, want 0\nstderr:\n%s", code, s.stderr)
	}
	s.checkLogs()
}
