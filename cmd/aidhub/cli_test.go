package main

import (
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/aidhub/aidhub/buildinfo"
)

// commands returns every command of the tree with its arguments after
// "aidhub", cobra's own help and completion commands included.
func commands(t *testing.T) map[string]*cobra.Command {
	t.Helper()
	a := &app{stdout: &lockedBuffer{}, stderr: &lockedBuffer{}, getenv: env{}.get}
	root := a.root()
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	all := map[string]*cobra.Command{}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		all[strings.TrimPrefix(strings.TrimPrefix(c.CommandPath(), "aidhub"), " ")] = c
		for _, s := range c.Commands() {
			walk(s)
		}
	}
	walk(root)
	for _, want := range []string{"", "serve", "migrate up", "migrate down", "migrate status", "migrate unlock", "seed demo",
		"token create", "reindex", "sweep", "monitor", "import households", "import signals", "bench generate", "bench match", "version", "completion bash"} {
		if all[want] == nil {
			t.Fatalf("no command %q", want)
		}
	}
	return all
}

func argsOf(path string) []string { return strings.Fields(path) }

func TestEveryCommandHasHelp(t *testing.T) {
	for path, c := range commands(t) {
		if c.Hidden {
			continue
		}
		args := append(argsOf(path), "--help")
		r := run(t, env{}, args...)
		if r.code != 0 || r.stderr != "" {
			t.Errorf("aidhub %s: %s", strings.Join(args, " "), r)
			continue
		}
		desc := c.Long
		if desc == "" {
			desc = c.Short
		}
		if !strings.Contains(r.stdout, "Usage:") || !strings.Contains(r.stdout, strings.TrimSpace(desc)) {
			t.Errorf("aidhub %s: no usage or description:\n%s", strings.Join(args, " "), r.stdout)
		}
		// cobra's own: help, and the scripts whose help says how to load them
		ours := c.Name() != "help" && (c.Parent() == nil || c.Parent().Name() != "completion")
		if ours && !strings.Contains(r.stdout, "Examples:") {
			t.Errorf("aidhub %s: no examples:\n%s", strings.Join(args, " "), r.stdout)
		}
		c.LocalFlags().VisitAll(func(f *pflag.Flag) {
			if f.Usage == "" {
				t.Errorf("aidhub %s: --%s has no description", path, f.Name)
			}
			if !strings.Contains(r.stdout, "--"+f.Name) || !strings.Contains(r.stdout, f.Usage) {
				t.Errorf("aidhub %s --help does not describe --%s:\n%s", path, f.Name, r.stdout)
			}
		})
		// `aidhub help PATH` says the same.
		if h := run(t, env{}, append([]string{"help"}, argsOf(path)...)...); path != "" && h.stdout != r.stdout {
			t.Errorf("aidhub help %s differs from --help:\n%s\n---\n%s", path, h.stdout, r.stdout)
		}
	}
}

func TestUnknownFlagIsAUsageError(t *testing.T) {
	for path := range commands(t) {
		if path == "help" || strings.HasPrefix(path, "__") {
			continue // help takes any words; __complete completes them
		}
		args := append(argsOf(path), "--port", "8080")
		r := run(t, env{}, args...)
		if r.code != 2 || r.stdout != "" {
			t.Errorf("aidhub %s: want exit 2 and no output, got %s", strings.Join(args, " "), r)
			continue
		}
		line := oneErrorLine(t, r)
		if !strings.Contains(line, "unknown flag: --port") || strings.Contains(line, " -port") {
			t.Errorf("aidhub %s: %q does not name --port", strings.Join(args, " "), line)
		}
	}
}

func TestUnknownCommandSuggests(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"serv"}, "did you mean this? seed serve"},
		{[]string{"migrate", "stauts"}, "did you mean status?"},
		{[]string{"token", "creat"}, "did you mean create?"},
		{[]string{"bench", "genrate"}, "did you mean generate?"},
	} {
		r := run(t, env{}, tc.args...)
		if r.code != 2 {
			t.Errorf("aidhub %s: want exit 2, got %s", strings.Join(tc.args, " "), r)
			continue
		}
		if line := oneErrorLine(t, r); !strings.Contains(line, tc.args[len(tc.args)-1]) || !strings.Contains(strings.ToLower(line), tc.want) {
			t.Errorf("aidhub %s: %q does not suggest %q", strings.Join(tc.args, " "), line, tc.want)
		}
	}
}

func TestHelpOnAnUnknownCommand(t *testing.T) {
	if r := run(t, env{}, "help", "frob"); r.code != 2 || !strings.Contains(oneErrorLine(t, r), "frob") {
		t.Errorf("aidhub help frob: %s", r)
	}
}

func TestVersion(t *testing.T) {
	want := versionText(buildinfo.Get())
	for _, args := range [][]string{{"version"}, {"--version"}, {"-v"}} {
		r := run(t, env{}, args...)
		if r.code != 0 || r.stdout != want || r.stderr != "" {
			t.Errorf("aidhub %s: want %q, got %s", strings.Join(args, " "), want, r)
		}
	}
	got := versionText(buildinfo.Info{Version: "v1.2.3", Commit: "0123abc", Date: "2026-12-02T10:00:00Z", Modified: true, GoVersion: "go1.26.0"})
	const full = "aidhub v1.2.3\ncommit 0123abc (with uncommitted changes)\ndate   2026-12-02T10:00:00Z\ngo     go1.26.0\n"
	if got != full {
		t.Errorf("versionText = %q, want %q", got, full)
	}
	if got := versionText(buildinfo.Info{Version: "(devel)"}); !strings.Contains(got, "commit unknown\n") || !strings.Contains(got, "date   unknown\n") {
		t.Errorf("versionText without a commit = %q", got)
	}
	if r := run(t, env{}, "version", "extra"); r.code != 2 {
		t.Errorf("aidhub version extra: %s", r)
	}
}

func TestCompletion(t *testing.T) {
	for shell, want := range map[string]string{"bash": "bash completion", "zsh": "#compdef aidhub", "fish": "complete -c aidhub", "powershell": "Register-ArgumentCompleter"} {
		r := run(t, env{}, "completion", shell)
		if r.code != 0 || !strings.Contains(r.stdout, want) || r.stderr != "" {
			t.Errorf("aidhub completion %s: want %q in the script, got exit %d, stderr %q", shell, want, r.code, r.stderr)
		}
	}
	if r := run(t, env{}, "completion", "tcsh"); r.code != 2 {
		t.Errorf("aidhub completion tcsh: %s", r)
	}
	// What the scripts call: cobra's hidden __complete command.
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{""}, []string{"serve", "migrate", "token", "bench", "version", "completion"}},
		{[]string{"migrate", ""}, []string{"up", "down", "status", "unlock"}},
		{[]string{"help", "token", ""}, []string{"create"}},
		{[]string{"token", "create", "--role", ""}, []string{"ADMIN", "CASE_MANAGER", "CHARITY", "DONOR"}},
		{[]string{"import", "households", "--format", ""}, []string{"csv", "jsonl"}},
		{[]string{"serve", "--"}, []string{"--addr", "--data", "--demo", "--pprof", "--today"}},
	} {
		r := run(t, env{}, append([]string{"__complete"}, tc.args...)...)
		if r.code != 0 {
			t.Errorf("aidhub __complete %s: %s", strings.Join(tc.args, " "), r)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(r.stdout, w+"\t") && !strings.Contains(r.stdout, w+"\n") {
				t.Errorf("aidhub __complete %s does not offer %s:\n%s", strings.Join(tc.args, " "), w, r.stdout)
			}
		}
	}
}

func TestSingleDashLongFlagIsAUsageError(t *testing.T) {
	// The standard flag package took -data; pflag does not, and says how.
	r := run(t, env{}, "serve", "-data", "x")
	if r.code != 2 {
		t.Fatalf("want exit 2, got %s", r)
	}
	if line := oneErrorLine(t, r); !strings.Contains(line, "two dashes: --data") {
		t.Errorf("%q does not point at --data", line)
	}
	if line := oneErrorLine(t, run(t, env{}, "serve", "-zz")); strings.Contains(line, "two dashes") {
		t.Errorf("%q suggests a flag that does not exist", line)
	}
}
