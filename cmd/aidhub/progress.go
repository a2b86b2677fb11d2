package main

import (
	"io"

	"github.com/schollz/progressbar/v3"
)

// newProgress is the progress bar every long command draws on w: a count,
// or bytes when bytes is set, hidden under -quiet and cleared when done so
// that only the command's own report stays on the terminal.
func newProgress(w io.Writer, description string, total int64, bytes, quiet bool) *progressbar.ProgressBar {
	shown := progressbar.OptionShowCount()
	if bytes {
		shown = progressbar.OptionShowBytes(true)
	}
	return progressbar.NewOptions64(total,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(description),
		shown,
		progressbar.OptionSetVisibility(!quiet),
		progressbar.OptionClearOnFinish(),
	)
}

// phasedProgress draws one bar per phase of a long job that reports
// (phase, done, total), as the sweep and the population generator do;
// finish ends the last bar.
func phasedProgress(w io.Writer, prefix string, quiet bool) (update func(phase string, done, total int), finish func()) {
	var bar *progressbar.ProgressBar
	current := ""
	finish = func() {
		if bar != nil {
			_ = bar.Finish()
		}
	}
	update = func(phase string, done, total int) {
		if bar == nil || phase != current {
			finish()
			current = phase
			bar = newProgress(w, prefix+phase, int64(total), false, quiet)
		}
		_ = bar.Set(done)
	}
	return update, finish
}
