package ingest

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/docuparse/docuparse-ingest/internal/testpriv"
)

// Root lists every directory, so .ci/run runs this test as nobody (see
// internal/testpriv).
func TestUnprivilegedFolderSkipsUnreadableSubdirectoriesAndSaysSoOnce(t *testing.T) {
	testpriv.Require(t)
	b := setupFolder(t, nil)
	locked := filepath.Join(b.root, "locked")
	folderWrite(t, filepath.Join(locked, "secret.pdf"), "x")
	if err := os.Chmod(locked, 0); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Chmod(locked, 0o755) })
	b.rescan(t)
	b.rescan(t)
	folderWrite(t, filepath.Join(b.root, "fine.pdf"), "x")
	b.expect(t, "fine.pdf")
	if n := b.logs.Count("level=WARN"); n != 1 || b.logs.Count("cannot list directory") != 1 {
		t.Fatalf("logged %d warnings, want one:\n%s", n, b.logs.String())
	}
	if err := os.Chmod(locked, 0o755); err != nil {
		t.Fatal(err)
	}
	b.rescan(t)
	b.expect(t, "locked/secret.pdf")
	if n := b.logs.Count("problem resolved"); n != 1 {
		t.Fatalf("logged %d recoveries, want one", n)
	}
}

// A subfolder that cannot be read for a while keeps what was handed on
// from it: one that cannot be listed at all (mode 0: a full listing does
// not know whether its files are gone), and one readable but not
// searchable (mode r--, or a security policy: its names are listed, its
// files cannot be looked at). Readable again, its unchanged file is not
// offered again.
func TestUnprivilegedFolderKeepsWhatItHandedOnFromASubfolderItCannotReadForAWhile(t *testing.T) {
	testpriv.Require(t)
	for _, c := range []struct {
		name string
		mode os.FileMode
	}{{"unlistable", 0}, {"unsearchable", 0o444}} {
		t.Run(c.name, func(t *testing.T) {
			b := setupFolder(t, nil)
			sub := filepath.Join(b.root, "sub")
			folderWrite(t, filepath.Join(sub, "a.pdf"), "x")
			b.expect(t, "sub/a.pdf")
			if err := os.Chmod(sub, c.mode); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = os.Chmod(sub, 0o755) })
			b.rescan(t)
			if err := os.Chmod(sub, 0o755); err != nil {
				t.Fatal(err)
			}
			b.rescan(t)
			b.noneUntilTick(t)
			b.noneUntilTick(t)
			folderWrite(t, filepath.Join(b.root, "marker.pdf"), "x")
			b.expect(t, "marker.pdf")
		})
	}
}
