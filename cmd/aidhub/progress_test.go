package main

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// clock is a time the test moves by hand.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func testProgress(quiet bool) (*progress, *bytes.Buffer, *clock) {
	var buf bytes.Buffer
	c := &clock{t: time.Date(2026, 12, 2, 8, 0, 0, 0, time.UTC)}
	p := newProgress(&buf, "sweep", quiet)
	p.now = c.now
	return p, &buf, c
}

func TestProgress_OffATerminalOneLineEveryFewSeconds(t *testing.T) {
	p, buf, c := testProgress(false)
	if p.tty {
		t.Fatal("a bytes.Buffer is taken for a terminal")
	}
	// 10,000 reports a second apart each 100: a line at most every 5 s
	for done := 0; done <= 9000; done += 100 {
		p.Update("load", done, 10000)
		c.t = c.t.Add(time.Second)
	}
	p.Update("match", 0, 0) // ends load at what was really done
	c.t = c.t.Add(time.Minute)
	p.Update("match", 0, 0) // nothing to count: no line while it runs
	p.Update("write", 0, 3)
	p.Update("write", 3, 3)
	p.Done(nil)
	want := `sweep load: 500/10000 (5%)
sweep load: 1000/10000 (10%)
sweep load: 1500/10000 (15%)
sweep load: 2000/10000 (20%)
sweep load: 2500/10000 (25%)
sweep load: 3000/10000 (30%)
sweep load: 3500/10000 (35%)
sweep load: 4000/10000 (40%)
sweep load: 4500/10000 (45%)
sweep load: 5000/10000 (50%)
sweep load: 5500/10000 (55%)
sweep load: 6000/10000 (60%)
sweep load: 6500/10000 (65%)
sweep load: 7000/10000 (70%)
sweep load: 7500/10000 (75%)
sweep load: 8000/10000 (80%)
sweep load: 8500/10000 (85%)
sweep load: 9000/10000 (90%)
sweep load: 9000/9000 (100%)
sweep match: 0/0 (100%)
sweep write: 3/3 (100%)
`
	if got := buf.String(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestProgress_AShortPhaseWritesOnlyItsEnd(t *testing.T) {
	p, buf, _ := testProgress(false)
	p.Update("match", 0, 8)
	p.Update("match", 8, 8)
	p.Done(nil)
	if got := buf.String(); got != "sweep match: 8/8 (100%)\n" {
		t.Errorf("got %q", got)
	}
}

func TestProgress_AFailureDoesNotClaimTheEnd(t *testing.T) {
	p, buf, c := testProgress(false)
	p.Update("load", 0, 8)
	c.t = c.t.Add(time.Minute)
	p.Update("load", 2, 8)
	p.Done(errors.New("database gone"))
	if got := buf.String(); got != "sweep load: 2/8 (25%)\n" {
		t.Errorf("got %q", got)
	}
}

func TestProgress_Quiet(t *testing.T) {
	p, buf, c := testProgress(true)
	for done := 0; done <= 10; done++ {
		p.Update("load", done, 10)
		c.t = c.t.Add(time.Minute)
	}
	p.Done(nil)
	if buf.Len() != 0 {
		t.Errorf("--quiet wrote %q", buf.String())
	}
}

func TestProgress_Bytes(t *testing.T) {
	p, buf, _ := testProgress(false)
	p.name = "import households"
	w := p.Bytes(2_500_000)
	for range 5 {
		_, _ = w.Write(make([]byte, 500_000))
	}
	p.Done(nil)
	if got := buf.String(); got != "import households: 2.5 MB/2.5 MB (100%)\n" {
		t.Errorf("got %q", got)
	}
	buf.Reset()
	_, _ = p.Bytes(300).Write(make([]byte, 300))
	p.Done(nil)
	if got := buf.String(); got != "import households: 0.3 kB/0.3 kB (100%)\n" {
		t.Errorf("got %q", got)
	}
}

var progressLine = regexp.MustCompile(`^(\w+(?: \w+)?): (\d+)/(\d+) \((\d+)%\)$`)

// phaseEnds checks that stderr is nothing but plain progress lines, fewer
// than limit, and returns each phase's last line's count; every phase must
// end at 100 %.
func phaseEnds(t *testing.T, stderr string, limit int) map[string]int {
	t.Helper()
	if strings.Contains(stderr, "\r") || strings.Contains(stderr, "\x1b") {
		t.Fatalf("an animation off a terminal: %q", stderr)
	}
	lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
	if len(lines) >= limit {
		t.Errorf("%d lines of progress for a small run:\n%s", len(lines), stderr)
	}
	ends := map[string]int{}
	last := map[string]string{}
	for _, l := range lines {
		m := progressLine.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("not a progress line: %q in\n%s", l, stderr)
		}
		last[m[1]] = l
		ends[m[1]], _ = strconv.Atoi(m[2])
		if m[4] == "0" {
			t.Errorf("a line at 0%%: %q", l)
		}
	}
	for phase, l := range last {
		m := progressLine.FindStringSubmatch(l)
		if m[4] != "100" || m[2] != m[3] {
			t.Errorf("phase %s ends at %q, not at 100 %%", phase, l)
		}
	}
	return ends
}

func TestProgress_CommandsEndAt100(t *testing.T) {
	dir := t.TempDir()
	gen := mustRun(t, env{}, "bench", "generate", "--persons", "300", "--resources", "40", "--seed", "3", "--today", "2026-11-28", "--data", dir)
	ends := phaseEnds(t, gen.stderr, 10)
	if ends["generate resources"] != 40 || ends["generate population"] != 300 || ends["generate finish"] != 1 || len(ends) != 3 {
		t.Errorf("generate phases: %v\n%s", ends, gen.stderr)
	}

	sw := mustRun(t, env{}, "sweep", "--data", dir)
	ends = phaseEnds(t, sw.stderr, 10)
	var needs, matched int
	if _, err := fmt.Sscanf(sw.stdout, "swept %d open needs: %d matched", &needs, &matched); err != nil || needs == 0 {
		t.Fatalf("sweep: %v\n%s", err, sw)
	}
	if ends["sweep load"] != needs || ends["sweep match"] != needs || ends["sweep write"] != matched || len(ends) != 3 {
		t.Errorf("sweep phases: %v for %d needs, %d matched\n%s", ends, needs, matched, sw.stderr)
	}

	// The generator leaves some published resources with no capacity:
	// looked at and counted, not indexed.
	ri := mustRun(t, env{}, "reindex", "--data", dir)
	ends = phaseEnds(t, ri.stderr, 4)
	if ends["reindex bleve"] != 40 || len(ends) != 1 {
		t.Errorf("reindex: %v\n%s", ends, ri.stderr)
	}
	if !regexp.MustCompile(`^reindexed \d+ of 40 published resources into bleve \(\d+ left out: no capacity left\)`).MatchString(ri.stdout) {
		t.Errorf("reindex: %s", ri)
	}

	// An empty store: every phase has nothing to do and still ends at 100 %.
	empty := t.TempDir()
	mustRun(t, env{}, "migrate", "up", "--data", empty)
	sw = mustRun(t, env{}, "sweep", "--data", empty)
	if sw.stderr != "sweep load: 0/0 (100%)\nsweep match: 0/0 (100%)\nsweep write: 0/0 (100%)\n" {
		t.Errorf("sweep of an empty store: %s", sw)
	}
	ri = mustRun(t, env{}, "reindex", "--data", empty)
	if ri.stderr != "reindex bleve: 0/0 (100%)\n" {
		t.Errorf("reindex of an empty store: %s", ri)
	}
}
