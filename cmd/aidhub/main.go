// Command aidhub runs the aidhub social-assistance hub and its chores.
//
//	aidhub serve [--addr 127.0.0.1:8080] [--data ./data] [--demo] [--pprof ADDR] [--today YYYY-MM-DD]
//	aidhub migrate up|down|status|unlock [--data DIR]
//	aidhub seed demo [--data DIR]
//	aidhub token create --role ROLE [--org ID] [--region CODE] [--label TEXT] [--data DIR]
//	aidhub reindex [--data DIR] [--quiet]
//
// AIDHUB_DATABASE_URL=postgres://… selects PostgreSQL instead of SQLite in
// the data folder; AIDHUB_MEILI_URL (+ AIDHUB_MEILI_KEY) selects Meilisearch
// instead of the Bleve index in the data folder; AIDHUB_ENV=production turns
// off introspection and GraphiQL; AIDHUB_TODAY (or serve --today) runs a
// development hub as if it were another day.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	a := &app{stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv}
	os.Exit(a.run(ctx, os.Args[1:]))
}

// app is the command line with its outside world passed in, so tests can
// run it in-process.
type app struct {
	stdout, stderr io.Writer
	getenv         func(string) string
	// ready, when set, receives the serving address once serve listens.
	ready func(addr string)
}

const usage = `aidhub — a GraphQL hub for social assistance

Usage:
  aidhub serve [--addr 127.0.0.1:8080] [--data ./data] [--demo] [--pprof ADDR] [--today YYYY-MM-DD]
  aidhub migrate up|down|status|unlock [--data DIR]
  aidhub seed demo [--data DIR]
  aidhub token create --role ADMIN|CASE_MANAGER|CHARITY|DONOR [--org ID] [--region CODE] [--label TEXT] [--data DIR]
  aidhub reindex [--data DIR] [--quiet]
  aidhub sweep [--data DIR] [--quiet]
  aidhub import households [--data DIR] [--format csv|jsonl] [--batch 1000] [--errors FILE] [--quiet] FILE
  aidhub bench generate --persons N [--resources M] [--seed S] [--today YYYY-MM-DD] [--data DIR] [--quiet]
  aidhub bench match [--data DIR] [--today YYYY-MM-DD] [--regions 500103,500112,500235|all] [--sql-full] [--meili-bin PATH] [--runs 2]

Environment:
  AIDHUB_DATABASE_URL  postgres://user@host:5432/db selects PostgreSQL (default: SQLite in --data)
  AIDHUB_MEILI_URL     http://host:7700 selects Meilisearch (default: Bleve index in --data/search)
  AIDHUB_MEILI_KEY     Meilisearch API key
  AIDHUB_MEILI_INDEX   Meilisearch index name (default resources)
  AIDHUB_SECRET        master key for personal data, 32+ random bytes (default: key file --data/secret.key, made on first run)
  AIDHUB_ENV           production turns off introspection and GraphiQL
  AIDHUB_LOG_LEVEL     debug, info (default), warn or error
  AIDHUB_TODAY         YYYY-MM-DD: serve as if the date in China were that day (--today wins);
                       development only, refused with AIDHUB_ENV=production
`

// errUsage marks errors that are the caller's words, answered with exit 2.
type errUsage struct{ msg string }

func (e errUsage) Error() string { return e.msg }

func (a *app) run(ctx context.Context, args []string) int {
	err := a.dispatch(ctx, args)
	if err == nil {
		return 0
	}
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(a.stdout, usage) // the flag sets print nothing themselves
		return 0
	}
	// One line, never a stack trace.
	fmt.Fprintln(a.stderr, "aidhub: "+strings.Join(strings.Fields(err.Error()), " "))
	var u errUsage
	if errors.As(err, &u) {
		return 2
	}
	return 1
}

func (a *app) dispatch(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(a.stderr, usage)
		return errUsage{"no command given"}
	}
	switch cmd, rest := args[0], args[1:]; cmd {
	case "serve":
		return a.serve(ctx, rest)
	case "migrate":
		return a.migrate(ctx, rest)
	case "seed":
		return a.seed(ctx, rest)
	case "token":
		return a.token(ctx, rest)
	case "reindex":
		return a.reindex(ctx, rest)
	case "import":
		return a.importCmd(ctx, rest)
	case "sweep":
		return a.sweep(ctx, rest)
	case "bench":
		return a.bench(ctx, rest)
	case "help", "-h", "--help":
		fmt.Fprint(a.stdout, usage)
		return nil
	default:
		return errUsage{fmt.Sprintf("unknown command %q; run `aidhub help`", cmd)}
	}
}

// flags returns a flag set that reports errors as one line instead of
// printing usage by itself.
func (a *app) flags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage{fmt.Sprintf("%s: %v", fs.Name(), err)}
	}
	return nil
}
