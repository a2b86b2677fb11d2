// Command aidhub runs the aidhub social-assistance hub and its chores.
//
//	aidhub serve [--addr 127.0.0.1:8080] [--data ./data] [--demo] [--pprof ADDR] [--today YYYY-MM-DD]
//	aidhub migrate up|down|status|unlock [--data DIR]
//	aidhub seed demo [--data DIR]
//	aidhub token create --role ROLE [--org ID] [--region CODE] [--source NAME] [--label TEXT] [--data DIR]
//	aidhub reindex [--data DIR] [--quiet]
//	aidhub sweep [--data DIR] [--quiet]
//	aidhub monitor [--data DIR] [--quiet] [--today YYYY-MM-DD]
//	aidhub import households [--data DIR] [--format csv|jsonl] [--batch N] [--errors FILE] [--quiet] FILE
//	aidhub import signals [--data DIR] [--format csv|jsonl] [--batch N] [--errors FILE] [--quiet] FILE
//	aidhub bench generate|match [flags]
//	aidhub version | aidhub --version
//	aidhub completion bash|zsh|fish|powershell
//
// The commands are github.com/spf13/cobra commands: `aidhub help COMMAND`
// or `COMMAND --help` describes each flag; exit codes are 0 (done),
// 1 (failed) and 2 (usage error: unknown command or flag, bad value).
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
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/aidhub/aidhub/buildinfo"
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

// overview is the root command's description: every command at a glance
// and the environment, which no flag shows.
const overview = `aidhub — a GraphQL hub for social assistance

Commands at a glance:
  aidhub serve [--addr 127.0.0.1:8080] [--data ./data] [--demo] [--pprof ADDR] [--today YYYY-MM-DD]
  aidhub migrate up|down|status|unlock [--data DIR]
  aidhub seed demo [--data DIR]
  aidhub token create --role ADMIN|CASE_MANAGER|CHARITY|DONOR|DATA_FEED [--org ID] [--region CODE] [--source NAME] [--label TEXT] [--data DIR]
  aidhub reindex [--data DIR] [--quiet]
  aidhub sweep [--data DIR] [--quiet]
  aidhub monitor [--data DIR] [--quiet] [--today YYYY-MM-DD]
  aidhub import households [--data DIR] [--format csv|jsonl] [--batch 1000] [--errors FILE] [--quiet] FILE
  aidhub import signals [--data DIR] [--format csv|jsonl] [--batch 5000] [--errors FILE] [--quiet] FILE
  aidhub bench generate --persons N [--resources M] [--seed S] [--today YYYY-MM-DD] [--data DIR] [--quiet]
  aidhub bench match [--data DIR] [--today YYYY-MM-DD] [--regions 500103,500112,500235|all] [--sql-full] [--meili-bin PATH] [--runs 2]
  aidhub version
  aidhub completion bash|zsh|fish|powershell

Environment:
  AIDHUB_DATABASE_URL  postgres://user@host:5432/db selects PostgreSQL (default: SQLite in --data)
  AIDHUB_MEILI_URL     http://host:7700 selects Meilisearch (default: Bleve index in --data/search)
  AIDHUB_MEILI_KEY     Meilisearch API key
  AIDHUB_MEILI_INDEX   Meilisearch index name (default resources)
  AIDHUB_SECRET        master key for personal data, 32+ random bytes (default: key file --data/secret.key, made on first run)
  AIDHUB_ENV           production turns off introspection and GraphiQL
  AIDHUB_LOG_LEVEL     debug, info (default), warn or error
  AIDHUB_TODAY         YYYY-MM-DD: serve as if the date in China were that day (--today wins);
                       development only, refused with AIDHUB_ENV=production`

// errUsage marks errors that are the caller's words, answered with exit 2.
type errUsage struct{ msg string }

func (e errUsage) Error() string { return e.msg }

// errFailure marks errors of a command's work (exit 1), as against the
// usage errors cobra itself finds (unknown command, bad arguments).
type errFailure struct{ err error }

func (e errFailure) Error() string { return e.err.Error() }
func (e errFailure) Unwrap() error { return e.err }

func (a *app) run(ctx context.Context, args []string) int {
	root := a.root()
	root.SetArgs(args)
	c, err := root.ExecuteContextC(ctx)
	if err == nil {
		return 0
	}
	var u errUsage
	var f errFailure
	code := 2
	msg := err.Error()
	switch {
	case errors.As(err, &f):
		code = 1
	case !errors.As(err, &u):
		// cobra's own words (unknown command and its suggestions): point
		// at the help that lists what there is.
		msg = strings.TrimRight(msg, "\n") + "; see `" + c.CommandPath() + " --help`"
	}
	// One line, never a stack trace.
	fmt.Fprintln(a.stderr, "aidhub: "+strings.Join(strings.Fields(msg), " "))
	return code
}

// root builds the command tree; a new one for each run, so nothing is
// shared between in-process runs.
func (a *app) root() *cobra.Command {
	root := &cobra.Command{
		Use:     "aidhub",
		Short:   "A GraphQL hub for social assistance",
		Long:    overview,
		Version: versionText(buildinfo.Get()),
		Example: `  aidhub serve --demo
  aidhub token create --role ADMIN
  aidhub help token create
  source <(aidhub completion bash)`,
		SilenceErrors: true, // run prints the one error line
		SilenceUsage:  true,
		RunE: func(c *cobra.Command, _ []string) error {
			fmt.Fprintln(a.stderr, overview)
			fmt.Fprintln(a.stderr)
			fmt.Fprint(a.stderr, c.UsageString())
			return errUsage{"no command given"}
		},
	}
	root.SetVersionTemplate("{{.Version}}")
	// Help, version and completion scripts go to stdout.
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		msg := err.Error()
		// The standard flag package took -data for --data; pflag reads
		// it as the shorthands -d -a -t -a.
		if _, word, ok := strings.Cut(msg, "unknown shorthand flag: "); ok {
			if _, arg, ok := strings.Cut(word, " in -"); ok && c.Flags().Lookup(strings.SplitN(arg, "=", 2)[0]) != nil {
				msg += "; long flags take two dashes: --" + arg
			}
		}
		return errUsage{fmt.Sprintf("%s: %s; see `%s --help`", commandName(c), msg, c.CommandPath())}
	})
	root.AddCommand(
		a.serveCmd(),
		a.migrateCmd(),
		a.seedCmd(),
		a.tokenCmd(),
		a.reindexCmd(),
		a.sweepCmd(),
		a.monitorCmd(),
		a.importCmd(),
		a.benchCmd(),
		a.versionCmd(),
	)
	root.SetHelpCommand(helpCmd())
	// cobra's completion command, made now rather than on Execute so that
	// it too exits 2 on a missing or unknown shell.
	root.InitDefaultCompletionCmd()
	for _, c := range root.Commands() {
		if c.Name() == "completion" {
			c.Example = `  source <(aidhub completion bash)
  aidhub completion zsh > "${fpath[1]}/_aidhub"
  aidhub completion fish > ~/.config/fish/completions/aidhub.fish`
			asGroup(c, "say bash, zsh, fish or powershell")
		}
	}
	return root
}

// helpCmd is cobra's help command, except that an unknown topic is a
// usage error (exit 2) rather than the overall help.
func helpCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "help [command]",
		Short: "Help about any command",
		Long:  "Help about any command: what it does, its flags with their defaults, and examples; the same as COMMAND --help.",
		Example: `  aidhub help
  aidhub help token create`,
		ValidArgsFunction: func(c *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
			cmd, _, err := c.Root().Find(args)
			if err != nil {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			var out []cobra.Completion
			for _, s := range cmd.Commands() {
				if s.IsAvailableCommand() && strings.HasPrefix(s.Name(), toComplete) {
					out = append(out, cobra.CompletionWithDesc(s.Name(), s.Short))
				}
			}
			return out, cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(c *cobra.Command, args []string) error {
			target, rest, err := c.Root().Find(args)
			if err != nil || len(rest) > 0 {
				return errUsage{fmt.Sprintf("help: unknown command %q; see `%s --help`", strings.Join(args, " "), c.Root().Name())}
			}
			target.InitDefaultHelpFlag()
			target.InitDefaultVersionFlag()
			return target.Help()
		},
	}
}

// action adapts a command's work to cobra: its errors that are not usage
// errors are failures, exit 1.
func action(f func(ctx context.Context, args []string) error) func(*cobra.Command, []string) error {
	return func(c *cobra.Command, args []string) error {
		err := f(c.Context(), args)
		var u errUsage
		if err != nil && !errors.As(err, &u) {
			return errFailure{err}
		}
		return err
	}
}

// group is a command that only holds subcommands: alone, or followed by a
// word that is none of them, it is a usage error that says what to type.
func group(use, short, say string, subs ...*cobra.Command) *cobra.Command {
	c := &cobra.Command{Use: use, Short: short}
	var examples []string
	for _, s := range subs {
		examples = append(examples, strings.SplitN(s.Example, "\n", 2)[0])
	}
	c.Example = strings.Join(examples, "\n")
	c.AddCommand(subs...)
	asGroup(c, say)
	return c
}

// asGroup makes c answer a missing or unknown subcommand with a usage
// error (cobra would print the help and exit 0).
func asGroup(c *cobra.Command, say string) {
	c.SuggestionsMinimumDistance = 2 // cobra sets it on the root only
	c.Args = func(c *cobra.Command, args []string) error {
		if len(args) == 0 {
			return nil
		}
		msg := fmt.Sprintf("%s: unknown command %q; %s", commandName(c), args[0], say)
		if s := c.SuggestionsFor(args[0]); len(s) > 0 {
			msg += fmt.Sprintf(" (did you mean %s?)", strings.Join(s, ", "))
		}
		return errUsage{msg}
	}
	c.RunE = func(c *cobra.Command, _ []string) error {
		return errUsage{commandName(c) + ": " + say}
	}
	c.ValidArgsFunction = cobra.NoFileCompletions
}

// noArgs is the Args of commands that take flags only.
func noArgs(c *cobra.Command, args []string) error {
	if len(args) > 0 {
		return errUsage{fmt.Sprintf("%s: unexpected argument %q", commandName(c), args[0])}
	}
	return nil
}

// commandName is c's path without the program's name: "token create".
func commandName(c *cobra.Command) string {
	if !c.HasParent() {
		return c.Name()
	}
	return strings.TrimPrefix(c.CommandPath(), c.Root().Name()+" ")
}

// dataFlag adds the --data flag most commands share; shells complete it
// with folders.
func dataFlag(c *cobra.Command, usage string) *string {
	p := c.Flags().String("data", "data", usage)
	_ = c.MarkFlagDirname("data")
	return p
}

// fixedCompletion completes a flag with a fixed list of values.
func fixedCompletion(c *cobra.Command, flag string, values ...string) {
	_ = c.RegisterFlagCompletionFunc(flag, cobra.FixedCompletions(values, cobra.ShellCompDirectiveNoFileComp))
}
