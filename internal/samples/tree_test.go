package samples

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestWriteTreeWritesEveryDocumentOnceInItsFolder checks the layout (ceil
// subfolders, perDir a folder, names as TreeFile says), that every document
// parses and is distinct, and that the same seed gives the same bytes.
func TestWriteTreeWritesEveryDocumentOnceInItsFolder(t *testing.T) {
	const files, perDir, seed = 1050, 100, 7
	dir := t.TempDir()
	if err := WriteTree(dir, files, perDir, seed); err != nil {
		t.Fatal(err)
	}
	seen := map[string]string{}
	perFolder := map[string]int{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		content, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if _, err := Parse(rel, content); err != nil {
			t.Errorf("%s does not parse: %v", rel, err)
		}
		if bytes.Contains(content, []byte(FailMarker)) {
			t.Errorf("%s carries the fail marker", rel)
		}
		if other, dup := seen[string(content)]; dup {
			t.Errorf("%s has the same content as %s", rel, other)
		}
		seen[string(content)] = rel
		perFolder[filepath.Dir(rel)]++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) != files {
		t.Fatalf("%d documents, want %d", len(seen), files)
	}
	if len(perFolder) != TreeDirs(files, perDir) || TreeDirs(files, perDir) != 11 {
		t.Fatalf("%d folders, TreeDirs says %d, want 11", len(perFolder), TreeDirs(files, perDir))
	}
	if perFolder["d00000"] != perDir || perFolder["d00010"] != files%perDir {
		t.Fatalf("folder sizes %v", perFolder)
	}
	last := TreeFile(files-1, perDir)
	if !strings.HasPrefix(last, "d00010"+string(filepath.Separator)) {
		t.Fatalf("last document at %s", last)
	}
	content, err := os.ReadFile(filepath.Join(dir, last))
	if err != nil || !bytes.Equal(content, TreeDocument(files-1, seed)) {
		t.Fatalf("%s: %v, or not TreeDocument's bytes", last, err)
	}
	if bytes.Equal(TreeDocument(5, seed), TreeDocument(5, seed+1)) {
		t.Fatal("the seed does not change the content")
	}
}

func TestWriteTreeRejectsBadSizes(t *testing.T) {
	for _, c := range []struct{ files, perDir int }{{10, 0}, {10, -1}, {-1, 10}} {
		if err := WriteTree(t.TempDir(), c.files, c.perDir, 1); err == nil {
			t.Errorf("WriteTree(%d, %d) accepted", c.files, c.perDir)
		}
	}
}

func TestWriteTreeReportsAnUnwritableRoot(t *testing.T) {
	root := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(root, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteTree(root, 10, 5, 1); err == nil {
		t.Fatal("WriteTree under a regular file succeeded")
	}
	if err := WriteTree(filepath.Join(root, "x"), 10, 5, 1); err == nil {
		t.Fatal("WriteTree under a regular file succeeded")
	}
}

func BenchmarkWriteTree(b *testing.B) {
	for b.Loop() {
		if err := WriteTree(b.TempDir(), 10_000, 500, 1); err != nil {
			b.Fatal(err)
		}
	}
}
