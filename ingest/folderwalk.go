package ingest

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
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
// between is seen one way or the other), observing wanted files and
// descending into wanted subdirectories when recursive.
func (f *Folder) walk(dir string, fi os.FileInfo) {
	if f.stopping() {
		return
	}
	werr := f.watchDir(dir, fi)
	entries, err := f.readDir(dir) // on error, what it could read
	switch {
	case errors.Is(err, fs.ErrNotExist) || errors.Is(werr, fs.ErrNotExist):
		return // gone meanwhile
	case err != nil:
		f.warnOnce("list", dir, "cannot list directory; skipping it", err)
		if len(entries) == 0 {
			return
		}
	case werr != nil:
		f.clearWarn("list", dir)
		f.warnOnce("watch", dir, "cannot watch directory; relying on periodic rescans", werr)
	default:
		f.clearWarn("list", dir)
		f.clearWarn("watch", dir)
	}
	for _, e := range entries {
		name := e.Name()
		p := filepath.Join(dir, name)
		switch t := e.Type(); {
		case t.IsDir():
			if !f.cfg.Recursive || !f.match.dir(name) {
				continue
			}
			if sub, err := f.pin.Lstat(p); err == nil && sub.IsDir() {
				f.walk(p, sub)
			}
		case t.IsRegular() || t&fs.ModeSymlink != 0:
			f.observeFile(p, name)
		}
	}
}

// readDir lists dir through the pin, following no symbolic link.
func (f *Folder) readDir(dir string) ([]os.DirEntry, error) {
	d, err := f.pin.OpenDir(dir)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	return d.ReadDir(-1)
}

// watchDir makes sure dir has a watch. Adding a watch that exists is
// harmless and repairs one fsnotify dropped by itself; the watches on a
// directory that was replaced, and below it, are dropped first.
func (f *Folder) watchDir(dir string, fi os.FileInfo) error {
	if old, ok := f.watched[dir]; ok && !os.SameFile(old, fi) {
		f.unwatch(dir)
	}
	if f.hooks.watching != nil {
		f.hooks.watching(dir)
	}
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
	f.watched[dir] = fi
	return nil
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
