package output

import (
	"os"
	"sync/atomic"
)

// syncs counts the fsyncs this package made (files and directories).
var syncs atomic.Int64

// Syncs returns how many fsync calls (on files and on directories) the
// writes of this package made in this process: for tests and benchmarks
// that check how many a document's export costs.
func Syncs() int64 { return syncs.Load() }

// fsync fsyncs f, counted in Syncs.
func fsync(f *os.File) error {
	syncs.Add(1)
	return f.Sync()
}
