package safedir

import (
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/docuparse/docuparse-ingest/internal/testlease"
	"github.com/docuparse/docuparse-ingest/internal/testlog"
)

// withFallback runs f with openat2, then with the per-component fallback
// kernels without openat2 get.
func withFallback(t *testing.T, f func(t *testing.T)) {
	t.Run("openat2", f)
	t.Run("openat per component", func(t *testing.T) {
		noOpenat2.Store(true)
		defer noOpenat2.Store(false)
		f(t)
	})
}

func mkdirs(t *testing.T, dirs ...string) {
	t.Helper()
	for _, d := range dirs {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
}

// A folder swapped for a symlink, or for another folder, is refused with
// one ERROR line per change; once the pinned folder is back it is used again.
func TestAReplacedFolderIsRefusedUntilItIsBack(t *testing.T) {
	withFallback(t, func(t *testing.T) {
		dir := t.TempDir()
		inbox, other := filepath.Join(dir, "inbox"), filepath.Join(dir, "other")
		mkdirs(t, inbox, other)
		if err := os.WriteFile(filepath.Join(other, "a.pdf"), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
		log, logs := testlog.Logger(slog.LevelInfo)
		d, err := Open(inbox, log)
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		if err := d.Check(); err != nil {
			t.Fatal(err)
		}
		mustRename(t, inbox, inbox+".old")
		if err := os.Symlink(other, inbox); err != nil {
			t.Fatal(err)
		}
		for range 3 {
			if _, err := d.OpenFile(filepath.Join(inbox, "a.pdf"), os.O_RDONLY); !errors.Is(err, ErrReplaced) {
				t.Fatalf("open through a swapped folder: %v, want ErrReplaced", err)
			}
		}
		if err := os.Remove(inbox); err != nil {
			t.Fatal(err)
		}
		mkdirs(t, inbox) // another folder now
		if err := d.Check(); !errors.Is(err, ErrReplaced) {
			t.Fatalf("check of another folder: %v", err)
		}
		if n := logs.Count("level=ERROR"); n != 2 {
			t.Fatalf("%d ERROR lines for two changes, want 2:\n%s", n, logs.String())
		}
		if err := os.Remove(inbox); err != nil {
			t.Fatal(err)
		}
		mustRename(t, inbox+".old", inbox)
		if err := d.Check(); err != nil {
			t.Fatalf("the pinned folder is back: %v", err)
		}
		if logs.Count("pinned folder is back") != 1 {
			t.Fatalf("no line saying the folder is back:\n%s", logs.String())
		}
	})
}

func mustRename(t *testing.T, from, to string) {
	t.Helper()
	if err := os.Rename(from, to); err != nil {
		t.Fatal(err)
	}
}

// No symbolic link beneath a pinned folder is followed: not as the file,
// not as a folder on the way, not as a folder MkdirAll would create.
func TestNoSymlinkBeneathAPinnedFolderIsFollowed(t *testing.T) {
	withFallback(t, func(t *testing.T) {
		dir := t.TempDir()
		done, out := filepath.Join(dir, "done"), filepath.Join(dir, "out")
		mkdirs(t, done, out)
		if err := os.WriteFile(filepath.Join(out, "x.pdf"), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
		for _, l := range []struct{ link, target string }{{"sub", out}, {"x.pdf", filepath.Join(out, "x.pdf")}, {"rel.pdf", "../out/x.pdf"}} {
			if err := os.Symlink(l.target, filepath.Join(done, l.link)); err != nil {
				t.Fatal(err)
			}
		}
		d, err := Open(done, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		for _, p := range []string{"sub/x.pdf", "x.pdf", "rel.pdf"} {
			if f, err := d.OpenFile(filepath.Join(done, p), os.O_RDONLY); !errors.Is(err, ErrSymlink) {
				f.Close()
				t.Errorf("open %s: %v, want ErrSymlink", p, err)
			}
		}
		if f, err := d.MkdirAll(filepath.Join(done, "sub", "deeper"), 0o755); !errors.Is(err, ErrSymlink) {
			f.Close()
			t.Errorf("MkdirAll through done/sub: %v, want ErrSymlink", err)
		}
		if _, err := os.Lstat(filepath.Join(out, "deeper")); err == nil {
			t.Error("MkdirAll created a folder through the link")
		}
		fi, err := d.Lstat(filepath.Join(done, "x.pdf"))
		if err != nil || fi.Mode()&os.ModeSymlink == 0 {
			t.Errorf("Lstat of a link: %v, %v; want the link itself", fi, err)
		}
		if err := d.Remove(filepath.Join(done, "x.pdf")); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(out, "x.pdf")); err != nil {
			t.Fatalf("removing a link touched its target: %v", err)
		}
		f, err := d.MkdirAll(filepath.Join(done, "a", "b"), 0o755)
		if err != nil {
			t.Fatal(err)
		}
		f.Close()
		if fi, err := os.Lstat(filepath.Join(done, "a", "b")); err != nil || !fi.IsDir() {
			t.Fatalf("MkdirAll made no folder: %v", err)
		}
		if _, err := d.OpenFile("/etc/passwd", os.O_RDONLY); err == nil || !strings.Contains(err.Error(), "not inside") {
			t.Fatalf("a path outside the folder: %v", err)
		}
	})
}

// The operator's own symbolic link on the configured path is resolved at
// start; a reload accepts a real folder put back at the path, never a link.
func TestRepinAcceptsARealFolderOnly(t *testing.T) {
	dir := t.TempDir()
	real, link := filepath.Join(dir, "real"), filepath.Join(dir, "link")
	mkdirs(t, real)
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	s := NewSet(nil)
	defer s.Close()
	d, err := s.Pin(link)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Check(); err != nil {
		t.Fatalf("an operator's link resolved at start: %v", err)
	}
	mustRename(t, real, real+".old")
	if err := os.Symlink(real+".old", real); err != nil {
		t.Fatal(err)
	}
	if err := s.Repin(); err == nil || d.Check() == nil {
		t.Fatal("a reload accepted a symbolic link as the folder")
	}
	if err := os.Remove(real); err != nil {
		t.Fatal(err)
	}
	mkdirs(t, real)
	if err := s.Repin(); err != nil || d.Check() != nil {
		t.Fatalf("a reload did not accept the new real folder: %v", err)
	}
}

// An inbox user who owns a dropped file can take a write lease on it.
// Opening it without blocking then fails with EWOULDBLOCK (EAGAIN) for as
// long as the lease is held: OpenFile must return that at once, for the
// caller to hold the file and try again later, not spin a core on it
// while holding the folder's lock.
func TestOpeningALeasedFileReturnsEAGAINAtOnce(t *testing.T) {
	withFallback(t, func(t *testing.T) {
		dir := t.TempDir()
		p := filepath.Join(dir, "leased.pdf")
		if err := os.WriteFile(p, []byte("%PDF-1.4 leased"), 0o644); err != nil {
			t.Fatal(err)
		}
		d, err := Open(dir, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		drop := testlease.Take(t, p)
		f, err := d.OpenFile(p, os.O_RDONLY|unix.O_NONBLOCK)
		if err == nil {
			f.Close()
		}
		if !errors.Is(err, unix.EAGAIN) {
			t.Fatalf("open of a leased file: %v, want EAGAIN", err)
		}
		drop()
		f, err = d.OpenFile(p, os.O_RDONLY|unix.O_NONBLOCK)
		if err != nil {
			t.Fatalf("open once the lease is dropped: %v", err)
		}
		f.Close()
	})
}
