package ingest

import (
	"errors"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/docuparse/docuparse-ingest/internal/store"
)

// A file swapped for a FIFO (renameat2 RENAME_EXCHANGE keeps size and
// mtime) must never block the open: a blocked open would hang intake, and
// shutdown behind it.
func TestAFIFOSwappedInForAFileNeverBlocksTheOpen(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "x.pdf")
	if err := os.WriteFile(p, []byte("%PDF-1.4 hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, ".swap")
	if err := unix.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(p)
	c := Candidate{Source: "s", Path: p, Name: "x.pdf", Size: fi.Size(), ModTime: fi.ModTime()}
	var stop atomic.Bool
	swapped := make(chan struct{})
	go func() {
		defer close(swapped)
		for !stop.Load() {
			_ = unix.Renameat2(unix.AT_FDCWD, p, unix.AT_FDCWD, fifo, unix.RENAME_EXCHANGE)
		}
	}()
	defer func() { stop.Store(true); <-swapped }()
	roots := NewRoots(map[string]string{"s": dir}, nil)
	sawFIFO := false
	for i := 0; i < 3000; i++ {
		done := make(chan error, 1)
		go func() { _, err := roots.hashFile(c); done <- err }()
		select {
		case err := <-done:
			sawFIFO = sawFIFO || errors.Is(err, errChanged)
		case <-time.After(5 * time.Second):
			stop.Store(true)
			for _, q := range []string{p, fifo} { // unblock the stuck open
				if w, err := os.OpenFile(q, os.O_WRONLY|unix.O_NONBLOCK, 0); err == nil {
					w.Close()
				}
			}
			t.Fatalf("opening blocked on a FIFO swapped in for the file (attempt %d)", i)
		}
	}
	if !sawFIFO {
		t.Log("the swap never landed between check and open in 3000 tries; the test proved less than it could")
	}
}

func TestOpeningStaysWithinTheSourceFolder(t *testing.T) {
	dir := t.TempDir()
	inbox, outside := filepath.Join(dir, "inbox"), filepath.Join(dir, "outside")
	for _, d := range []string{filepath.Join(inbox, "sub"), outside} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	secret := filepath.Join(outside, "secret.pdf")
	if err := os.WriteFile(secret, []byte("secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	inside := filepath.Join(inbox, "a.pdf")
	if err := os.WriteFile(inside, []byte("inside"), 0o600); err != nil {
		t.Fatal(err)
	}
	roots := NewRoots(map[string]string{"inbox": inbox}, nil)
	for _, tc := range []struct {
		name, link, target string
		wantOK             bool
	}{
		{"a symlink to a file outside the folder is refused", filepath.Join(inbox, "x.pdf"), secret, false},
		{"a symlinked subfolder leading outside is refused", filepath.Join(inbox, "sub", "out"), outside, false},
		// No link is followed (openat2 RESOLVE_NO_SYMLINKS), not even one
		// that stays inside: it errs on the safe side.
		{"a relative symlink to a file inside the folder is refused too", filepath.Join(inbox, "y.pdf"), "a.pdf", false},
		{"an absolute symlink is refused even into the folder", filepath.Join(inbox, "z.pdf"), inside, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := os.Symlink(tc.target, tc.link); err != nil {
				t.Fatal(err)
			}
			path := tc.link
			if fi, err := os.Stat(tc.target); err == nil && fi.IsDir() {
				path = filepath.Join(tc.link, "secret.pdf")
			}
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			f, err := roots.openUnchanged("inbox", path, fi.Size(), fi.ModTime(), store.FileID{})
			if f != nil {
				f.Close()
			}
			if (err == nil) != tc.wantOK {
				t.Fatalf("open %s: %v, want ok=%v", path, err, tc.wantOK)
			}
		})
	}
}

// A file of a source no longer configured (a reload removed or moved it) is
// opened through a pin of its own directory: that directory's path must
// not pass through a symbolic link either, or a symlinked subfolder would
// lead the upload out of the inbox.
func TestAFileOfAnUnconfiguredSourceIsOpenedFollowingNoSymlink(t *testing.T) {
	dir := t.TempDir()
	inbox, outside := filepath.Join(dir, "inbox"), filepath.Join(dir, "outside")
	for _, d := range []string{inbox, outside} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	secret := filepath.Join(outside, "secret.pdf")
	if err := os.WriteFile(secret, []byte("secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(inbox, "sub")); err != nil {
		t.Fatal(err)
	}
	roots := NewRoots(map[string]string{}, nil) // the source is gone from the configuration
	path := filepath.Join(inbox, "sub", "secret.pdf")
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := roots.openUnchanged("inbox", path, fi.Size(), fi.ModTime(), store.FileID{})
	if f != nil {
		f.Close()
	}
	if err == nil {
		t.Fatalf("opened %s through a symlinked subfolder", path)
	}
}
