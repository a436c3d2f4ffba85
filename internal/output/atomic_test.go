package output

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// dirEntries lists the names in dir.
func dirEntries(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

func TestWriteFileAtomic(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "results", "2026-05-19")
	path := filepath.Join(dir, "doc_1.json")

	if err := WriteFileAtomic(path, []byte("first\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil || string(b) != "first\n" {
		t.Fatalf("read back %q, %v", b, err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o640 {
		t.Errorf("mode = %v, want 0640", st.Mode().Perm())
	}

	// Overwriting replaces the whole content, even with a shorter one.
	if err := WriteFileAtomic(path, []byte("2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != "2\n" {
		t.Errorf("after overwrite: %q", b)
	}
	if names := dirEntries(t, dir); len(names) != 1 || names[0] != "doc_1.json" {
		t.Errorf("directory holds %q, want only doc_1.json (no temp files left)", names)
	}
}

func TestWriteFileAtomicFailureLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	// The target is an existing directory: the rename fails after the temp
	// file was written.
	target := filepath.Join(dir, "taken")
	if err := os.Mkdir(target, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(target, "keep"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	err := WriteFileAtomic(target, []byte("x"), 0o644)
	if err == nil || !strings.Contains(err.Error(), target) {
		t.Fatalf("err = %v, want an error naming %s", err, target)
	}
	if names := dirEntries(t, dir); len(names) != 1 || names[0] != "taken" {
		t.Errorf("directory holds %q, want no temp file left", names)
	}

	// A parent that is a file cannot be created.
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteFileAtomic(filepath.Join(file, "sub", "x.json"), []byte("x"), 0o644); err == nil {
		t.Fatal("writing under a regular file succeeded")
	}
}

// TestWriteFileAtomicHonoursTheUmask: the mode given is the most a file
// gets; the process's umask takes bits away, as for any file it creates.
// The umask is the process's, so this test is not parallel.
func TestWriteFileAtomicHonoursTheUmask(t *testing.T) {
	old := syscall.Umask(0o077)
	t.Cleanup(func() { syscall.Umask(old) })
	l := Layout{Root: t.TempDir()}
	path := filepath.Join(l.Root, "reports", "r.json")
	if err := l.WriteFileAtomic(path, []byte("{}\n"), FilePerm); err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]os.FileMode{path: 0o600, filepath.Dir(path): 0o700} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s has mode %v under umask 0077, want %v", p, fi.Mode().Perm(), want)
		}
	}
	// With no umask the file gets FilePerm itself: group-readable output,
	// never world-readable.
	syscall.Umask(0)
	if err := l.WriteFileAtomic(path, []byte("{}\n"), FilePerm); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o640 {
		t.Errorf("under umask 0: %v, %v; want 0640", fi.Mode().Perm(), err)
	}
}
