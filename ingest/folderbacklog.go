package ingest

import (
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// folderBacklog holds the directories whose settled files a listing found
// while the consumer had no room for them: each is listed again, and its
// files handed on one at a time, when the consumer has room. A tree found
// full at start is listed at the speed of the file system, and handed on
// at the speed of intake, with one entry per directory waiting, not one
// per file. Owned by the watcher goroutine.
type folderBacklog struct {
	dirs   []string            // waiting, oldest first
	queued map[string]struct{} // the same, as a set
	cur    []Candidate         // the files of the directory being handed on
	told   bool                // hooks.sending was called for cur[0]
}

// add queues dir, unless it waits already.
func (b *folderBacklog) add(dir string) {
	if b.has(dir) {
		return
	}
	if b.queued == nil {
		b.queued = make(map[string]struct{})
	}
	b.queued[dir] = struct{}{}
	b.dirs = append(b.dirs, dir)
}

// has reports whether dir waits.
func (b *folderBacklog) has(dir string) bool {
	_, ok := b.queued[dir]
	return ok
}

// next returns the backlog's next file to hand on, listing the next
// waiting directory when the current one is done. A file tracked since
// (an event, a settle check) is skipped: the tracker hands it on.
func (f *Folder) nextBacklogged() (Candidate, bool) {
	b := &f.backlog
	for {
		for len(b.cur) > 0 && f.track.known(b.cur[0].Path) {
			b.cur, b.told = b.cur[1:], false
		}
		if len(b.cur) > 0 {
			if !b.told && f.hooks.sending != nil {
				f.hooks.sending(b.cur[0])
			}
			b.told = true
			return b.cur[0], true
		}
		if len(b.dirs) == 0 {
			b.cur = nil // let the array go
			return Candidate{}, false
		}
		dir := b.dirs[0]
		b.dirs = b.dirs[1:]
		delete(b.queued, dir)
		b.cur = f.relist(dir)
	}
}

// sentBacklogged records that the backlog's next file was handed on.
func (f *Folder) sentBacklogged(c Candidate) {
	f.track.markEmitted(c.Path, settleSig{size: c.Size, mtime: c.ModTime, id: c.FileID})
	f.backlog.cur, f.backlog.told = f.backlog.cur[1:], false
}

// relist lists dir again and returns its settled files not tracked yet, in
// name order; a file not settled any more is tracked like any sighting. A
// directory gone or replaced meanwhile gives nothing (a later listing or
// event finds what is there).
func (f *Folder) relist(dir string) []Candidate {
	var cands []Candidate
	now := time.Now()
	_ = f.listDir(dir, func(e *listedEntry) {
		if !e.isFile() || !f.match.file(e.name) {
			return
		}
		p := childPath(dir, e.name)
		if f.track.known(p) {
			return
		}
		switch sig, res := e.stat(); {
		case res == statFound && f.settledAtSight(sig, now):
			cands = append(cands, f.candidate(p, sig))
		case res == statFound:
			f.track.observe(p, sig, now)
		case res == statLater:
			f.track.observe(p, settleSig{}, now)
		}
	})
	slices.SortFunc(cands, func(a, b Candidate) int { return strings.Compare(a.Path, b.Path) })
	return cands
}

// candidate is the Candidate for the file at p with sig.
func (f *Folder) candidate(p string, sig settleSig) Candidate {
	return Candidate{
		Source:  f.cfg.Name,
		Path:    p,
		Name:    filepath.Base(p),
		Size:    sig.size,
		ModTime: sig.mtime,
		FileID:  sig.id,
	}
}
