package ingest

import (
	"context"
	"errors"
	"fmt"
	"github.com/docuparse/docuparse-ingest/internal/testlog"
	"github.com/docuparse/docuparse-ingest/internal/teststop"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"
	"golang.org/x/sys/unix"
)

const folderWait = 10 * time.Second // deadline for anything a test waits on

// folderBundle is a started folder source on a real temporary directory,
// with the signals its test hooks send.
type folderBundle struct {
	f       *Folder
	root    string
	out     chan Candidate
	scanned chan struct{} // a full listing finished
	ticked  chan struct{} // a settle check finished
	sending chan Candidate
	logs    *folderLogBuffer
	n       int // barrier counter
}

// setupFolder starts a folder source on a fresh directory with a 50 ms
// settle time and no periodic rescan, lets mod adjust the configuration
// and hooks, and waits for the initial listing.
func setupFolder(t *testing.T, mod func(*FolderConfig, *folderHooks)) *folderBundle {
	t.Helper()
	t.Parallel()
	b := &folderBundle{
		root:    filepath.Join(t.TempDir(), "inbox"),
		out:     make(chan Candidate),
		scanned: make(chan struct{}, 1),
		ticked:  make(chan struct{}, 1),
		sending: make(chan Candidate, 1),
		logs:    &folderLogBuffer{},
	}
	if err := os.Mkdir(b.root, 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := FolderConfig{
		Name:      "inbox",
		Root:      b.root,
		Recursive: true,
		Settle:    50 * time.Millisecond,
		Rescan:    time.Hour,
		Logger:    slog.New(slog.NewTextHandler(b.logs, nil)),
	}
	hooks := folderHooks{
		scanned: folderNotify(b.scanned),
		ticked:  folderNotify(b.ticked),
		sending: func(c Candidate) {
			select {
			case b.sending <- c:
			default:
			}
		},
	}
	if mod != nil {
		mod(&cfg, &hooks)
	}
	f, err := NewFolder(cfg, b.out)
	if err != nil {
		t.Fatalf("NewFolder: %v", err)
	}
	f.hooks = hooks
	b.f = f
	if err := f.Start(context.Background()); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(f.Stop)
	b.waitScan(t)
	return b
}

// folderNotify returns a func that signals ch without ever blocking.
func folderNotify(ch chan struct{}) func() {
	return func() {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

func folderDrain(ch chan struct{}) {
	select {
	case <-ch:
	default:
	}
}

func (b *folderBundle) waitScan(t *testing.T) {
	t.Helper()
	select {
	case <-b.scanned:
	case <-time.After(folderWait):
		t.Fatal("no full listing within the deadline")
	}
}

// rescan asks for a full listing and waits until it is done.
func (b *folderBundle) rescan(t *testing.T) {
	t.Helper()
	folderDrain(b.scanned)
	b.f.Rescan()
	b.waitScan(t)
}

// expect receives candidates until it has one for each path (relative to
// the root), failing on any other.
func (b *folderBundle) expect(t *testing.T, rels ...string) map[string]Candidate {
	t.Helper()
	want := make(map[string]bool)
	for _, r := range rels {
		want[filepath.Join(b.root, r)] = true
	}
	got := make(map[string]Candidate)
	deadline := time.After(folderWait)
	for len(got) < len(want) {
		select {
		case c := <-b.out:
			if !want[c.Path] {
				t.Fatalf("unexpected candidate %q (waiting for %q)", c.Path, rels)
			}
			if _, dup := got[c.Path]; dup {
				t.Fatalf("candidate %q emitted twice", c.Path)
			}
			got[c.Path] = c
		case <-deadline:
			t.Fatalf("got %d of %d candidates %q within the deadline", len(got), len(want), rels)
		}
	}
	return got
}

// barrier proves that nothing else is on its way: it writes a new file,
// then fails on any candidate other than that file, up to the end of the
// settle check that emitted it. Anything pending since before the barrier
// is due no later than the barrier itself.
func (b *folderBundle) barrier(t *testing.T) {
	t.Helper()
	b.n++
	name := fmt.Sprintf("zz-barrier-%d.pdf", b.n)
	path := filepath.Join(b.root, name)
	folderWrite(t, path, "barrier")
	deadline := time.After(folderWait)
	for {
		select {
		case c := <-b.out:
			if c.Path != path {
				t.Fatalf("unexpected candidate %q", c.Path)
			}
			folderDrain(b.ticked) // a stale signal from an earlier check
			for {
				select {
				case c := <-b.out:
					t.Fatalf("unexpected candidate %q", c.Path)
				case <-b.ticked:
					return
				case <-deadline:
					t.Fatal("settle check did not finish within the deadline")
				}
			}
		case <-deadline:
			t.Fatalf("barrier %s not emitted within the deadline", name)
		}
	}
}

func folderWrite(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// folderLogBuffer collects log output written from other goroutines.
type folderLogBuffer = testlog.Buffer

func TestFolderEmitsAFileCopiedIn(t *testing.T) {
	b := setupFolder(t, nil)
	src := filepath.Join(t.TempDir(), "source.pdf")
	folderWrite(t, src, "%PDF-1.7 invoice")

	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	dst, err := os.Create(filepath.Join(b.root, "invoice.pdf"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, in); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(dst.Name())
	if err != nil {
		t.Fatal(err)
	}

	c := b.expect(t, "invoice.pdf")[dst.Name()]
	want := Candidate{Source: "inbox", Path: dst.Name(), Name: "invoice.pdf", Size: 16, ModTime: fi.ModTime()}
	if c.Source != want.Source || c.Path != want.Path || c.Name != want.Name || c.Size != want.Size || !c.ModTime.Equal(want.ModTime) {
		t.Fatalf("candidate = %+v, want %+v", c, want)
	}
	b.barrier(t)
}

func TestFolderEmitsAFileRenamedInFromOutside(t *testing.T) {
	b := setupFolder(t, nil)
	src := filepath.Join(t.TempDir(), "outside.pdf")
	folderWrite(t, src, "content")
	if err := os.Rename(src, filepath.Join(b.root, "moved.pdf")); err != nil {
		t.Fatal(err)
	}
	b.expect(t, "moved.pdf")

	// rsync writes a hidden temporary name, then renames it into place.
	tmp := filepath.Join(b.root, ".report.pdf.Xa81Qz")
	folderWrite(t, tmp, "rsync")
	if err := os.Rename(tmp, filepath.Join(b.root, "report.pdf")); err != nil {
		t.Fatal(err)
	}
	b.expect(t, "report.pdf")
	b.barrier(t)
}

func TestFolderWatchesNewSubfoldersAndTheFilesCreatedInThemAtOnce(t *testing.T) {
	b := setupFolder(t, nil)
	folderWrite(t, filepath.Join(b.root, "new", "a.pdf"), "a")
	b.expect(t, "new/a.pdf")

	// Nested directories and files, created faster than watches can be set.
	rels := []string{"x/1.pdf", "x/y/2.pdf", "x/y/z/3.pdf", "x/y/z/w/4.pdf"}
	for _, r := range rels {
		folderWrite(t, filepath.Join(b.root, r), r)
	}
	b.expect(t, rels...)

	// A whole tree moved in from outside.
	outside := filepath.Join(t.TempDir(), "batch")
	folderWrite(t, filepath.Join(outside, "p.pdf"), "p")
	folderWrite(t, filepath.Join(outside, "q", "r.pdf"), "r")
	if err := os.Rename(outside, filepath.Join(b.root, "batch")); err != nil {
		t.Fatal(err)
	}
	b.expect(t, "batch/p.pdf", "batch/q/r.pdf")

	// The new directories are watched: later files are seen too.
	folderWrite(t, filepath.Join(b.root, "x/y/z/w/5.pdf"), "5")
	folderWrite(t, filepath.Join(b.root, "batch/q/6.pdf"), "6")
	b.expect(t, "x/y/z/w/5.pdf", "batch/q/6.pdf")
	b.barrier(t)
}

func TestFolderInitialListingFindsFilesPresentBeforeStart(t *testing.T) {
	var root string
	b := setupFolder(t, func(c *FolderConfig, _ *folderHooks) {
		root = c.Root
		folderWrite(t, filepath.Join(root, "early.pdf"), "x")
		folderWrite(t, filepath.Join(root, "sub", "early2.pdf"), "x")
	})
	b.expect(t, "early.pdf", "sub/early2.pdf")
	folderWrite(t, filepath.Join(root, "sub", "later.pdf"), "x") // sub is watched
	b.expect(t, "sub/later.pdf")
	b.barrier(t)
}

func TestFolderRescanFindsFilesWhoseEventsWereMissed(t *testing.T) {
	b := setupFolder(t, func(_ *FolderConfig, h *folderHooks) {
		h.ignoreEvents = true
	})
	folderWrite(t, filepath.Join(b.root, "missed.pdf"), "x")
	folderWrite(t, filepath.Join(b.root, "newdir", "missed2.pdf"), "x")
	b.rescan(t)
	b.expect(t, "missed.pdf", "newdir/missed2.pdf")
}

func TestFolderWatcherOverflowTriggersAFullListing(t *testing.T) {
	b := setupFolder(t, func(_ *FolderConfig, h *folderHooks) {
		h.ignoreEvents = true
	})
	folderWrite(t, filepath.Join(b.root, "lost.pdf"), "x")
	for i := 0; i < 3; i++ {
		b.f.watcher.Errors <- fsnotify.ErrEventOverflow // as the kernel would report it
	}
	b.expect(t, "lost.pdf")
	if n := b.logs.Count("folder watcher error"); n < 1 || n > 3 {
		t.Fatalf("logged %d watcher errors", n)
	}
}

func TestFolderPeriodicRescanFindsFilesWhoseEventsWereMissed(t *testing.T) {
	b := setupFolder(t, func(c *FolderConfig, h *folderHooks) {
		c.Rescan = 20 * time.Millisecond
		h.ignoreEvents = true
	})
	folderWrite(t, filepath.Join(b.root, "found.pdf"), "x")
	b.expect(t, "found.pdf")
}

func TestFolderHandlesOddNames(t *testing.T) {
	b := setupFolder(t, nil)
	rels := []string{
		"with space.pdf",
		"Rechnung März – 2026.pdf",
		"请求书.pdf",
		"two\nlines.pdf",
		"bad\xff\xfeutf8.pdf",
		strings.Repeat("l", 251) + ".pdf", // 255 bytes, the usual maximum
		"dir with space/ünïcode\n/x.pdf",
	}
	for _, r := range rels {
		folderWrite(t, filepath.Join(b.root, r), r)
	}
	got := b.expect(t, rels...)
	for _, c := range got {
		if c.Name != filepath.Base(c.Path) {
			t.Errorf("Name %q is not the base of %q", c.Name, c.Path)
		}
	}
	b.rescan(t)
	b.barrier(t)
}

func TestFolderHandlesRemovedAndRenamedDirectories(t *testing.T) {
	b := setupFolder(t, nil)
	folderWrite(t, filepath.Join(b.root, "a", "old.pdf"), "x")
	folderWrite(t, filepath.Join(b.root, "a", "sub", "s.pdf"), "x")
	folderWrite(t, filepath.Join(b.root, "gone", "g.pdf"), "x")
	b.expect(t, "a/old.pdf", "a/sub/s.pdf", "gone/g.pdf")

	// Renamed: the files are at new paths, and the watches follow.
	if err := os.Rename(filepath.Join(b.root, "a"), filepath.Join(b.root, "b")); err != nil {
		t.Fatal(err)
	}
	b.expect(t, "b/old.pdf", "b/sub/s.pdf")
	folderWrite(t, filepath.Join(b.root, "b", "new.pdf"), "x")
	folderWrite(t, filepath.Join(b.root, "b", "sub", "n.pdf"), "x")
	b.expect(t, "b/new.pdf", "b/sub/n.pdf")

	// Removed and created again.
	if err := os.RemoveAll(filepath.Join(b.root, "gone")); err != nil {
		t.Fatal(err)
	}
	folderWrite(t, filepath.Join(b.root, "gone", "again.pdf"), "x")
	b.expect(t, "gone/again.pdf")

	b.rescan(t)
	b.barrier(t)
	want := map[string]bool{b.root: true}
	for _, r := range []string{"b", "b/sub", "gone"} {
		want[filepath.Join(b.root, r)] = true
	}
	got := b.f.watcher.WatchList() // safe from any goroutine
	if len(got) != len(want) {
		t.Errorf("watching %q, want %d directories", got, len(want))
	}
	for _, p := range got {
		if !want[p] {
			t.Errorf("stale watch on %q", p)
		}
	}
}

// A root removed, or replaced by another folder, is refused (one ERROR per
// change, Healthy fails) and nothing in its place is listed; once the
// pinned folder is back it is listed and watched again.
func TestFolderRefusesItsRootReplacedUntilTheOriginalIsBack(t *testing.T) {
	b := setupFolder(t, nil)
	folderWrite(t, filepath.Join(b.root, "a.pdf"), "x")
	b.expect(t, "a.pdf")

	aside := b.root + ".old"
	if err := os.Rename(b.root, aside); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		b.rescan(t)
	}
	folderWrite(t, filepath.Join(b.root, "planted.pdf"), "x") // another folder at the path
	for i := 0; i < 2; i++ {
		b.rescan(t)
	}
	folderDrain(b.ticked)
	b.noneUntilTick(t)
	if b.f.Healthy() == nil {
		t.Fatal("a replaced root is reported healthy")
	}
	if n := b.logs.Count("level=ERROR"); n != 2 {
		t.Fatalf("%d ERROR lines for two changes of the root (missing, another folder), want 2:\n%s", n, b.logs.String())
	}

	if err := os.RemoveAll(b.root); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(aside, b.root); err != nil {
		t.Fatal(err)
	}
	b.rescan(t)
	b.expect(t, "a.pdf")                                             // offered again; intake knows it
	folderWrite(t, filepath.Join(b.root, "sub", "watched.pdf"), "x") // watched again
	b.expect(t, "sub/watched.pdf")
}

// noneUntilTick fails on any candidate sent before the next settle check ends.
func (b *folderBundle) noneUntilTick(t *testing.T) {
	t.Helper()
	select {
	case c := <-b.out:
		t.Fatalf("unexpected candidate %q", c.Path)
	case <-b.ticked:
	case <-time.After(folderWait):
		t.Fatal("settle check did not finish within the deadline")
	}
}

// Stop returns, twice and before Start; a stopped source has no goroutine
// left, is not running and cannot be started again. Not parallel (unlike
// setupFolder): the goroutine check must not see other tests' folders.
func TestFolderStopIsSafeTwiceAndBeforeStart(t *testing.T) {
	const frame = "(*Folder)."
	before := teststop.Goroutines(frame)
	scanned := make(chan struct{}, 1)
	f, err := NewFolder(FolderConfig{Name: "inbox", Root: t.TempDir(), Rescan: time.Hour}, make(chan Candidate))
	if err != nil {
		t.Fatal(err)
	}
	f.hooks.scanned = folderNotify(scanned)
	if err := f.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Stop)
	select {
	case <-scanned:
	case <-time.After(folderWait):
		t.Fatal("no full listing within the deadline")
	}
	if !f.Running() || teststop.Count(frame, before) == 0 {
		t.Fatalf("started source: Running() = %v and no goroutine found: the checks below could not fail", f.Running())
	}
	teststop.Within(t, "Stop", f.Stop)
	teststop.Within(t, "a second Stop", f.Stop)
	if left := teststop.Left(frame, before); left != "" || f.Running() {
		t.Fatalf("after Stop: Running() = %v, goroutines still running:\n%s", f.Running(), left)
	}
	if err := f.Start(context.Background()); err == nil {
		t.Fatal("Start after Stop succeeded")
	}

	f, err = NewFolder(FolderConfig{Name: "x", Root: t.TempDir()}, make(chan Candidate))
	if err != nil {
		t.Fatal(err)
	}
	teststop.Within(t, "Stop before Start", f.Stop)
	teststop.Within(t, "a second Stop before Start", f.Stop)
	if err := f.Start(context.Background()); err == nil || f.Running() {
		t.Fatalf("Start after Stop: %v, Running() = %v; want refused", err, f.Running())
	}
}

func TestFolderStopReturnsWhileTheConsumerIsNotReading(t *testing.T) {
	b := setupFolder(t, nil)
	folderWrite(t, filepath.Join(b.root, "unread.pdf"), "x")
	select {
	case <-b.sending: // the goroutine is now blocked sending on b.out
	case <-time.After(folderWait):
		t.Fatal("no send within the deadline")
	}
	stopped := make(chan struct{})
	go func() {
		b.f.Stop()
		close(stopped)
	}()
	select {
	case <-stopped:
	case <-time.After(folderWait):
		t.Fatal("Stop blocked behind a send nobody reads")
	}
}

func TestFolderStopsWhenItsContextEnds(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	f, err := NewFolder(FolderConfig{Name: "x", Root: t.TempDir()}, make(chan Candidate))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	f.hooks.ended = func() { close(done) }
	if err := f.Start(ctx); err != nil {
		t.Fatal(err)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(folderWait):
		t.Fatal("still running after its context ended")
	}
	f.Stop()
}

func TestNewFolderRejectsBadConfiguration(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	folderWrite(t, file, "x")
	out := make(chan Candidate)
	tests := []struct {
		name    string
		cfg     FolderConfig
		out     chan Candidate
		wantErr string
	}{
		{"a relative root", FolderConfig{Name: "n", Root: "inbox"}, out, "not an absolute path"},
		{"a missing root", FolderConfig{Name: "n", Root: filepath.Join(dir, "nope")}, out, "no such file"},
		{"a file as root", FolderConfig{Name: "n", Root: file}, out, "not a directory"},
		{"no root", FolderConfig{Name: "n"}, out, "root: required"},
		{"no name", FolderConfig{Root: dir}, out, "name: required"},
		{"a bad include", FolderConfig{Name: "n", Root: dir, Include: []string{"[x"}}, out, "include[0]"},
		{"a negative settle", FolderConfig{Name: "n", Root: dir, Settle: -time.Second}, out, "settle: negative"},
		{"a negative rescan", FolderConfig{Name: "n", Root: dir, Rescan: -time.Second}, out, "rescan: negative"},
		{"no output channel", FolderConfig{Name: "n", Root: dir}, nil, "output channel is nil"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var o chan<- Candidate
			if tt.out != nil {
				o = tt.out
			}
			_, err := NewFolder(tt.cfg, o)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestFolderStartFailsWhenTheRootCannotBeWatched(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	f, err := NewFolder(FolderConfig{Name: "x", Root: root}, make(chan Candidate))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(root); err != nil {
		t.Fatal(err)
	}
	err = f.Start(context.Background())
	if err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Start = %v, want a not-exist error", err)
	}
	f.Stop()
}

// A different file copied over an emitted one with the same size and
// modification time (cp -p, rsync -t) is emitted again: its change time
// (and, for a new file, its inode) differs.
func TestFolderEmitsAFileRewrittenWithTheSameSizeAndMtime(t *testing.T) {
	b := setupFolder(t, nil)
	p := filepath.Join(b.root, "a.pdf")
	folderWrite(t, p, "first")
	first := b.expect(t, "a.pdf")[p]
	folderWrite(t, p, "other")
	if err := os.Chtimes(p, first.ModTime, first.ModTime); err != nil {
		t.Fatal(err)
	}
	again := b.expect(t, "a.pdf")[p]
	if again.Size != first.Size || !again.ModTime.Equal(first.ModTime) || again.FileID == first.FileID {
		t.Fatalf("re-emitted as %+v after %+v: want the same size and mtime, another change time", again, first)
	}
}

// A file whose path is longer than PATH_MAX cannot be opened by path: it is
// skipped, and said so once, not silently.
func TestFolderSaysOnceThatItSkipsAFileDeeperThanPathMax(t *testing.T) {
	b := setupFolder(t, nil)
	// Folders made one at a time from descriptors, so their path may grow
	// past PATH_MAX; the file's path crosses it, its folder's does not.
	dir, err := unix.Open(b.root, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	depth := 0 // of the path below the root, which is what the pin opens
	name := strings.Repeat("d", 100)
	for depth+len(name)+1 < unix.PathMax-100 {
		if err := unix.Mkdirat(dir, name, 0o755); err != nil {
			t.Fatal(err)
		}
		next, err := unix.Openat(dir, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		unix.Close(dir)
		if err != nil {
			t.Fatal(err)
		}
		dir, depth = next, depth+len(name)+1
	}
	fd, err := unix.Openat(dir, strings.Repeat("f", 246)+".pdf", unix.O_WRONLY|unix.O_CREAT|unix.O_CLOEXEC, 0o644)
	unix.Close(dir)
	if err != nil {
		t.Fatal(err)
	}
	unix.Close(fd)
	b.rescan(t)
	b.rescan(t)
	if n := b.logs.Count("PATH_MAX"); n != 1 {
		t.Fatalf("%d lines about the too-deep file, want 1:\n%s", n, b.logs.String())
	}
}

// An after-action's delete renames the file to a quarantine name before it
// checks and unlinks it (internal/export): the folder never offers that
// name, even with an empty exclude list, so a file left there by a crash
// is never taken in as a new document.
func TestFolderNeverOffersAnAfterActionsQuarantineName(t *testing.T) {
	var root string
	b := setupFolder(t, func(c *FolderConfig, _ *folderHooks) {
		c.Exclude = []string{}
		root = c.Root
		folderWrite(t, filepath.Join(root, ".docuparse-deleting-3"), "x")
	})
	folderWrite(t, filepath.Join(root, "sub", ".docuparse-deleting-4"), "x")
	folderWrite(t, filepath.Join(root, ".hidden.pdf"), "x")
	b.expect(t, ".hidden.pdf")
	b.rescan(t)
	b.barrier(t)
}

// fsnotify watches by path and follows symbolic links. A subfolder swapped
// for a link between its listing and its watch must not get a watch (on
// the link's target, outside the inbox): only a folder the pin shows is
// the real directory that was listed is watched.
func TestASubfolderSwappedForASymlinkIsNotWatched(t *testing.T) {
	outside := t.TempDir()
	var sub string
	var once sync.Once
	b := setupFolder(t, func(c *FolderConfig, h *folderHooks) {
		sub = filepath.Join(c.Root, "sub")
		if err := os.Mkdir(sub, 0o755); err != nil {
			t.Fatal(err)
		}
		h.watching = func(dir string) {
			if dir != sub {
				return
			}
			once.Do(func() {
				if err := os.Rename(sub, filepath.Join(outside, "was-sub")); err != nil {
					t.Error(err)
				}
				if err := os.Symlink(outside, sub); err != nil {
					t.Error(err)
				}
			})
		}
	})
	for _, w := range b.f.watcher.WatchList() {
		if w == sub {
			t.Fatalf("%s, swapped for a symlink, is watched (its target, outside the inbox)", sub)
		}
	}
}
