package ingest

import (
	"errors"
	"slices"
	"syscall"

	"github.com/docuparse/docuparse-ingest/internal/safedir"
)

// temporaryErrnos are the errors of open(2) and read(2) that say something
// about the host at that moment — descriptors, memory, buffers, an
// interrupted or contended call, a disk or network file system that
// failed this once — not about the file. A file that meets one is tried
// again later, never rejected.
var temporaryErrnos = []syscall.Errno{
	syscall.EMFILE,    // this process has no descriptor left
	syscall.ENFILE,    // the system has no descriptor left
	syscall.ENOMEM,    // no memory for the kernel's structures
	syscall.ENOBUFS,   // no buffer space
	syscall.EIO,       // an I/O error: a disk, a USB link or a network mount that may come back
	syscall.EAGAIN,    // also EWOULDBLOCK: try again
	syscall.EINTR,     // interrupted by a signal
	syscall.EBUSY,     // the file or its device is busy
	syscall.ENOLCK,    // no lock available
	syscall.ESTALE,    // a network file system's handle went stale; a new open finds the file
	syscall.ETIMEDOUT, // a network file system did not answer
}

// temporary reports whether err, from opening or reading a file, is
// temporary (see temporaryErrnos). Everything else decides about the file:
// ENOENT (gone), EACCES/EPERM (unreadable), EISDIR, ELOOP, ENXIO and the
// like are its properties, and so is a changed file (errChanged).
func temporary(err error) bool {
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		return false
	}
	return slices.Contains(temporaryErrnos, errno)
}

// heldBack reports whether a file that could not be opened or read with
// err is held and tried again rather than decided on: a temporary error
// (see temporary), or its source folder replaced (safedir.ErrReplaced),
// which the folder coming back, or a reload accepting a new one, ends.
// Neither says anything about the file; nor does a bucket request that
// failed for any reason but "not found" or "changed" (errBucket).
func heldBack(err error) bool {
	return temporary(err) || errors.Is(err, safedir.ErrReplaced) || errors.As(err, new(errBucket))
}
