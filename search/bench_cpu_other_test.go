//go:build !linux && !darwin

package search_test

import "time"

// processCPU is not measured here; BenchmarkSearch reports 0 CPU.
func processCPU() time.Duration { return 0 }
