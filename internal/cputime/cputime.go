// Package cputime reads the process's CPU time, for benchmarks that report
// CPU per operation beside wall time: on a small machine the CPU an
// operation takes from its neighbours matters as much as how long it waits.
package cputime

import (
	"syscall"
	"time"
)

// Process returns the CPU time, user and system, the process has used so
// far; 0 if it cannot be read.
func Process() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
