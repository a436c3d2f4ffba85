package ingest

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/docuparse/docuparse-ingest/internal/store"
)

// The folder source's tree: walking it through the pin and keeping one
// watch on each directory listed (see Folder).

// checkWatches drops watches that fsnotify dropped by itself (a watched
// directory was moved or deleted) or whose directory is gone or replaced,
// so that walk sets them up again on the right path.
func (f *Folder) checkWatches() {
	live := make(map[string]bool, len(f.watched))
	for _, p := range f.watcher.WatchList() {
		live[p] = true
	}
	for p, old := range f.watched {
		cur, err := f.pin.Lstat(p)
		if temporary(err) {
			continue // not looked at: kept until a listing can look
		}
		if !live[p] || err != nil || !os.SameFile(old, cur) {
			f.unwatch(p)
		}
	}
}

// walk watches dir, then lists it (in that order, so a file created in
// between is seen one way or the other), offering wanted files as it finds
// them (see offer), and, when recursive, does the same for every wanted
// directory below it, level by level. The walk takes each directory a few
// ahead of the one whose entries it is handling and hands it to goroutines
// that add its watch and then read it meanwhile (see readAhead), so that
// watching, reading and handling overlap.
func (f *Folder) walk(dir string, fi os.FileInfo) {
	level := []walkDir{{path: dir, fi: fi}}
	for len(level) > 0 && !f.stopping() {
		var next []walkDir
		ra := f.readAhead(len(level))
		for i := range level {
			ra.release(f, level, i+readAheadDirs)
			if level[i].gone {
				continue
			}
			l, ok := ra.listing(i)
			if !ok {
				break // stopping
			}
			if wd := &level[i]; wd.watching {
				wd.werr = l.werr
				f.settleWatch(wd.path, wd.fresh, wd.werr)
			}
			next = append(next, f.walkListed(level[i], l)...)
		}
		ra.end()
		level = next
	}
}

// walkDir is a directory to watch and list.
type walkDir struct {
	path     string
	fi       os.FileInfo // what it was when found; nil: looked at when its watch is set up
	werr     error       // how setting up its watch went
	watching bool        // the read-ahead adds its watch (see prepareWatch)
	fresh    bool        // it was not watched before
	gone     bool        // not a directory any more when looked at: not listed
}

// dirListing is a directory opened and read, its descriptor still open for
// looking at its files.
type dirListing struct {
	d    *os.File
	buf  *[]byte // its linux_dirent64 records (see readDirents), from direntPool
	err  error
	werr error // how adding its watch went, just before it was read
}

// close closes the directory and gives its buffer back for reuse.
func (l dirListing) close() {
	if l.d != nil {
		l.d.Close()
	}
	putDirentBuf(l.buf)
}

// readAheadDirs bounds how many directories the walk watches and hands to
// the read-ahead ahead of the one it handles (each held open once read),
// and readAheadWorkers how many are read at once.
const (
	readAheadDirs    = 8
	readAheadWorkers = 2
)

// dirReadAhead reads the directories of one level of a walk ahead of it,
// on goroutines of its own; the walk takes each listing in order.
type dirReadAhead struct {
	slots    []chan dirListing // one per directory, buffered
	todo     chan readJob      // directories watched, to read
	released int               // directories of the level watched and handed on (or gone)
	quit     <-chan struct{}
	wg       sync.WaitGroup
}

// readJob is one directory for the read-ahead: its index in the level,
// its path and, when it is to be watched first, what it was when found.
type readJob struct {
	i     int
	path  string
	watch os.FileInfo
}

// readAhead starts the goroutines that read the n directories of a level
// as release hands them on. The walk hands on at most readAheadDirs beyond
// the one it waits for, in order, so that one is always read or being
// read: the walk never waits on a directory nobody will read.
func (f *Folder) readAhead(n int) *dirReadAhead {
	ra := &dirReadAhead{slots: make([]chan dirListing, n), todo: make(chan readJob, readAheadDirs), quit: f.quit}
	for i := range ra.slots {
		ra.slots[i] = make(chan dirListing, 1)
	}
	for range min(readAheadWorkers, n) {
		ra.wg.Go(func() {
			for job := range ra.todo {
				select {
				case <-ra.quit:
					continue // stopping: the rest is dropped
				default:
				}
				var werr error
				if job.watch != nil {
					werr = f.addWatch(job.path, job.watch)
				}
				l := f.readListing(job.path)
				l.werr = werr
				ra.slots[job.i] <- l
			}
		})
	}
	return ra
}

// release hands the level's directories up to (not including) upTo not
// handed on yet, in order, to the read-ahead, which watches each first
// (prepareWatch, addWatch), then reads it. A directory found through its parent's listing is looked at
// first, through the pin; one that is no longer a directory is marked
// gone and not read.
func (ra *dirReadAhead) release(f *Folder, level []walkDir, upTo int) {
	for ; ra.released < min(upTo, len(level)); ra.released++ {
		wd := &level[ra.released]
		if wd.fi == nil {
			fi, err := f.pin.Lstat(wd.path)
			if err != nil || !fi.IsDir() {
				wd.gone = true
				continue
			}
			wd.fi = fi
		}
		job := readJob{i: ra.released, path: wd.path}
		if wd.fresh, wd.werr = f.prepareWatch(wd.path, wd.fi); wd.werr == nil {
			job.watch, wd.watching = wd.fi, true
		}
		ra.todo <- job // never blocks: at most readAheadDirs wait
	}
}

// listing waits for directory i's listing; false if the source stops.
func (ra *dirReadAhead) listing(i int) (dirListing, bool) {
	select {
	case l := <-ra.slots[i]:
		return l, true
	case <-ra.quit:
		return dirListing{}, false
	}
}

// end lets the workers go and waits for them (at once when every
// directory was handled; on a stop, for the reads in progress), and closes
// what was read and not handled.
func (ra *dirReadAhead) end() {
	close(ra.todo)
	ra.wg.Wait()
	for _, ch := range ra.slots {
		select {
		case l := <-ch:
			l.close()
		default:
		}
	}
}

// readListing opens dir through the pin, following no symbolic link, and
// reads its records with getdents64 on that descriptor (see readDirents).
// Safe for concurrent use (the pin and the pool are).
func (f *Folder) readListing(dir string) dirListing {
	d, err := f.pin.OpenDir(dir)
	if err != nil {
		return dirListing{err: err}
	}
	buf := getDirentBuf()
	*buf, err = readDirents(int(d.Fd()), *buf)
	if err != nil {
		err = &os.PathError{Op: "list", Path: dir, Err: err}
	}
	return dirListing{d: d, buf: buf, err: err}
}

// walkListed handles one directory's listing: its wanted files are
// offered, its wanted subdirectories returned (for the walk to watch and
// list next), and problems logged once. It closes the listing.
func (f *Folder) walkListed(wd walkDir, l dirListing) []walkDir {
	dir := wd.path
	if f.hooks.listing != nil {
		f.hooks.listing(dir)
	}
	var next []walkDir
	backlogged := f.backlog.has(dir)
	err := f.eachListed(dir, l, func(e *listedEntry) {
		switch {
		case e.typ == fs.ModeDir:
			if f.cfg.Recursive && f.match.dir(e.name) {
				next = append(next, walkDir{path: childPath(dir, e.name)})
			}
		case e.isFile() && f.match.file(e.name):
			if backlogged && !f.track.knownAt(dir, e.name) {
				// Its directory's listing again looks at it, when the
				// consumer has room: listed, counted, not looked at now.
				f.scanFiles++
				return
			}
			backlogged = f.found(dir, childPath(dir, e.name), e) || backlogged
		}
	})
	switch {
	case errors.Is(err, fs.ErrNotExist) || errors.Is(wd.werr, fs.ErrNotExist):
		return nil // gone meanwhile
	case err != nil:
		f.warnOnce("list", dir, "cannot list directory; skipping it", err)
	case wd.werr != nil:
		f.clearWarn("list", dir)
		f.watchFailed(dir, wd.werr)
	default:
		f.clearWarn("list", dir)
		f.clearWarn("watch", dir)
	}
	if err == nil {
		f.track.listed(dir) // read whole (see endSweep)
	}
	return next
}

// found handles a wanted file a listing of dir found at p: it is counted,
// and offered, or tracked like any sighting (see observeFile) when it
// could not be looked at. It reports true when the file waits in dir's
// backlog entry (see offer).
func (f *Folder) found(dir, p string, e *listedEntry) bool {
	switch sig, res := e.stat(); res {
	case statFound:
		f.scanFiles++
		if f.offer(dir, p, sig, time.Now()) {
			f.backlog.add(dir)
			return true
		}
	case statLater:
		f.scanFiles++
		f.track.observe(p, settleSig{}, time.Now())
	case statGone:
		// Listed, but not to be looked at: not a file any more, gone
		// meanwhile, or denied (a folder readable but not searchable,
		// a security policy). What was handed on under the name is kept
		// while a listing shows the name, so that it is not handed on
		// again once the file can be looked at.
		f.track.listedName(p)
	}
	return false
}

// offer hands on at once a file a listing found settled (see
// settledAtSight) and not tracked yet, if the consumer has room for it
// now: a folder found full at start goes to intake while it is being
// listed, never after the whole tree. It reports true when the file waits
// instead, for its directory to be listed again once the consumer has
// room (the backlog): nothing is held per file meanwhile. A file already
// tracked, or not settled, is observed as usual.
func (f *Folder) offer(dir, p string, sig settleSig, now time.Time) bool {
	if f.track.known(p) || !f.settledAtSight(sig, now) {
		f.track.observe(p, sig, f.seenAt(sig, now))
		return false
	}
	if f.backlog.has(dir) {
		return true // its listing again offers it, in order
	}
	select {
	case f.out <- f.candidate(p, sig):
		f.track.markEmitted(p, sig)
		return false
	default:
		return true
	}
}

// settledAtSight reports whether a file first seen with sig at now has
// settled already: nothing wrote to it or changed it (its modification and
// change times) for the settle time.
func (f *Folder) settledAtSight(sig settleSig, now time.Time) bool {
	ct := sig.id.ChangeTime
	return !ct.IsZero() && now.Sub(ct) >= f.cfg.Settle && now.Sub(sig.mtime) >= f.cfg.Settle
}

// seenAt is when a sighting of sig at now starts its settle time: now, or
// a settle time earlier for a file settled at sight, so that the next
// settle check hands it on.
func (f *Folder) seenAt(sig settleSig, now time.Time) time.Time {
	if f.settledAtSight(sig, now) {
		return now.Add(-f.cfg.Settle)
	}
	return now
}

// listDir lists dir through the pin, following no symbolic link, and
// calls each with every entry (see eachListed).
func (f *Folder) listDir(dir string, each func(e *listedEntry)) error {
	return f.eachListed(dir, f.readListing(dir), each)
}

// childPath is filepath.Join(dir, name) for a clean dir and a name from
// its listing (one component), without cleaning again per file.
func childPath(dir, name string) string {
	if strings.HasSuffix(dir, string(filepath.Separator)) {
		return dir + name
	}
	return dir + string(filepath.Separator) + name
}

// sigOfStat returns the signature an lstat gave, as sigOf would from its
// FileInfo.
func sigOfStat(st *unix.Stat_t) settleSig {
	return settleSig{size: st.Size, mtime: time.Unix(st.Mtim.Unix()),
		id: store.FileID{Dev: uint64(st.Dev), Inode: st.Ino, ChangeTime: time.Unix(st.Ctim.Unix())}}
}

// watchLimitWarning is the one line logged when the kernel's inotify watch
// limit is reached.
const watchLimitWarning = "the inotify watch limit (fs.inotify.max_user_watches) is reached: " +
	"folders beyond it are not watched, and new files in them are found by the full listing every rescan " +
	"instead of at once; raise the limit: sysctl -w fs.inotify.max_user_watches=524288, " +
	"and persist it in /etc/sysctl.d/"

// watchFailed logs a watch that could not be added to dir: the kernel's
// watch limit once for the whole source (periodic full listings find the
// files of every folder beyond it, so none is missed), anything else once
// per folder.
func (f *Folder) watchFailed(dir string, err error) {
	if errors.Is(err, unix.ENOSPC) {
		f.watchLimited = true
		f.unwatched++
		f.warnOnce("limit", f.cfg.Root, watchLimitWarning, err)
		return
	}
	f.warnOnce("watch", dir, "cannot watch directory; relying on periodic rescans", err)
}

// prepareWatch is the walk's part of making sure dir has a watch, before
// the read-ahead adds it (addWatch) and the walk settles it (settleWatch):
// the watches on a directory that was replaced, and below it, are dropped,
// and dir's place among the watched is taken (so that the test's cap counts
// it). fresh: dir was not watched yet. An error means no watch is added.
func (f *Folder) prepareWatch(dir string, fi os.FileInfo) (fresh bool, err error) {
	if old, ok := f.watched[dir]; ok && !os.SameFile(old, fi) {
		f.unwatch(dir)
	}
	if f.hooks.watching != nil {
		f.hooks.watching(dir)
	}
	if _, ok := f.watched[dir]; ok {
		return false, nil
	}
	if f.watchCap > 0 && len(f.watched) >= f.watchCap {
		return false, fmt.Errorf("watch %s: %w", dir, unix.ENOSPC)
	}
	f.watched[dir] = fi
	return true, nil
}

// addWatch adds a watch on dir, which must be the real directory fi
// describes just before and just after (see isListedDir). Adding a watch
// that exists is harmless and repairs one fsnotify dropped by itself. Safe
// for concurrent use (the pin and the watcher are): the read-ahead's
// goroutines call it, each for the directory it is about to read.
func (f *Folder) addWatch(dir string, fi os.FileInfo) error {
	if !f.isListedDir(dir, fi) {
		return fmt.Errorf("watch %s: no longer the folder listed: %w", dir, fs.ErrNotExist)
	}
	if err := f.watcher.Add(dir); err != nil {
		return err
	}
	if !f.isListedDir(dir, fi) {
		_ = f.watcher.Remove(dir)
		return fmt.Errorf("watch %s: no longer the folder listed: %w", dir, fs.ErrNotExist)
	}
	return nil
}

// settleWatch records how adding dir's watch went: a place prepareWatch
// took for a directory not watched before is given back if it failed.
func (f *Folder) settleWatch(dir string, fresh bool, err error) {
	if err != nil && fresh {
		delete(f.watched, dir)
	}
}

// isListedDir reports whether dir, looked at through the pin (following no
// symbolic link), is the real directory fi describes. A watch is added by
// path and follows links, so it is checked just before and just after.
func (f *Folder) isListedDir(dir string, fi os.FileInfo) bool {
	cur, err := f.pin.Lstat(dir)
	return err == nil && cur.IsDir() && os.SameFile(cur, fi)
}

// unwatch drops the watches on dir and every directory below it. Errors are
// ignored: the kernel drops a watch by itself when its directory goes.
func (f *Folder) unwatch(dir string) {
	prefix := dir + string(filepath.Separator)
	for p := range f.watched {
		if p == dir || strings.HasPrefix(p, prefix) {
			_ = f.watcher.Remove(p)
			delete(f.watched, p)
		}
	}
}
