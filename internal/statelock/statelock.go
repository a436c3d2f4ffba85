// Package statelock makes a state directory belong to one daemon at a
// time. Two daemons on one state_dir would both export the same documents
// and race on each CSV file's committed length, losing and duplicating
// rows; the second one must refuse to start instead.
//
// The lock is flock(2) (LOCK_EX|LOCK_NB) on FileName inside the directory,
// held by an open file descriptor for as long as the daemon runs. The
// kernel releases it when the process ends in any way, kill -9 included,
// so a stale lock file never blocks a restart. The holder writes its PID
// into the file so that the refused daemon can name it. The operator
// commands (status, retry, …) open the database beside the daemon and do
// not take the lock.
package statelock

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"
)

// FileName is the lock file's name inside the state directory.
const FileName = "daemon.lock"

// ErrLocked is wrapped by the *LockedError that Acquire returns when
// another process holds the directory's lock.
var ErrLocked = errors.New("state directory is in use by another daemon")

// LockedError says which directory is taken and by whom.
type LockedError struct {
	Dir string // the state directory
	PID int    // the holder's process id, 0 when it could not be read
}

func (e *LockedError) Error() string {
	holder := "another docuparse-ingest daemon"
	if e.PID > 0 {
		holder += fmt.Sprintf(" (pid %d)", e.PID)
	}
	return fmt.Sprintf("state_dir %s is in use by %s; stop it first, or give this daemon its own state_dir", e.Dir, holder)
}

// Unwrap makes errors.Is(err, ErrLocked) true.
func (e *LockedError) Unwrap() error { return ErrLocked }

// Lock is a held state-directory lock.
type Lock struct {
	f *os.File
}

// Acquire takes the exclusive lock on dir, which must exist. It never
// waits: when another process (or another open file description of this
// one) holds the lock it returns a *LockedError at once. The lock file is
// created if needed and left in place on Release; only the lock on it
// matters.
func Acquire(dir string) (*Lock, error) {
	path := filepath.Join(dir, FileName)
	// O_NOFOLLOW: a symbolic link planted in the state directory does not
	// make the daemon write a PID elsewhere.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o640)
	if err != nil {
		return nil, fmt.Errorf("state_dir lock %s: %w", path, err)
	}
	if err := flock(f, unix.LOCK_EX|unix.LOCK_NB); err != nil {
		defer f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, &LockedError{Dir: dir, PID: readPID(f)}
		}
		return nil, fmt.Errorf("state_dir lock %s: %w", path, err)
	}
	// The PID is only for the message of a refused daemon: a failure to
	// write it leaves the lock held and the message without a PID.
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return &Lock{f: f}, nil
}

// Release gives the lock up. It is safe on a nil Lock and safe twice.
func (l *Lock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	f := l.f
	l.f = nil
	// Closing the only descriptor of the open file description releases
	// the flock; the PID is left behind and overwritten by the next holder.
	return f.Close()
}

// flock calls flock(2) on f, retrying when a signal interrupts it.
func flock(f *os.File, how int) error {
	sc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	if err := sc.Control(func(fd uintptr) {
		for {
			ferr = unix.Flock(int(fd), how)
			if !errors.Is(ferr, unix.EINTR) {
				return
			}
		}
	}); err != nil {
		return err
	}
	return ferr
}

// readPID reads the holder's PID from the lock file, or 0.
func readPID(f *os.File) int {
	buf := make([]byte, 32)
	n, _ := f.ReadAt(buf, 0)
	pid, err := strconv.Atoi(string(bytes.TrimSpace(buf[:n])))
	if err != nil || pid <= 0 {
		return 0
	}
	return pid
}
