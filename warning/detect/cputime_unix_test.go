//go:build unix

package detect_test

import (
	"syscall"
	"time"
)

// cpuTime is the CPU time the process has used (user + system, all
// threads): a benchmark's cost that other processes on a busy machine do
// not inflate the way they inflate wall time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
