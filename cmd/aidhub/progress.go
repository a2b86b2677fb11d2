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
