package output

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// precious is a file outside the output directory that the daemon can
// write, like its state database.
func precious(t *testing.T) (path string, content []byte) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "state.db")
	content = []byte("SQLite format 3\x00 precious")
	if err := os.WriteFile(path, content, 0o600); err != nil {
		t.Fatal(err)
	}
	return path, content
}

func mkdirAll(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
}

func symlink(t *testing.T, target, link string) {
	t.Helper()
	mkdirAll(t, filepath.Dir(link))
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}

// assertUntouched checks that path still holds content and that link is
// still a symbolic link.
func assertUntouched(t *testing.T, path string, content []byte, link string) {
	t.Helper()
	if got, err := os.ReadFile(path); err != nil || !bytes.Equal(got, content) {
		t.Errorf("%s = %q, %v; want it untouched", path, got, err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("%s is no longer a symbolic link (%v, %v)", link, fi, err)
	}
}

func TestAppendRecordsRefusesASymlinkedCSV(t *testing.T) {
	day := "2026-05-20"
	for _, committed := range []int64{0, 5} {
		for _, viaLayout := range []bool{false, true} {
			target, content := precious(t)
			l := Layout{Root: filepath.Join(t.TempDir(), "out")}
			path := l.DocumentsCSV(day)
			symlink(t, target, path)

			var err error
			if viaLayout {
				_, err = l.AppendRecords(path, committed, testHeader, rowsA)
			} else {
				_, err = AppendRecords(path, committed, testHeader, rowsA)
			}
			if !errors.Is(err, ErrUnsafePath) || errors.Is(err, ErrShrunk) {
				t.Errorf("committed %d, layout %v: err = %v, want ErrUnsafePath (and not ErrShrunk)", committed, viaLayout, err)
			} else if !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not name %s", err, path)
			}
			assertUntouched(t, target, content, path)
		}
	}
}

func TestAppendRecordsRefusesADanglingSymlink(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "elsewhere", "new-file")
	mkdirAll(t, filepath.Dir(target))
	path := filepath.Join(dir, "out", "csv", "documents-2026-05-20.csv")
	symlink(t, target, path)
	if _, err := AppendRecords(path, 0, testHeader, rowsA); !errors.Is(err, ErrUnsafePath) {
		t.Fatalf("err = %v, want ErrUnsafePath", err)
	}
	if _, err := os.Lstat(target); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the link's target was created (%v)", err)
	}
}

func TestAppendRecordsRefusesANonRegularFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "documents.csv")
	if err := unix.Mkfifo(path, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	// O_RDWR does not block on a FIFO on Linux; the type is checked on
	// the open file.
	if _, err := AppendRecords(path, 0, testHeader, rowsA); !errors.Is(err, ErrUnsafePath) {
		t.Fatalf("err = %v, want ErrUnsafePath", err)
	}
}

// TestLayoutRefusesASymlinkedDirectoryBelowTheRoot plants a symlink at each
// directory level below the root, to a folder outside it and to one inside
// it, and checks both writers refuse and write nothing anywhere.
func TestLayoutRefusesASymlinkedDirectoryBelowTheRoot(t *testing.T) {
	d := completedDoc()
	d.CompletedAt = time.Date(2026, 5, 20, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		link   func(l Layout) string // the directory replaced by a link
		inside bool                  // the link points inside the root
		write  func(l Layout) (string, error)
	}{
		{name: "day folder to outside", link: func(l Layout) string { return filepath.Dir(l.ResultPath(d)) },
			write: func(l Layout) (string, error) {
				p := l.ResultPath(d)
				return p, l.WriteFileAtomic(p, []byte("{}\n"), 0o644)
			}},
		{name: "results folder to outside", link: func(l Layout) string { return filepath.Join(l.Root, "results") },
			write: func(l Layout) (string, error) {
				p := l.ResultPath(d)
				return p, l.WriteFileAtomic(p, []byte("{}\n"), 0o644)
			}},
		{name: "day folder to inside", inside: true, link: func(l Layout) string { return filepath.Dir(l.ResultPath(d)) },
			write: func(l Layout) (string, error) {
				p := l.ResultPath(d)
				return p, l.WriteFileAtomic(p, []byte("{}\n"), 0o644)
			}},
		{name: "reports folder to outside", link: func(l Layout) string { return filepath.Join(l.Root, "reports") },
			write: func(l Layout) (string, error) {
				p := l.ReportPath("2026-05-20", "md")
				return p, l.WriteFileAtomic(p, []byte("# report\n"), 0o644)
			}},
		{name: "csv folder to outside", link: func(l Layout) string { return filepath.Join(l.Root, "csv") },
			write: func(l Layout) (string, error) {
				p := l.DocumentsCSV("2026-05-20")
				_, err := l.AppendRecords(p, 0, testHeader, rowsA)
				return p, err
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			base := t.TempDir()
			l := Layout{Root: filepath.Join(base, "out")}
			target := filepath.Join(base, "elsewhere")
			if tc.inside {
				target = filepath.Join(l.Root, "csv")
			}
			mkdirAll(t, target)
			link := tc.link(l)
			symlink(t, target, link)

			path, err := tc.write(l)
			if !errors.Is(err, ErrUnsafePath) {
				t.Fatalf("err = %v, want ErrUnsafePath", err)
			}
			if !strings.Contains(err.Error(), link) {
				t.Errorf("error %q does not name the link %s", err, link)
			}
			if names := dirEntries(t, target); len(names) != 0 {
				t.Errorf("the link's target holds %q, want nothing written there", names)
			}
			if _, err := os.Lstat(path); err == nil {
				t.Errorf("%s exists", path)
			}
		})
	}
}

func TestLayoutWritesThroughASymlinkedRoot(t *testing.T) {
	base := t.TempDir()
	realDir := filepath.Join(base, "real-out")
	mkdirAll(t, realDir)
	symlink(t, realDir, filepath.Join(base, "out"))
	l := Layout{Root: filepath.Join(base, "out")}
	d := completedDoc()
	if err := l.WriteFileAtomic(l.ResultPath(d), []byte("{}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p := l.DocumentsCSV("2026-05-20")
	n, err := l.AppendRecords(p, 0, testHeader, rowsA)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.AppendRecords(p, n, testHeader, rowsB); err != nil {
		t.Fatal(err)
	}
	want := append([][]string{testHeader}, append(append([][]string{}, rowsA...), rowsB...)...)
	if got := readRows(t, filepath.Join(realDir, "csv", "documents-2026-05-20.csv")); len(got) != len(want) {
		t.Errorf("rows = %q, want %q", got, want)
	}
	rel, _ := filepath.Rel(l.Root, l.ResultPath(d))
	if _, err := os.Stat(filepath.Join(realDir, rel)); err != nil {
		t.Errorf("result file not under the realDir root: %v", err)
	}
}

func TestLayoutRefusesAPathOutsideTheRoot(t *testing.T) {
	base := t.TempDir()
	l := Layout{Root: filepath.Join(base, "out")}
	outside := filepath.Join(base, "other", "x.json")
	if err := l.WriteFileAtomic(outside, []byte("x"), 0o644); err == nil {
		t.Error("WriteFileAtomic outside the root succeeded")
	}
	if _, err := l.AppendRecords(filepath.Join(l.Root, "..", "x.csv"), 0, testHeader, rowsA); err == nil {
		t.Error("AppendRecords outside the root succeeded")
	}
	if err := l.WriteFileAtomic(l.Root, []byte("x"), 0o644); err == nil {
		t.Error("WriteFileAtomic on the root itself succeeded")
	}
	if names := dirEntries(t, base); len(names) != 0 {
		t.Errorf("%s holds %q, want nothing written", base, names)
	}
}

// TestWriteFileAtomicReplacesASymlinkNeverItsTarget: a link planted as the
// file itself is replaced by the new file; its target is not written.
func TestWriteFileAtomicReplacesASymlinkNeverItsTarget(t *testing.T) {
	for _, viaLayout := range []bool{false, true} {
		target, content := precious(t)
		l := Layout{Root: filepath.Join(t.TempDir(), "out")}
		path := l.ReportPath("2026-05-20", "csv")
		symlink(t, target, path)
		var err error
		if viaLayout {
			err = l.WriteFileAtomic(path, []byte("new\n"), 0o644)
		} else {
			err = WriteFileAtomic(path, []byte("new\n"), 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
		if got, err := os.ReadFile(target); err != nil || !bytes.Equal(got, content) {
			t.Errorf("target = %q, %v; want it untouched", got, err)
		}
		fi, err := os.Lstat(path)
		if err != nil || !fi.Mode().IsRegular() {
			t.Fatalf("%s is %v, %v; want a regular file", path, fi, err)
		}
		if got, _ := os.ReadFile(path); string(got) != "new\n" {
			t.Errorf("%s = %q", path, got)
		}
	}
}
