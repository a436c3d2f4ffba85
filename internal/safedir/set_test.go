package safedir

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// A reload that drops a folder from the configuration releases its pin
// (its descriptor is closed, not kept for the life of the process); a pin
// still configured stays, and one taken again later is a fresh pin.
// Whoever still holds a released pin gets ErrReplaced — held and tried
// again through the new configuration — never a read through a closed
// descriptor.
func TestRetainReleasesThePinsOfFoldersNoLongerConfigured(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	mkdirs(t, a, b)
	if err := os.WriteFile(filepath.Join(b, "x.pdf"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := NewSet(nil)
	defer s.Close()
	if _, err := s.Pin(a); err != nil {
		t.Fatal(err)
	}
	db, err := s.Pin(b)
	if err != nil {
		t.Fatal(err)
	}
	s.Retain([]string{a + "/"})
	if got := s.Paths(); !slices.Equal(got, []string{a}) {
		t.Fatalf("pinned after Retain(a): %q, want only %s", got, a)
	}
	if _, err := db.OpenFile(filepath.Join(b, "x.pdf"), os.O_RDONLY); !errors.Is(err, ErrReplaced) {
		t.Fatalf("open through a released pin: %v, want ErrReplaced", err)
	}
	again, err := s.Pin(b)
	if err != nil || again == db {
		t.Fatalf("pin b again: %v (same released pin: %v)", err, again == db)
	}
	f, err := again.OpenFile(filepath.Join(b, "x.pdf"), os.O_RDONLY)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
}
