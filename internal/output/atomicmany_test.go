package output

import (
	"errors"
	"golang.org/x/sys/unix"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestWriteFilesAtomicWritesEachFileAndRefusesOnlyTheUnsafeOne: files in
// two folders and one below a planted symlink. The safe ones are written
// whole, with two syncfs calls for the group where syncfs fits and
// otherwise one fsync per file and one per folder; the unsafe one gets its
// own error wrapping ErrUnsafePath, and nothing is written through the
// link; no temporary file is left anywhere.
func TestWriteFilesAtomicWritesEachFileAndRefusesOnlyTheUnsafeOne(t *testing.T) {
	for _, force := range []bool{false, true} {
		t.Run(map[bool]string{false: "as the file system allows", true: "fsync by fsync"}[force], func(t *testing.T) {
			forceFsync = force
			t.Cleanup(func() { forceFsync = false })
			testWriteFilesAtomic(t)
		})
	}
}

func testWriteFilesAtomic(t *testing.T) {
	base := t.TempDir()
	l := Layout{Root: filepath.Join(base, "out")}
	outside := filepath.Join(base, "outside")
	mkdirAll(t, outside)
	mkdirAll(t, filepath.Join(l.Root, "results", "a"))
	mkdirAll(t, filepath.Join(l.Root, "results", "b"))
	symlink(t, outside, filepath.Join(l.Root, "results", "planted"))
	files := []AtomicFile{
		{Path: filepath.Join(l.Root, "results", "a", "1.json"), Data: []byte("one\n")},
		{Path: filepath.Join(l.Root, "results", "planted", "2.json"), Data: []byte("two\n")},
		{Path: filepath.Join(l.Root, "results", "a", "3.json"), Data: []byte("three\n")},
		{Path: filepath.Join(l.Root, "results", "b", "4.json"), Data: []byte("four\n")},
	}
	root, err := os.Open(l.Root)
	if err != nil {
		t.Fatal(err)
	}
	want := int64(3 + 2) // one per file written, one per folder
	if syncFSFits(root) {
		want = 2 // the temporaries, then the renames
	}
	root.Close()
	before := Syncs()
	errs, err := l.WriteFilesAtomic(files, FilePerm)
	if err != nil {
		t.Fatal(err)
	}
	if got := Syncs() - before; got != want {
		t.Errorf("%d syncs, want %d", got, want)
	}
	for i, f := range files {
		if i == 1 {
			if !errors.Is(errs[i], ErrUnsafePath) {
				t.Errorf("errs[1] = %v, want ErrUnsafePath", errs[i])
			}
			continue
		}
		if errs[i] != nil {
			t.Errorf("errs[%d] = %v", i, errs[i])
		}
		if got, err := os.ReadFile(f.Path); err != nil || string(got) != string(f.Data) {
			t.Errorf("%s = %q, %v; want %q", f.Path, got, err, f.Data)
		}
	}
	for _, dir := range []string{outside, filepath.Join(l.Root, "results", "a"), filepath.Join(l.Root, "results", "b")} {
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if strings.Contains(e.Name(), ".tmp-") || dir == outside {
				t.Errorf("left in %s: %s", dir, e.Name())
			}
		}
	}
}

// TestWriteFilesAtomicReplacesAnOldFileWhole: a file written again is
// replaced by its new content.
func TestWriteFilesAtomicReplacesAnOldFileWhole(t *testing.T) {
	l := Layout{Root: t.TempDir()}
	p := filepath.Join(l.Root, "results", "x.json")
	for _, content := range []string{"a much longer first content\n", "short\n"} {
		errs, err := l.WriteFilesAtomic([]AtomicFile{{Path: p, Data: []byte(content)}}, FilePerm)
		if err != nil || errs[0] != nil {
			t.Fatalf("WriteFilesAtomic: %v, %v", err, errs[0])
		}
		if got, err := os.ReadFile(p); err != nil || string(got) != content {
			t.Errorf("%s = %q, %v; want %q", p, got, err, content)
		}
	}
}

// TestSyncFSOnlyWhereItReportsWriteBackErrors: syncfs stands for fsyncs
// only on a kernel whose syncfs returns write-back errors (5.8 and later);
// an older or unreadable release keeps the fsyncs.
func TestSyncFSOnlyWhereItReportsWriteBackErrors(t *testing.T) {
	for release, want := range map[string]bool{
		"6.18.44-fc-v1147": true, "5.8.0": true, "5.10.0-28-amd64": true, "10.0": true,
		"5.7.19": false, "4.19.0-26-amd64": false, "3.10.0-1160.el7.x86_64": false, "": false, "linux": false,
	} {
		if got := kernelAtLeast(release, 5, 8); got != want {
			t.Errorf("kernelAtLeast(%q, 5, 8) = %v, want %v", release, got, want)
		}
	}
}

// TestOneSyncFSOnlyForFoldersOnOneFileSystem: a group's folders are made
// durable by one syncfs only when all of them are on the file system that
// syncfs writes back; a folder on another mount (here /dev/shm, a tmpfs)
// gets the fsyncs, whichever comes first.
func TestOneSyncFSOnlyForFoldersOnOneFileSystem(t *testing.T) {
	open := func(p string) *os.File {
		t.Helper()
		d, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { d.Close() })
		return d
	}
	a, b := t.TempDir(), t.TempDir()
	same := []*os.File{open(a), open(b)}
	if !syncFSFits(same[0]) {
		t.Skipf("syncfs does not stand for fsyncs on %s's file system here; nothing to compare", a)
	}
	if !oneSyncFS(same) {
		t.Errorf("two folders on one file system: want one syncfs")
	}
	other, err := os.MkdirTemp("/dev/shm", "atomicmany-")
	if err != nil {
		t.Skipf("no /dev/shm for a second file system: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(other) })
	var st1, st2 unix.Stat_t
	if unix.Stat(a, &st1) != nil || unix.Stat(other, &st2) != nil || st1.Dev == st2.Dev {
		t.Skipf("/dev/shm is on the same file system as %s here", a)
	}
	for _, dirs := range [][]*os.File{{open(a), open(other)}, {open(a), open(b), open(other)}} {
		if oneSyncFS(dirs) {
			t.Errorf("folders on two file systems (%s and %s): one syncfs would leave the second's files unsynced", a, other)
		}
	}
	if oneSyncFS([]*os.File{open(other), open(a)}) {
		t.Errorf("a tmpfs folder first: want fsyncs")
	}
}

// TestWriteFailureNamesTheFileOnceAndLeavesNoTemporary: a write the file
// system refuses (here the file size limit, RLIMIT_FSIZE, standing for a
// full disk: both fail write(2) the same way) is reported once per file
// — its path once, the system's reason — and leaves no temporary file.
// Not parallel: the limit is the whole process's while it is set, and no
// parallel test runs beside a sequential one.
func TestWriteFailureNamesTheFileOnceAndLeavesNoTemporary(t *testing.T) {
	l := Layout{Root: t.TempDir()}
	p := filepath.Join(l.Root, "results", "big.json")
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	var errs []error
	var err error
	withFileSizeLimit(t, 16, func() {
		errs, err = l.WriteFilesAtomic([]AtomicFile{{Path: p, Data: []byte(strings.Repeat("x", 64))}}, FilePerm)
	})
	werr := err
	if werr == nil {
		werr = errs[0]
	}
	if werr == nil {
		t.Fatal("a write over the file size limit succeeded")
	}
	msg := werr.Error()
	if !errors.Is(werr, unix.EFBIG) || strings.Count(msg, "big.json") != 1 {
		t.Errorf("error = %q: want the file named once and EFBIG", msg)
	}
	ents, _ := os.ReadDir(filepath.Dir(p))
	if len(ents) != 0 {
		t.Errorf("left in the folder: %v", ents)
	}
}

// withFileSizeLimit runs fn with the process's file size limit
// (RLIMIT_FSIZE) at n bytes: a write past it fails with EFBIG, as a full
// disk fails it with ENOSPC. Its callers are not parallel: the limit is
// the whole process's while it is set.
func withFileSizeLimit(t *testing.T, n uint64, fn func()) {
	t.Helper()
	var old unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_FSIZE, &old); err != nil {
		t.Fatal(err)
	}
	if err := unix.Setrlimit(unix.RLIMIT_FSIZE, &unix.Rlimit{Cur: n, Max: old.Max}); err != nil {
		t.Fatal(err)
	}
	fn()
	if err := unix.Setrlimit(unix.RLIMIT_FSIZE, &old); err != nil {
		t.Fatal(err)
	}
}
