// Package scripts_test checks scripts/test, the README's test command: which
// packages it tests for a given command line, that it reports skipped tests
// with their reasons, and that its exit status is go test's.
package scripts_test

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// throwaway are the packages of a scratch copy of the module: ./... there
// is these packages only, so the script's default is tested as it is
// without testing the whole repository again.
var throwaway = map[string]string{
	"pass/pass_test.go": `package pass

import "testing"

func TestPass(t *testing.T) {}
`,
	"skip/skip_test.go": `package skip

import "testing"

func TestSkipped(t *testing.T) { t.Skip("no frobnicator at 127.0.0.1:1: start one") }

func TestOther(t *testing.T) {}
`,
	"fail/fail_test.go": `//go:build failing

package fail

import "testing"

func TestFail(t *testing.T) { t.Fatal("it fails") }
`,
}

// scratch copies scripts/test, go.mod and go.sum (gotestsum is a tool of
// go.mod) next to the throwaway packages and returns the copy's root.
func scratch(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string][]byte{}
	for name, content := range throwaway {
		files[name] = []byte(content)
	}
	for dst, src := range map[string]string{"scripts/test": "test", "go.mod": "../go.mod", "go.sum": "../go.sum"} {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		files[dst] = b
	}
	for name, b := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, b, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestScriptTest(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command on PATH")
	}
	root := scratch(t)
	const (
		pass = "github.com/aidhub/aidhub/pass"
		skip = "github.com/aidhub/aidhub/skip"
		fail = "github.com/aidhub/aidhub/fail"
	)
	skipped := []string{"=== Skipped", "=== SKIP: skip TestSkipped", "no frobnicator at 127.0.0.1:1: start one", ", 1 skipped in "}
	for _, tc := range []struct {
		args        []string
		code        int
		tested      []string // packages that must show an ok or FAIL line
		untested    []string
		want, avoid []string
	}{
		// No arguments: every package, and the skip summary.
		{args: nil, tested: []string{pass, skip}, untested: []string{fail}, want: append(skipped, "DONE 3 tests")},
		// A flag alone keeps ./... (it used to test the root package only).
		{args: []string{"-v"}, tested: []string{pass, skip}, want: append(skipped, "=== RUN   TestPass", "--- SKIP: TestSkipped")},
		// Flags with a value in the next argument are not packages.
		{args: []string{"-v", "-run", "XXX"}, tested: []string{pass, skip}, want: []string{"DONE 0 tests"}, avoid: skipped},
		{args: []string{"-count=1", "-timeout", "5m", "-run", "TestSkipped"}, tested: []string{pass, skip}, want: skipped, avoid: []string{"=== RUN"}},
		// A package narrows the run, before or after the flags.
		{args: []string{"-run", "TestPass", "./pass/"}, tested: []string{pass}, untested: []string{skip}, want: []string{"DONE 1 tests in "}, avoid: skipped},
		{args: []string{"./skip/", "-run", "TestSkipped"}, tested: []string{skip}, untested: []string{pass}, want: skipped},
		// -json: go test's own output, no summary in the way.
		{args: []string{"-json", "-run", "TestPass", "./pass/"}, want: []string{`"Action":"pass","Package":"` + pass + `"`}, avoid: []string{"DONE"}},
		// A failing test: go test's exit status, and the failure summarized.
		{args: []string{"-tags", "failing", "./fail/"}, code: 1, tested: []string{fail}, untested: []string{pass}, want: []string{"=== FAIL: fail TestFail", "it fails", "1 failure"}},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			cmd := exec.Command(filepath.Join(root, "scripts", "test"), tc.args...)
			cmd.Dir = root
			// A Meilisearch URL given: the script starts none.
			cmd.Env = append(os.Environ(), "AIDHUB_TEST_MEILI_URL=http://127.0.0.1:1", "CI=")
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			err := cmd.Run()
			code := 0
			if exitErr, ok := errors.AsType[*exec.ExitError](err); ok {
				code = exitErr.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			got := out.String()
			if code != tc.code {
				t.Errorf("exit status %d, want %d:\n%s", code, tc.code, got)
			}
			for _, p := range tc.tested {
				if !strings.Contains(got, "ok  \t"+p+"\t") && !strings.Contains(got, "FAIL\t"+p+"\t") {
					t.Errorf("package %s not tested:\n%s", p, got)
				}
			}
			for _, p := range tc.untested {
				if strings.Contains(got, p+"\t") {
					t.Errorf("package %s tested:\n%s", p, got)
				}
			}
			for _, s := range tc.want {
				if !strings.Contains(got, s) {
					t.Errorf("output lacks %q:\n%s", s, got)
				}
			}
			for _, s := range tc.avoid {
				if strings.Contains(got, s) {
					t.Errorf("output has %q:\n%s", s, got)
				}
			}
		})
	}
}
