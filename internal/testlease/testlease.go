// Package testlease lets a test hold a file the way an inbox user who owns
// it can: under a write lease. Only tests import it.
package testlease

import (
	"os"
	"sync"
	"testing"

	"golang.org/x/sys/unix"
)

// Take takes a write lease (fcntl F_SETLEASE F_WRLCK) on the file at p, as
// the file's owner can: every non-blocking open of it by anyone else then
// fails with EWOULDBLOCK until the lease is dropped (or the kernel breaks
// it, lease-break-time later). The returned function drops it; so does the
// test's cleanup. Where no lease can be taken, the test is skipped.
func Take(t *testing.T, p string) (drop func()) {
	t.Helper()
	f, err := os.OpenFile(p, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := unix.FcntlInt(f.Fd(), unix.F_SETLEASE, unix.F_WRLCK); err != nil {
		f.Close()
		t.Skipf("cannot take a write lease here: %v", err)
	}
	var once sync.Once
	drop = func() {
		once.Do(func() {
			_, _ = unix.FcntlInt(f.Fd(), unix.F_SETLEASE, unix.F_UNLCK)
			f.Close()
		})
	}
	t.Cleanup(drop)
	return drop
}
