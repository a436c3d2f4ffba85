package ingest

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/docuparse/docuparse-ingest/internal/lifecycle"
	"github.com/docuparse/docuparse-ingest/internal/safedir"
)

// FolderConfig configures a folder source.
type FolderConfig struct {
	// Name is the source name from the configuration, copied into every
	// Candidate. Required.
	Name string
	// Root is the absolute path of the directory to watch. It must be an
	// existing directory (or a symlink to one).
	Root string
	// Include lists glob patterns (path.Match syntax) matched
	// case-insensitively against a file's base name; a file must match one.
	// Empty means every file.
	Include []string
	// Exclude lists patterns in the same syntax, matched case-insensitively
	// against the base name of files and of directories (an excluded
	// directory is neither watched nor listed). Defaults to DefaultExclude
	// when nil; an empty, non-nil slice excludes nothing.
	Exclude []string
	// Recursive watches and lists every subdirectory too. Defaults to false.
	Recursive bool
	// Settle is how long a file's size and modification time must be seen
	// unchanged before it is emitted. Defaults to 2 seconds.
	Settle time.Duration
	// Rescan is the interval of the periodic full listing, the safety net
	// for missed events. Defaults to 60 seconds.
	Rescan time.Duration
	// Logger receives warnings about directories that cannot be watched or
	// listed and about watcher errors. Defaults to discarding everything.
	Logger *slog.Logger
	// Pins holds the pinned folders shared with intake, the uploads and the
	// after-actions (see internal/safedir). Nil: the source pins its Root
	// on its own at Start.
	Pins *safedir.Set
	// FirstListings, when set, is told when the source's first full
	// listing is done (or the source stopped), for intake to wait for.
	FirstListings *FirstListings
}

// Folder watches a directory tree and sends each settled file on its output
// channel as a Candidate.
//
// fsnotify events are treated as hints: a full listing at Start, after any
// watcher error (such as fsnotify.ErrEventOverflow) and every Rescan interval
// is the truth. A path is emitted once its size and modification time have
// been seen unchanged for Settle — at once when a listing finds its
// modification and change times both older than Settle — and emitted again
// only if they change. A listing hands files on as it finds them while the
// consumer has room; a directory whose files wait for room is listed again
// later (the backlog), so that a tree found full at start is listed at the
// file system's speed and held in memory as directories, not files.
// A file renamed within the tree is a new path and is emitted again, and
// after a restart every file present is emitted again: recognising content
// already processed is the consumer's job. Paths are Root joined with the
// names below it; a symlinked Root is not resolved.
//
// Root is pinned at Start (internal/safedir) and every listing and stat
// goes through the pin, following no symbolic link: a Root that was
// replaced (swapped for a symlink, removed, another folder) is not listed
// until the pinned folder is back, and Healthy reports it.
//
// Only regular files and symlinks are emitted. A symlink (whatever it
// points at, even nothing) is emitted as itself — its own size and times —
// and its target is never looked at, not even stat'ed; intake records it
// rejected as a link, without reading. Symlinks are not descended into;
// devices, FIFOs and sockets are ignored. Directories that cannot be listed
// or watched, and files whose path is longer than PATH_MAX, are logged once
// and skipped. A temporary error (descriptors, memory) while looking keeps
// what is tracked as it is: a file is looked at again, never forgotten on
// it.
type Folder struct {
	cfg     FolderConfig
	out     chan<- Candidate
	log     *slog.Logger
	match   folderMatcher
	tick    time.Duration // settle check interval
	rescanC chan struct{}
	hooks   folderHooks // set by tests before Start

	mu      sync.Mutex
	started bool // Start succeeded, or Stop was called
	running bool // Start succeeded
	stopped bool
	group   lifecycle.Group // the watcher goroutine

	// Owned by the watcher goroutine once started.
	quit    <-chan struct{}
	pin     *safedir.Dir // Root, pinned at Start
	ownPins bool         // cfg.Pins was nil: the pin is closed at the end
	watcher *fsnotify.Watcher
	watched map[string]os.FileInfo // directories with a watch, as they were when watched
	track   *settleTracker
	warned  map[folderWarnKey]struct{}
	rootOK  atomic.Bool // the root was listed by the last full scan

	firstScanDone bool      // owned by the run goroutine
	startedAt     time.Time // set by Start
	watchErrs     int       // watcher errors since the last full listing

	firstListed  func()        // says the first full listing is done (FirstListings)
	backlog      folderBacklog // directories whose settled files wait for room
	scanFiles    int           // wanted files found by the current full listing
	unwatched    int           // folders the current full listing could not watch for the limit
	watchLimited bool          // a watch was refused for the limit since the last full listing began
	watchCap     int           // tests: above this many watches, Add fails as at the kernel's limit
}

// folderHooks lets tests in this package wait on signals instead of sleeping.
// Every func runs on the watcher goroutine.
type folderHooks struct {
	scanned      func()           // after each full listing
	ticked       func()           // after each settle check
	sending      func(Candidate)  // just before a Candidate is sent
	watching     func(dir string) // just before a directory's watch is set up
	listing      func(dir string) // just before a directory's listing is handled
	ignoreEvents bool             // drop fsnotify events, as if they were missed
	ended        func()           // after the watcher goroutine has cleaned up
}

// folderWarnKey names one problem already logged, so it is logged once.
type folderWarnKey struct {
	what string // "watch", "list", "root" or "long"
	path string
}

// NewFolder checks cfg and returns a folder source that will send on out.
// It does not touch the file system beyond checking that Root is a
// directory.
func NewFolder(cfg FolderConfig, out chan<- Candidate) (*Folder, error) {
	var errs []error
	if cfg.Name == "" {
		errs = append(errs, errors.New("name: required"))
	}
	if out == nil {
		errs = append(errs, errors.New("output channel is nil"))
	}
	if cfg.Settle < 0 {
		errs = append(errs, fmt.Errorf("settle: negative duration %s", cfg.Settle))
	}
	if cfg.Rescan < 0 {
		errs = append(errs, fmt.Errorf("rescan: negative duration %s", cfg.Rescan))
	}
	match, err := newFolderMatcher(cfg.Include, cfg.Exclude)
	if err != nil {
		errs = append(errs, err)
	}
	switch {
	case cfg.Root == "":
		errs = append(errs, errors.New("root: required"))
	case !filepath.IsAbs(cfg.Root):
		errs = append(errs, fmt.Errorf("root: %q is not an absolute path", cfg.Root))
	default:
		cfg.Root = filepath.Clean(cfg.Root)
		if fi, err := os.Stat(cfg.Root); err != nil {
			errs = append(errs, fmt.Errorf("root: %w", err))
		} else if !fi.IsDir() {
			errs = append(errs, fmt.Errorf("root: %s is not a directory", cfg.Root))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("folder source %q: %w", cfg.Name, err)
	}

	if cfg.Settle == 0 {
		cfg.Settle = 2 * time.Second
	}
	if cfg.Rescan == 0 {
		cfg.Rescan = 60 * time.Second
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Folder{
		cfg:     cfg,
		out:     out,
		log:     log.With("source", cfg.Name),
		match:   match,
		tick:    max(cfg.Settle/4, 10*time.Millisecond),
		rescanC: make(chan struct{}, 1),
		watched: make(map[string]os.FileInfo),
		track:   newSettleTracker(cfg.Settle),
		warned:  make(map[folderWarnKey]struct{}),

		firstListed: cfg.FirstListings.add(),
	}, nil
}

// Start sets up the watch on Root and returns; the initial full listing,
// the events and the periodic listings run on a goroutine until ctx is done
// or Stop is called. It fails if Root cannot be watched, or if the source
// was already started or stopped.
func (f *Folder) Start(ctx context.Context) (err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.started {
		return fmt.Errorf("folder source %q: already started or stopped", f.cfg.Name)
	}
	defer func() {
		if err != nil {
			// It lists nothing: intake is not kept waiting for it (a
			// later Start that succeeds is not waited for either).
			f.firstListed()
		}
	}()
	root := f.cfg.Root
	pins := f.cfg.Pins
	if pins == nil {
		pins, f.ownPins = safedir.NewSet(f.log), true
	}
	pin, err := pins.Pin(root)
	if err != nil {
		return fmt.Errorf("folder source %q: %w", f.cfg.Name, err)
	}
	fi, err := pin.Lstat(root)
	if err != nil {
		f.closePin(pin)
		return fmt.Errorf("folder source %q: %w", f.cfg.Name, err)
	}
	f.startedAt = time.Now()
	w, err := fsnotify.NewWatcher()
	if err != nil {
		f.closePin(pin)
		return fmt.Errorf("folder source %q: create watcher: %w", f.cfg.Name, err)
	}
	if err := w.Add(root); err != nil {
		_ = w.Close()
		f.closePin(pin)
		return fmt.Errorf("folder source %q: watch %s: %w", f.cfg.Name, root, err)
	}
	f.watcher, f.pin = w, pin
	f.watched[root] = fi

	f.started, f.running = true, true
	f.group.Go(ctx, func(ctx context.Context) {
		f.quit = ctx.Done()
		f.run(ctx)
		if f.hooks.ended != nil {
			f.hooks.ended()
		}
	})
	return nil
}

// Stop stops the source and waits until its goroutine has returned, which
// includes abandoning a send the consumer is not reading. Safe to call more
// than once, and before Start.
func (f *Folder) Stop() {
	defer f.firstListed()
	f.mu.Lock()
	f.started = true // a stopped source cannot be started
	f.stopped = true
	f.mu.Unlock()
	f.group.Stop()
}

// Running reports whether Start succeeded and Stop was not called; a
// Folder whose Start failed may be started again.
func (f *Folder) Running() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.running && !f.stopped
}

// Healthy reports whether the source is being watched: its folder was
// found and listed by the latest full scan (for /readyz).
func (f *Folder) Healthy() error {
	if !f.rootOK.Load() {
		return fmt.Errorf("folder %s is not being watched (missing, replaced since start, or not listed yet)", f.cfg.Root)
	}
	return nil
}

// Rescan asks for a full listing as soon as possible. It does not block;
// requests made while one is pending are merged.
func (f *Folder) Rescan() {
	select {
	case f.rescanC <- struct{}{}:
	default:
	}
}

// closePin releases the pin if the source took it on its own.
func (f *Folder) closePin(pin *safedir.Dir) {
	if f.ownPins {
		pin.Close()
	}
}

func (f *Folder) run(ctx context.Context) {
	defer f.closePin(f.pin)
	defer f.watcher.Close()

	f.fullScan()
	f.firstListed()
	settle := time.NewTicker(f.tick)
	defer settle.Stop()
	rescan := time.NewTicker(f.cfg.Rescan)
	defer rescan.Stop()
	events, errs := f.watcher.Events, f.watcher.Errors
	for {
		var backlog chan<- Candidate // nil: nothing waits
		next, ok := f.nextBacklogged()
		if ok {
			backlog = f.out
		}
		select {
		case <-ctx.Done():
			return
		case backlog <- next:
			f.sentBacklogged(next)
		case ev, ok := <-events:
			if !ok {
				events = nil // closed only by Close; keep listing periodically
				continue
			}
			if !f.hooks.ignoreEvents {
				f.handleEvent(ev)
			}
		case err, ok := <-errs:
			if !ok {
				errs = nil
				continue
			}
			f.watchError(err)
		case <-f.rescanC:
			f.fullScan()
		case <-rescan.C:
			f.fullScan()
		case <-settle.C:
			if !f.emitSettled(ctx) {
				return
			}
			if f.hooks.ticked != nil {
				f.hooks.ticked()
			}
		}
	}
}

// emitSettled sends every settled file. It reports false if ctx ended while
// a send was waiting for the consumer.
func (f *Folder) emitSettled(ctx context.Context) bool {
	for _, r := range f.track.due(time.Now(), f.settleStat) {
		c := f.candidate(r.key, r.sig)
		if f.hooks.sending != nil {
			f.hooks.sending(c)
		}
		select {
		case f.out <- c:
			f.track.markEmitted(r.key, r.sig)
		case <-ctx.Done():
			return false
		}
	}
	return true
}

// watchError reacts to a watcher error (typically fsnotify.ErrEventOverflow,
// meaning events were lost) with a full listing. Only the first error
// between two listings is logged, so an overflow storm is one line.
func (f *Folder) watchError(err error) {
	f.watchErrs++
	if f.watchErrs == 1 {
		f.log.Warn("folder watcher error; listing the whole folder", "root", f.cfg.Root, "err", err)
	}
	f.Rescan()
}

// handleEvent turns one fsnotify event into work: a new directory is watched
// and listed, a new or written file is (re)observed, a removed path is
// forgotten.
func (f *Folder) handleEvent(ev fsnotify.Event) {
	switch {
	case ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename):
		f.gone(ev.Name)
	case ev.Has(fsnotify.Create):
		f.appeared(ev.Name, true)
	case ev.Has(fsnotify.Write) || ev.Has(fsnotify.Chmod):
		if !f.track.touch(ev.Name, time.Now()) {
			f.appeared(ev.Name, false)
		}
	}
}

// appeared looks at a path an event named. A directory is watched and listed
// if it is new (created, or not watched yet); a file is observed.
func (f *Folder) appeared(p string, created bool) {
	fi, err := f.pin.Lstat(p)
	if err != nil {
		return // gone again; its Remove event follows
	}
	if !fi.IsDir() {
		f.observeFile(p, filepath.Base(p))
		return
	}
	if !f.cfg.Recursive || p == f.cfg.Root || !f.match.dir(filepath.Base(p)) {
		return
	}
	if _, ok := f.watched[p]; ok && !created {
		return
	}
	f.walk(p, fi)
}

// gone handles a path that was removed or renamed away. Events can be
// stale: if the path exists again it is looked at afresh, and what is
// unchanged stays emitted.
func (f *Folder) gone(p string) {
	if _, err := f.pin.Lstat(p); err == nil {
		if p == f.cfg.Root {
			f.Rescan()
		} else {
			f.appeared(p, true)
		}
		return
	}
	if _, ok := f.watched[p]; ok {
		f.unwatch(p)
		f.track.forgetUnder(p)
		if p == f.cfg.Root {
			f.Rescan() // the pin's check says what became of it
		}
	}
	f.track.forget(p)
}

// observeFile records a sighting of the file at p if its name is wanted and
// it is a regular file or a symbolic link. One that cannot be looked at for
// now (a temporary error) is recorded with no signature yet: the settle
// check looks at it again, so it is not left for the next full listing.
func (f *Folder) observeFile(p, name string) {
	if !f.match.file(name) {
		return
	}
	switch sig, res := f.settleStat(p); res {
	case statFound:
		f.track.observe(p, sig, time.Now())
	case statLater:
		f.track.observe(p, settleSig{}, time.Now())
	}
}

// settleStat returns the signature of the file at p, through the pin: a
// regular file's, or a symbolic link's own. A link is never followed, not
// even to see what it points at (an automount or a dead network mount
// could hang the watcher): it is handed on as itself and intake records it
// rejected, as a link. statGone if p is gone or neither; statLater if it
// cannot be looked at for now (a temporary error, logged once until a look
// succeeds, or the folder replaced, which its pin logs). A path too long to
// open (over PATH_MAX) is logged once.
func (f *Folder) settleStat(p string) (settleSig, statResult) {
	fi, err := f.pin.Lstat(p)
	switch {
	case errors.Is(err, syscall.ENAMETOOLONG):
		f.warnOnce("long", p, "path is longer than the system allows (PATH_MAX); the file is skipped: move it to a shorter path", nil)
		return settleSig{}, statGone
	case temporary(err):
		f.warnOnce("look", f.cfg.Root, "cannot look at files for now (a temporary error, not the files' fault); looking again", err)
		return settleSig{}, statLater
	case errors.Is(err, safedir.ErrReplaced):
		return settleSig{}, statLater
	case err != nil:
		return settleSig{}, statGone
	}
	f.clearWarn("look", f.cfg.Root)
	if !fi.Mode().IsRegular() && fi.Mode()&fs.ModeSymlink == 0 {
		return settleSig{}, statGone
	}
	return sigOf(fi), statFound
}

// fullScan lists the whole tree: the truth that events only hint at. It
// drops watches on directories that vanished or were replaced, watches and
// lists every directory, observes every wanted file, and forgets emitted
// files that no longer exist.
func (f *Folder) fullScan() {
	f.watchErrs, f.scanFiles, f.unwatched, f.watchLimited = 0, 0, 0, false
	f.checkWatches()
	f.track.beginSweep()
	root := f.cfg.Root
	fi, err := f.pin.Lstat(root) // checks the pin: safedir logs a replaced root
	if temporary(err) {
		// Descriptors, memory: nothing is known about the folder. What
		// is tracked stays as it is, and the next listing tries again.
		f.warnOnce("scan", root, "cannot list the folder for now (a temporary error); listing it again at the next rescan", err)
		if f.hooks.scanned != nil {
			f.hooks.scanned()
		}
		return
	}
	f.clearWarn("scan", root)
	if err != nil {
		// Missing or replaced: nothing is listed, and every file is
		// offered again once the pinned folder is back (intake skips
		// what it knows).
		f.rootOK.Store(false)
		f.unwatch(root)
		f.track.forgetUnder(root)
		if f.hooks.scanned != nil {
			f.hooks.scanned()
		}
		return
	}
	f.rootOK.Store(true)
	f.walk(root, fi)
	if f.stopping() {
		return // the listing is incomplete: do not reconcile from it
	}
	f.track.endSweep(f.dirStillThere)
	if !f.firstScanDone {
		// The first listing of a large tree can take a while: say when it
		// is done and how much it found.
		f.firstScanDone = true
		f.log.Info("source listed", "path", root, "folders", len(f.watched)+f.unwatched,
			"files", f.scanFiles, "took", time.Since(f.startedAt).Round(time.Millisecond))
	}
	if !f.watchLimited {
		f.clearWarn("limit", root)
	}
	for k := range f.warned {
		if _, err := os.Lstat(k.path); k.what != "root" && errors.Is(err, fs.ErrNotExist) {
			delete(f.warned, k)
		}
	}
	if f.hooks.scanned != nil {
		f.hooks.scanned()
	}
}

// dirStillThere tells a full listing whether a directory it could not read
// whole still exists, so that the files handed on from it are kept: it may
// not be readable for now, or denied to this user, and still hold them.
func (f *Folder) dirStillThere(dir string) bool {
	fi, err := f.pin.Lstat(dir)
	switch {
	case errors.Is(err, fs.ErrPermission), heldBack(err):
		return true
	case err != nil:
		return false
	}
	return fi.IsDir()
}

func (f *Folder) stopping() bool {
	select {
	case <-f.quit:
		return true
	default:
		return false
	}
}

// warnOnce logs a problem with a path the first time it is seen.
func (f *Folder) warnOnce(what, p, msg string, err error) {
	k := folderWarnKey{what: what, path: p}
	if _, ok := f.warned[k]; ok {
		return
	}
	f.warned[k] = struct{}{}
	if err != nil {
		f.log.Warn(msg, "path", p, "err", err)
	} else {
		f.log.Warn(msg, "path", p)
	}
}

// clearWarn notes that a problem logged by warnOnce is over.
func (f *Folder) clearWarn(what, p string) {
	k := folderWarnKey{what: what, path: p}
	if _, ok := f.warned[k]; ok {
		delete(f.warned, k)
		f.log.Info("problem resolved", "path", p, "was", what)
	}
}
