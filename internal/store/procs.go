package store

import (
	"os"
	"runtime"
	"sync"
)

// defaultProcs is GOMAXPROCS as the process started with it: the CPUs it
// may use (Go also honours a cgroup CPU limit).
var defaultProcs = sync.OnceValue(func() int { return runtime.GOMAXPROCS(0) })

// ReserveWriterProc sets GOMAXPROCS to one more than the CPUs the process
// may use and returns the value in effect. An explicit GOMAXPROCS in the
// environment is left alone. Calling it again changes nothing.
//
// The reason is the store's writer, which spends much of every commit
// blocked in fsync (synchronous=FULL: an acknowledged webhook must
// survive power loss). A goroutine blocked in a system call keeps its P,
// Go's slot for running goroutines; sysmon takes the P back only when it
// sees the same call on two of its ticks, which come 20 µs to 10 ms apart,
// and not at all while another P is idle or spinning. With 2 CPUs that
// leaves the HTTP side one P for most of each fsync, and the CPUs idle
// while deliveries wait. One more P keeps both CPUs busy: the receiver
// benchmark at 128 senders gains about 15 % on 2 cores, and a CPU-bound
// handler (its ceiling) does not change (docs/benchmarks.md).
//
// Call it from main, before the daemon starts; it is process-wide.
func ReserveWriterProc() int {
	if os.Getenv("GOMAXPROCS") != "" {
		return runtime.GOMAXPROCS(0)
	}
	n := defaultProcs() + 1
	runtime.GOMAXPROCS(n)
	return n
}
