package ingest

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/samples"
	"github.com/docuparse/docuparse-ingest/internal/store"
)

// scaleSettle is the settle time of these tests' sources.
const scaleSettle = 50 * time.Millisecond

// settledTree writes files documents, perDir a folder, under a new
// folder, and returns it once the last one written has been unchanged for
// scaleSettle (its change time is that old): every file is settled at
// sight for a source with that settle time.
func settledTree(t *testing.T, files, perDir int) string {
	t.Helper()
	root := filepath.Join(t.TempDir(), "inbox")
	if err := samples.WriteTree(root, files, perDir, 1); err != nil {
		t.Fatal(err)
	}
	var newest time.Time
	for i := range files {
		fi, err := os.Lstat(filepath.Join(root, samples.TreeFile(i, perDir)))
		if err != nil {
			t.Fatal(err)
		}
		_, _, ct := sigParts(fi)
		newest = later(newest, ct, fi.ModTime())
	}
	time.Sleep(time.Until(newest.Add(scaleSettle + time.Millisecond))) // until a known instant, not a guess
	return root
}

func sigParts(fi os.FileInfo) (int64, time.Time, time.Time) {
	s := sigOf(fi)
	return s.size, s.mtime, s.id.ChangeTime
}

func later(ts ...time.Time) time.Time {
	var m time.Time
	for _, t := range ts {
		if t.After(m) {
			m = t
		}
	}
	return m
}

// startScaleFolder starts a recursive source on root with scaleSettle and
// the given rescan, sending on out, with hooks as mod sets them.
func startScaleFolder(t *testing.T, root string, rescan time.Duration, out chan Candidate, mod func(*Folder)) (*Folder, *folderLogBuffer) {
	t.Helper()
	logs := &folderLogBuffer{}
	f, err := NewFolder(FolderConfig{Name: "inbox", Root: root, Recursive: true, Settle: scaleSettle, Rescan: rescan,
		Logger: slog.New(slog.NewTextHandler(logs, nil))}, out)
	if err != nil {
		t.Fatal(err)
	}
	if mod != nil {
		mod(f)
	}
	if err := f.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Stop)
	return f, logs
}

// receiveAll receives n candidates and fails on a path received twice.
func receiveAll(t *testing.T, out <-chan Candidate, n int) map[string]Candidate {
	t.Helper()
	got := make(map[string]Candidate)
	deadline := time.After(folderWait)
	for len(got) < n {
		select {
		case c := <-out:
			if _, dup := got[c.Path]; dup {
				t.Fatalf("%s handed on twice", c.Path)
			}
			got[c.Path] = c
		case <-deadline:
			t.Fatalf("%d of %d candidates within the deadline", len(got), n)
		}
	}
	return got
}

// A tree found full at start is handed on while it is listed: by the time
// the listing reaches the last folder, the consumer (a buffer with room)
// already has files, so the first batch does not wait for the whole tree.
func TestFolderHandsFilesOnWhileTheTreeIsListed(t *testing.T) {
	t.Parallel()
	const files, perDir = 40, 10
	root := settledTree(t, files, perDir)
	out := make(chan Candidate, files)
	atLast := make(chan int, 1)
	startScaleFolder(t, root, time.Hour, out, func(f *Folder) {
		dirs := 0
		f.hooks.listing = func(string) {
			if dirs++; dirs == 1+samples.TreeDirs(files, perDir) { // the root, then each folder
				atLast <- len(out)
			}
		}
	})
	if n := <-atLast; n == 0 {
		t.Fatal("nothing was handed on before the listing reached the last folder")
	}
	got := receiveAll(t, out, files)
	for i := range files {
		if _, ok := got[filepath.Join(root, samples.TreeFile(i, perDir))]; !ok {
			t.Errorf("%s not handed on", samples.TreeFile(i, perDir))
		}
	}
}

// While the consumer has no room, a listing keeps the folders whose files
// wait, not one entry per file: after the first listing of a tree nobody
// reads yet, no file is pending in the settle tracker. Every file is then
// handed on once, each folder's in name order, and a later listing hands
// on only what is new.
func TestFolderBacklogHoldsFoldersNotFiles(t *testing.T) {
	t.Parallel()
	const files, perDir = 200, 50
	root := settledTree(t, files, perDir)
	out := make(chan Candidate) // nobody reads until the listing is done
	pending := make(chan int, 1)
	scanned := make(chan struct{}, 1)
	f, _ := startScaleFolder(t, root, time.Hour, out, func(f *Folder) {
		f.hooks.scanned = func() {
			select {
			case pending <- len(f.track.pending):
			default:
			}
			folderNotify(scanned)()
		}
	})
	if n := <-pending; n != 0 {
		t.Fatalf("%d files pending after the first listing, want 0 (their folders wait instead)", n)
	}
	<-scanned
	last := ""
	got := make(map[string]bool)
	for range files {
		select {
		case c := <-out:
			if got[c.Path] {
				t.Fatalf("%s handed on twice", c.Path)
			}
			got[c.Path] = true
			if filepath.Dir(c.Path) == filepath.Dir(last) && c.Path < last {
				t.Errorf("%s after %s: not in name order", c.Path, last)
			}
			last = c.Path
		case <-time.After(folderWait):
			t.Fatalf("%d of %d candidates within the deadline", len(got), files)
		}
	}
	f.Rescan()
	<-scanned
	fresh := filepath.Join(root, "d00001", "new.csv")
	folderWrite(t, fresh, "x")
	if c := receiveAll(t, out, 1); c[fresh].Path != fresh {
		t.Fatalf("after a rescan: got %v, want only the new file", c)
	}
}

// When the kernel's inotify watch limit is reached (here a cap of two
// watches on the real watcher), the source logs one warning naming
// fs.inotify.max_user_watches, however many folders are left unwatched and
// listings run, and a file dropped in an unwatched folder is still found
// by the periodic full listing.
func TestFolderWatchLimitWarnsOnceAndListingsFindFiles(t *testing.T) {
	t.Parallel()
	root := filepath.Join(t.TempDir(), "inbox")
	for _, d := range []string{"a", "b", "c", "d"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	out := make(chan Candidate)
	scanned := make(chan struct{}, 1)
	f, logs := startScaleFolder(t, root, 20*time.Millisecond, out, func(f *Folder) {
		f.watchCap = 2 // the root and one folder
		f.hooks.scanned = folderNotify(scanned)
	})
	<-scanned
	for i, d := range []string{"b", "c", "d"} {
		p := filepath.Join(root, d, fmt.Sprintf("late-%d.pdf", i))
		folderWrite(t, p, "x")
		if c := receiveAll(t, out, 1); c[p].Path != p {
			t.Fatalf("got %v, want %s", c, p)
		}
	}
	for range 3 { // more listings, each meeting the limit again
		folderDrain(scanned)
		<-scanned
	}
	f.Stop()
	if n := logs.Count(`msg="the inotify watch limit`); n != 1 {
		t.Fatalf("%d warnings naming the limit, want 1:\n%s", n, logs)
	}
	if n := logs.Count("cannot watch directory"); n != 0 {
		t.Fatalf("%d per-folder warnings, want none:\n%s", n, logs)
	}
	if !strings.Contains(logs.String(), "sysctl -w fs.inotify.max_user_watches=") {
		t.Fatalf("the warning does not say how to raise the limit:\n%s", logs)
	}
}

// BenchmarkFolderFirstScan times the first full listing of a settled tree
// of 20,000 files in 40 folders, nobody reading the candidates; with
// DOCUPARSE_SCAN_TREE=DIR (e.g. the tree docuparse-bench tree kept), of
// that tree instead.
func BenchmarkFolderFirstScan(b *testing.B) {
	files, perDir := 20_000, 500
	root := os.Getenv("DOCUPARSE_SCAN_TREE")
	if root == "" {
		root = filepath.Join(b.TempDir(), "inbox")
		if err := samples.WriteTree(root, files, perDir, 1); err != nil {
			b.Fatal(err)
		}
		time.Sleep(scaleSettle)
	}
	for b.Loop() {
		scanned := make(chan struct{}, 1)
		f, err := NewFolder(FolderConfig{Name: "inbox", Root: root, Recursive: true, Settle: scaleSettle, Rescan: time.Hour},
			make(chan Candidate))
		if err != nil {
			b.Fatal(err)
		}
		f.hooks.scanned = folderNotify(scanned)
		if err := f.Start(context.Background()); err != nil {
			b.Fatal(err)
		}
		<-scanned
		files = f.scanFiles // read once the goroutine is done
		f.Stop()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*files), "ns/file")
}

// What the tracker keeps per file handed on is what a tree of a million
// files costs for as long as it stays: the paths are not kept, so that is
// under 64 bytes a file whatever their length (a path here is 56 bytes;
// a map of path strings kept about 120 bytes a file, plus the paths).
func TestSettleTrackerKeepsEmittedFilesCompactly(t *testing.T) {
	const n = 200_000
	sig := settleSig{size: 1234, mtime: time.Now(), id: store.FileID{Dev: 1, Inode: 2, ChangeTime: time.Now()}}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	tr := newSettleTracker(time.Second)
	for i := range n {
		tr.markEmitted(fmt.Sprintf("/srv/docuparse/inbox/finance/d%05d/invoice-%08d.pdf", i/500, i), sig)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(tr)
	perFile := float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / n
	if len(tr.emitted.files) != n || perFile > 64 {
		t.Fatalf("%d files kept, %.0f bytes per emitted file: want %d, under 64", len(tr.emitted.files), perFile, n)
	}
	t.Logf("%.0f bytes per emitted file", perFile)
}

// The walk watches each folder before it lists it, and does not watch
// every folder of a level before listing the first: watching (an inotify
// watch and two looks through the pin a folder) overlaps the reading and
// handling of the folders before it.
func TestTheWalkListsFoldersWhileItWatchesTheRest(t *testing.T) {
	t.Parallel()
	const dirs = 4 * readAheadDirs
	root := filepath.Join(t.TempDir(), "inbox")
	for i := range dirs {
		if err := os.MkdirAll(filepath.Join(root, fmt.Sprintf("d%02d", i)), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	var order []string // appended on the source's goroutine, read once scanned
	scanned := make(chan struct{}, 1)
	startScaleFolder(t, root, time.Hour, make(chan Candidate), func(f *Folder) {
		f.hooks.watching = func(dir string) { order = append(order, "watch "+filepath.Base(dir)) }
		f.hooks.listing = func(dir string) { order = append(order, "list "+filepath.Base(dir)) }
		f.hooks.scanned = folderNotify(scanned)
	})
	<-scanned
	at := make(map[string]int, len(order))
	for i, ev := range order {
		at[ev] = i
	}
	last := fmt.Sprintf("d%02d", dirs-1)
	for i := range dirs {
		d := fmt.Sprintf("d%02d", i)
		w, okw := at["watch "+d]
		l, okl := at["list "+d]
		if !okw || !okl || w > l {
			t.Fatalf("%s: watched at %d (%v), listed at %d (%v): want watched, then listed\n%q", d, w, okw, l, okl, order)
		}
	}
	if at["list d00"] > at["watch "+last] {
		t.Fatalf("the first folder was listed only after the last was watched:\n%q", order)
	}
}
