package output

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// SweepTemporaries removes the temporaries of interrupted writes older
// than its bound, and nothing else: not a newer one (another writer may be
// filling it), not a link, a folder or a file merely looking alike, and
// never through a symbolic link.
func TestSweepTemporariesRemovesOnlyOldTemporaries(t *testing.T) {
	l := Layout{Root: t.TempDir()}
	dir := filepath.Join(l.Root, "results", "2026-12-04")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	outside := filepath.Join(t.TempDir(), ".victim.json.tmp-1")
	write := func(path string) {
		t.Helper()
		if err := os.WriteFile(path, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(outside)
	old := time.Now().Add(-time.Hour)
	for _, name := range []string{".doc_a.json.tmp-123", ".doc_b.json.tmp-4294967295", "doc_c.json", ".doc_d.json.tmp-12ab", ".tmp-5", "doc_e.json.tmp-6"} {
		write(filepath.Join(dir, name))
		if err := os.Chtimes(filepath.Join(dir, name), old, old); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(dir, ".doc_new.json.tmp-77")) // being written now
	if err := os.Symlink(outside, filepath.Join(dir, ".doc_link.json.tmp-8")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, ".doc_dir.json.tmp-9"), 0o755); err != nil {
		t.Fatal(err)
	}

	n, err := l.SweepTemporaries(dir, time.Now().Add(-time.Minute))
	if err != nil || n != 2 {
		t.Fatalf("SweepTemporaries = %d, %v; want 2 removed", n, err)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var left []string
	for _, e := range ents {
		left = append(left, e.Name())
	}
	want := []string{".doc_d.json.tmp-12ab", ".doc_dir.json.tmp-9", ".doc_link.json.tmp-8", ".doc_new.json.tmp-77", ".tmp-5", "doc_c.json", "doc_e.json.tmp-6"}
	if !slices.Equal(left, want) {
		t.Errorf("left %v, want %v", left, want)
	}
	if _, err := os.Stat(outside); err != nil {
		t.Errorf("the link's target: %v", err)
	}

	// A day folder replaced by a link to elsewhere is refused, not swept.
	linked := filepath.Join(l.Root, "results", "2026-12-05")
	if err := os.Symlink(filepath.Dir(outside), linked); err != nil {
		t.Fatal(err)
	}
	if _, err := l.SweepTemporaries(linked, time.Now()); !errors.Is(err, ErrUnsafePath) {
		t.Errorf("sweeping a linked folder: %v, want ErrUnsafePath", err)
	}
	if _, err := os.Stat(outside); err != nil {
		t.Errorf("a temporary-looking file behind the link: %v", err)
	}
}
