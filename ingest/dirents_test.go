package ingest

import (
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/docuparse/docuparse-ingest/internal/safedir"
)

// listedNames reads dir with readDirents into a buffer of its own and
// returns the names and d_types of its records, "." and ".." included.
func listedNames(t *testing.T, dir string) (map[string]uint8, []byte) {
	t.Helper()
	d, err := os.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	buf, err := readDirents(int(d.Fd()), nil)
	if err != nil {
		t.Fatal(err)
	}
	got := make(map[string]uint8)
	for rest := buf; ; {
		name, typ, n, ok := nextDirent(rest)
		if !ok {
			if len(rest) != 0 {
				t.Fatalf("%d bytes left over after the last record", len(rest))
			}
			return got, buf
		}
		if _, dup := got[string(name)]; dup {
			t.Fatalf("%q listed twice", name)
		}
		got[string(name)] = typ
		rest = rest[n:]
	}
}

// An empty folder lists as "." and ".." only, and a folder of more
// entries than one getdents64 call returns is read whole, every odd name
// intact: a newline, bytes that are not UTF-8, 255 bytes.
func TestReadDirentsReadsWholeFoldersWithOddNames(t *testing.T) {
	empty := t.TempDir()
	if got, _ := listedNames(t, empty); len(got) != 2 || got["."] != unix.DT_DIR || got[".."] != unix.DT_DIR {
		t.Fatalf("empty folder listed as %v", got)
	}

	dir := t.TempDir()
	want := map[string]uint8{".": unix.DT_DIR, "..": unix.DT_DIR}
	for i := range 1500 { // ~120 bytes a record: 180 kB, several reads of direntChunk
		want[fmt.Sprintf("%03d-%s.csv", i, strings.Repeat("n", 90))] = unix.DT_REG
	}
	for _, odd := range []string{"two\nlines.csv", "bad\xff\xfeutf8.csv", strings.Repeat("l", 251) + ".csv", "-", "..x"} {
		want[odd] = unix.DT_REG
	}
	for name := range want {
		if name != "." && name != ".." {
			if err := os.WriteFile(filepath.Join(dir, name), nil, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	want["sub"], want["link"] = unix.DT_DIR, unix.DT_LNK
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("sub", filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	got, buf := listedNames(t, dir)
	if len(buf) <= direntChunk {
		t.Fatalf("the listing took %d bytes: not more than one read's %d", len(buf), direntChunk)
	}
	if len(got) != len(want) {
		t.Errorf("%d entries listed, want %d", len(got), len(want))
	}
	for name, typ := range want {
		if g, ok := got[name]; !ok || g != typ && g != unix.DT_UNKNOWN {
			t.Errorf("%q: listed %v with type %d, want type %d", name, ok, g, typ)
		}
	}
}

// A file system that does not fill d_type in (DT_UNKNOWN) still has its
// entries sorted into files, folders and links, by an lstat from the
// listing's descriptor that follows no link; an entry gone by then is
// left out. The types are rewritten in the records read, as such a file
// system would have given them.
func TestListingLooksAtEntriesOfUnknownType(t *testing.T) {
	root := t.TempDir()
	for _, name := range []string{"file.csv", "gone.csv"} {
		if err := os.WriteFile(filepath.Join(root, name), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(root, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(root, "sub"), filepath.Join(root, "link")); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(root, "fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := NewFolder(FolderConfig{Name: "inbox", Root: root}, make(chan Candidate))
	if err != nil {
		t.Fatal(err)
	}
	if f.pin, err = safedir.Open(root, nil); err != nil {
		t.Fatal(err)
	}
	defer f.pin.Close()
	l := f.readListing(root)
	if l.err != nil {
		t.Fatal(l.err)
	}
	for rest := *l.buf; ; {
		_, _, n, ok := nextDirent(rest)
		if !ok {
			break
		}
		rest[direntTypeOff] = unix.DT_UNKNOWN
		rest = rest[n:]
	}
	if err := os.Remove(filepath.Join(root, "gone.csv")); err != nil {
		t.Fatal(err)
	}

	got := make(map[string]fs.FileMode)
	var sig settleSig
	if err := f.eachListed(root, l, func(e *listedEntry) {
		got[strings.Clone(e.name)] = e.typ
		if e.name == "file.csv" {
			var res statResult
			if sig, res = e.stat(); res != statFound {
				t.Errorf("file.csv looked at: %v", res)
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	want := map[string]fs.FileMode{"file.csv": 0, "sub": fs.ModeDir, "link": fs.ModeSymlink, "fifo": fs.ModeIrregular}
	if !maps.Equal(got, want) {
		t.Fatalf("entries %v, want %v", got, want)
	}
	fi, err := os.Lstat(filepath.Join(root, "file.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if !sig.equal(sigOf(fi)) {
		t.Fatalf("file.csv's signature %+v, want %+v", sig, sigOf(fi))
	}
}

// Files found at start with odd names, in an empty folder's company and in
// a folder of more entries than one read of the listing returns, are each
// handed on once, under their own names.
func TestFolderListsOddNamesPresentAtStart(t *testing.T) {
	rels := []string{
		"two\nlines.pdf",
		"bad\xff\xfeutf8.pdf",
		strings.Repeat("l", 251) + ".pdf",
		"dir\nwith newline/x.pdf",
	}
	for i := range 600 {
		rels = append(rels, fmt.Sprintf("big/%03d-%s.pdf", i, strings.Repeat("n", 100)))
	}
	b := setupFolder(t, func(c *FolderConfig, _ *folderHooks) {
		for _, r := range append(slices.Clone(rels), "empty/") {
			if strings.HasSuffix(r, "/") {
				if err := os.Mkdir(filepath.Join(c.Root, r), 0o755); err != nil {
					t.Fatal(err)
				}
				continue
			}
			folderWrite(t, filepath.Join(c.Root, r), r)
		}
	})
	for _, c := range b.expect(t, rels...) {
		if c.Name != filepath.Base(c.Path) {
			t.Errorf("Name %q is not the base of %q", c.Name, c.Path)
		}
	}
	b.barrier(t)
}

// An entry the listing saw as a file or a folder and that is swapped for a
// symbolic link before it is looked at is never followed: the file is
// handed on as the link itself (intake rejects links), and the folder,
// now a link to a folder outside the inbox, is neither listed nor watched:
// it too is handed on as a link, its target's files never.
func TestAnEntrySwappedForASymlinkAfterTheListingIsNotFollowed(t *testing.T) {
	outside := t.TempDir()
	secret := filepath.Join(outside, "secret.pdf")
	folderWrite(t, secret, "not the inbox's")
	var root string
	b := setupFolder(t, func(c *FolderConfig, h *folderHooks) {
		root = c.Root
		folderWrite(t, filepath.Join(root, "a.pdf"), "a")
		folderWrite(t, filepath.Join(root, "sub", "inner.pdf"), "inner")
		h.listing = func(dir string) {
			if dir != root {
				return
			}
			// The root was read: a.pdf and sub are in its records.
			for _, swap := range [][2]string{{"a.pdf", secret}, {"sub", outside}} {
				p := filepath.Join(root, swap[0])
				if err := os.Rename(p, filepath.Join(outside, "was-"+swap[0])); err != nil {
					t.Error(err)
				}
				if err := os.Symlink(swap[1], p); err != nil {
					t.Error(err)
				}
			}
		}
	})
	got := b.expect(t, "a.pdf", "sub")
	for _, name := range []string{"a.pdf", "sub"} {
		p := filepath.Join(root, name)
		link, err := os.Lstat(p)
		if err != nil {
			t.Fatal(err)
		}
		if link.Mode()&fs.ModeSymlink == 0 || !sameID(got[p], link) {
			t.Fatalf("%s handed on as %+v, not as the link that replaced it", name, got[p].FileID)
		}
	}
	b.barrier(t)
	for _, w := range b.f.watcher.WatchList() {
		if w == filepath.Join(root, "sub") {
			t.Fatalf("sub, swapped for a symlink, is watched")
		}
	}
}

// sameID reports whether c was taken from the file fi describes.
func sameID(c Candidate, fi os.FileInfo) bool {
	s := sigOf(fi)
	return c.FileID.Dev == s.id.Dev && c.FileID.Inode == s.id.Inode
}

// The first listing of a tree that waits for the consumer costs memory
// allocations per folder, not per file: no entry, name or closure is made
// for a file it only counts. (os.ReadDir made two or more per file.)
func TestFirstListingAllocatesPerFolderNotPerFile(t *testing.T) {
	const files, perDir = 10_000, 500
	root := settledTree(t, files, perDir)
	scanned := make(chan struct{}, 1)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f, _ := startScaleFolder(t, root, time.Hour, make(chan Candidate), func(f *Folder) {
		f.hooks.scanned = folderNotify(scanned)
	})
	<-scanned
	runtime.ReadMemStats(&after)
	if f.scanFiles != files {
		t.Fatalf("%d files listed, want %d", f.scanFiles, files)
	}
	perFile := float64(after.Mallocs-before.Mallocs) / files
	t.Logf("%.3f allocations per file listed", perFile)
	if perFile > 0.5 {
		t.Fatalf("%.2f allocations per file listed, want under 0.5", perFile)
	}
}
