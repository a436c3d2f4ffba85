// Package procs owns the process's GOMAXPROCS: one more P than Go's own
// choice, so that the state store's writer blocking in fsync does not leave
// a CPU idle. cmd calls it once, before the daemon starts.
package procs

import (
	"os"
	"runtime"
	"sync"
)

// defaultProcs is GOMAXPROCS as the process started with it: the CPUs it
// may use, lowered by Go to a cgroup CPU quota when there is one.
var defaultProcs = sync.OnceValue(func() int { return runtime.GOMAXPROCS(0) })

// WriterProcs returns the GOMAXPROCS to run with where Go's choice is
// procs: one more, so that the store's writer blocking in fsync does not
// leave a CPU idle (see ReserveWriterProc). It returns procs unchanged when
// GOMAXPROCS is set in the environment (the operator decided) or when
// procs is below the machine's CPUs (a CPU quota or affinity limit, which
// an extra P running Go code would only be throttled against).
func WriterProcs(procs int) int {
	if os.Getenv("GOMAXPROCS") != "" || procs < runtime.NumCPU() {
		return procs
	}
	return procs + 1
}

// ReserveWriterProc sets GOMAXPROCS to WriterProcs of the process's
// default and returns the value in effect. Calling it again changes
// nothing. Call it from main, before the daemon starts; it is process-wide,
// and like any explicit setting it stops Go from following later changes
// of the CPU quota.
//
// The reason is the state store's writer, which spends part of every commit
// blocked in fsync (synchronous=FULL: an acknowledged webhook must survive
// power loss). A goroutine blocked in a system call keeps its P, Go's slot
// for running goroutines. sysmon takes the P back only once it has seen
// the same call on two of its ticks, and while other Ps are idle or
// spinning only if the P has goroutines queued or the call passes 10 ms;
// its ticks, 20 µs apart while it finds work, back off to 10 ms when it
// finds none. With 2 CPUs that left the HTTP side one P for most of each
// fsync, and the process used ~160 % of its 200 %. One more P keeps both
// CPUs busy: the receiver benchmark at 128 senders goes from 44 % to 56 %
// of its ceiling on 2 cores, and the ceiling itself (a CPU-bound handler)
// does not change (docs/benchmarks.md).
func ReserveWriterProc() int {
	n := WriterProcs(defaultProcs())
	runtime.GOMAXPROCS(n)
	return n
}
