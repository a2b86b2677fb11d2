package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// progressEvery is how often a plain progress line may be written when w is
// not a terminal: often enough to show a long job is alive, rarely enough
// that a log of a three-million-row job stays a few lines long.
const progressEvery = 5 * time.Second

// progress is how every long command shows how far it is, phase by phase
// (a job that has one phase reports it as ""). On a terminal each phase is
// an animated bar; anywhere else (a log file, a pipe, a test's buffer) it is
// one plain line per phase at most every progressEvery, such as
// "reindex bleve: 12000/50000 (24%)". Either way a phase that ends leaves
// one line at 100 %, its count set to what was really done: a total counted
// before the job began can be off by what changed meanwhile. Nothing is
// written under --quiet.
type progress struct {
	mu    sync.Mutex
	w     io.Writer
	name  string
	quiet bool
	bytes bool // counts are bytes: shown as sizes
	tty   bool
	now   func() time.Time
	every time.Duration

	running     bool // a phase has been reported and has not ended
	phase       string
	done, total int64
	lastLine    time.Time
	printed     string // the last plain line, not written twice
	bar         *progressbar.ProgressBar
}

// newProgress is the progress of the command called name, shown on w.
func newProgress(w io.Writer, name string, quiet bool) *progress {
	return &progress{w: w, name: name, quiet: quiet, tty: isTerminal(w), now: time.Now, every: progressEvery}
}

// isTerminal reports whether w is a terminal, where a bar may animate.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// Update reports done of total in phase. A new phase ends the one before.
// Its signature is the one the sweep and the generator report through.
func (p *progress) Update(phase string, done, total int) {
	p.update(phase, int64(done), int64(total))
}

func (p *progress) update(phase string, done, total int64) {
	if p.quiet {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.running || phase != p.phase {
		p.end()
		p.running, p.phase, p.lastLine, p.bar = true, phase, p.now(), nil
	}
	p.done, p.total = done, total
	if p.tty {
		p.draw()
		return
	}
	if now := p.now(); now.Sub(p.lastLine) >= p.every && (done > 0 || total > 0) {
		p.line()
		p.lastLine = now
	}
}

// Done ends the job. After success the last phase ends at 100 %; after a
// failure it stays where it stopped, so the bar does not claim work that
// was not done.
func (p *progress) Done(err error) {
	if p.quiet {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if err == nil {
		p.end()
		return
	}
	if p.running && p.bar != nil && !p.bar.IsFinished() {
		fmt.Fprintln(p.w) // the error goes on a line of its own
	}
	p.running = false
}

// Bytes returns a writer that reports the bytes written through it as a
// one-phase job of total bytes (a file read through an io.TeeReader).
func (p *progress) Bytes(total int64) io.Writer {
	p.bytes = true
	return &byteCounter{p: p, total: total}
}

type byteCounter struct {
	p     *progress
	n     int64
	total int64
}

func (c *byteCounter) Write(b []byte) (int, error) {
	c.n += int64(len(b))
	c.p.update("", c.n, c.total)
	return len(b), nil
}

// end ends the running phase at what was really done.
func (p *progress) end() {
	if !p.running {
		return
	}
	p.running = false
	p.total = p.done
	if p.tty && p.bar != nil && p.done > 0 {
		p.bar.ChangeMax64(p.done)
		_ = p.bar.Finish() // draws the 100 % frame, then the newline of OptionOnCompletion
		return
	}
	if p.tty && p.bar != nil {
		_ = p.bar.Clear()
	}
	p.line()
}

// draw animates the running phase's bar; a phase with nothing to count
// has none (the library refuses a total of 0).
func (p *progress) draw() {
	if p.total <= 0 {
		return
	}
	if p.bar == nil {
		shown := progressbar.OptionShowCount()
		if p.bytes {
			shown = progressbar.OptionShowBytes(true)
		}
		w := p.w
		p.bar = progressbar.NewOptions64(p.total,
			progressbar.OptionSetWriter(w),
			progressbar.OptionSetDescription(p.label()),
			shown,
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionOnCompletion(func() { fmt.Fprintln(w) }),
		)
	}
	if p.bar.IsFinished() {
		return
	}
	if p.done > p.bar.GetMax64() {
		p.bar.ChangeMax64(p.done) // more came than were counted
	}
	_ = p.bar.Set64(p.done)
}

// line writes the running phase's state as a plain line.
func (p *progress) line() {
	count := func(n int64) string {
		switch {
		case p.bytes && n < 1e6:
			return fmt.Sprintf("%.1f kB", float64(n)/1e3)
		case p.bytes:
			return fmt.Sprintf("%.1f MB", float64(n)/1e6)
		}
		return fmt.Sprint(n)
	}
	var s string
	switch {
	case p.total > 0 && p.done < p.total:
		s = fmt.Sprintf("%s: %s/%s (%d%%)\n", p.label(), count(p.done), count(p.total), p.done*100/p.total)
	case p.done >= p.total && (p.total > 0 || !p.running):
		s = fmt.Sprintf("%s: %s/%s (100%%)\n", p.label(), count(p.done), count(p.done))
	default: // a total not known yet
		s = fmt.Sprintf("%s: %s\n", p.label(), count(p.done))
	}
	if s != p.printed {
		_, _ = io.WriteString(p.w, s)
		p.printed = s
	}
}

func (p *progress) label() string {
	if p.phase == "" {
		return p.name
	}
	return p.name + " " + p.phase
}
