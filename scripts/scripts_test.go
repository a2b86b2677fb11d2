// Package scripts_test checks scripts/test, the README's test command: which
// packages it tests for a given command line, that it reports skipped tests
// with their reasons, and that its exit status is go test's; and
// scripts/release, the release build.
package scripts_test

import (
	"bytes"
	"crypto/sha256"
	"debug/elf"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
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

// TestRelease runs scripts/release for this machine's platform only and
// checks what it made: a binary whose `version` says the version, commit
// and date it was given, static on Linux (no ELF interpreter: it runs
// FROM scratch), and a SHA256SUMS that matches it.
func TestRelease(t *testing.T) {
	t.Parallel()
	dist := t.TempDir()
	const version, commit, date = "v9.8.7-test", "0123456789abcdef0123456789abcdef01234567", "2026-12-01T08:00:00Z"
	cmd := exec.Command("./release")
	cmd.Env = append(os.Environ(), "AIDHUB_RELEASE_TARGETS=host", "AIDHUB_DIST="+dist,
		"AIDHUB_VERSION="+version, "AIDHUB_COMMIT="+commit, "AIDHUB_BUILD_DATE="+date)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("scripts/release: %v\n%s", err, out)
	}
	name := "aidhub-" + runtime.GOOS + "-" + runtime.GOARCH
	if runtime.GOOS == "windows" {
		name += ".exe"
	}
	bin := filepath.Join(dist, name)
	out, err := exec.Command(bin, "version").CombinedOutput()
	if err != nil {
		t.Fatalf("%s version: %v\n%s", name, err, out)
	}
	for _, want := range []string{"aidhub " + version + "\n", "commit " + commit + "\n", "date   " + date + "\n"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("%s version does not say %q:\n%s", name, want, out)
		}
	}

	if runtime.GOOS == "linux" {
		f, err := elf.Open(bin)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		for _, p := range f.Progs {
			if p.Type == elf.PT_INTERP {
				t.Errorf("%s is dynamically linked (it has an ELF interpreter): CGO_ENABLED=0 did not hold", name)
			}
		}
	}

	sums, err := os.ReadFile(filepath.Join(dist, "SHA256SUMS"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("%x  %s\n", sha256.Sum256(b), name); string(sums) != want {
		t.Errorf("SHA256SUMS is %q, want %q", sums, want)
	}
}
