package ingest

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/safedir"
	"github.com/docuparse/docuparse-ingest/internal/store"
)

// settleSig is what "unchanged" means for a file: its size, modification
// time and identity (device, inode, change time). A different file copied
// over with the same size and mtime (cp -p, rsync -t) has another inode or
// a newer ctime, so it settles and is emitted again.
type settleSig struct {
	size  int64
	mtime time.Time
	id    store.FileID
}

func (s settleSig) equal(o settleSig) bool {
	return s.size == o.size && s.mtime.Equal(o.mtime) && s.id.Dev == o.id.Dev && s.id.Inode == o.id.Inode &&
		s.id.ChangeTime.Equal(o.id.ChangeTime)
}

// sigOf returns the signature of what fi describes.
func sigOf(fi os.FileInfo) settleSig {
	dev, ino, ctime := safedir.ID(fi)
	return settleSig{size: fi.Size(), mtime: fi.ModTime(), id: store.FileID{Dev: dev, Inode: ino, ChangeTime: ctime}}
}

// settlePending is a key in flight: last signature seen, and when the key was
// last seen changing (or first seen).
type settlePending struct {
	sig   settleSig
	since time.Time
}

// settleReady is a key whose signature has been stable for the settle time.
type settleReady struct {
	key string
	sig settleSig
}

// settleTracker decides when a key (a file path) has settled: its signature
// was observed unchanged for at least the settle time. It also remembers
// what was already emitted, so that an unchanged key is not emitted twice,
// and a changed one settles and is emitted again.
//
// It keeps state only for keys in flight plus one entry per emitted key, and
// takes the time as an argument, so it has no clock and no goroutine of its
// own. It is not safe for concurrent use; the folder source uses it from its
// watcher goroutine only.
type settleTracker struct {
	settle  time.Duration
	pending map[string]*settlePending
	emitted *emittedSet
	gen     uint32 // current sweep generation
	scratch []byte // knownAt's path
}

func newSettleTracker(settle time.Duration) *settleTracker {
	return &settleTracker{
		settle:  settle,
		pending: make(map[string]*settlePending),
		emitted: newEmittedSet(),
	}
}

// observe records that key was seen with sig at now. A new or changed key
// (re)starts its settle time; a key emitted with the same signature is left
// alone.
func (t *settleTracker) observe(key string, sig settleSig, now time.Time) {
	sum, emitted := t.emitted.seen(key, t.gen)
	if p, ok := t.pending[key]; ok {
		if !p.sig.equal(sig) {
			p.sig, p.since = sig, now
		}
		return
	}
	if emitted && sum == emittedSum(key, sig) {
		return
	}
	t.pending[key] = &settlePending{sig: sig, since: now}
}

// touch records activity on key (a write event) without looking at the file:
// a pending key starts its settle time again, which debounces bursts of
// writes. It reports whether key was pending; if not, the caller should
// observe it.
func (t *settleTracker) touch(key string, now time.Time) bool {
	p, ok := t.pending[key]
	if ok {
		p.since = now
	}
	return ok
}

// forget drops everything known about key (the file is gone).
func (t *settleTracker) forget(key string) {
	delete(t.pending, key)
	t.emitted.remove(key)
}

// forgetUnder drops every key inside directory dir (the directory is gone).
func (t *settleTracker) forgetUnder(dir string) {
	sep := string(filepath.Separator)
	prefix := strings.TrimSuffix(dir, sep) + sep
	for k := range t.pending {
		if strings.HasPrefix(k, prefix) {
			delete(t.pending, k)
		}
	}
	t.emitted.removeUnder(prefix)
}

// statResult is what looking at a key found.
type statResult int

const (
	statGone  statResult = iota // gone, or not a file to hand on
	statFound                   // found, with its signature
	statLater                   // not looked at for now (a temporary error)
)

// due returns, sorted, the pending keys whose settle time has passed at now,
// after checking each with stat: a key stat reports gone is forgotten, one
// it could not look at for now stays pending as it was, a key
// back to its emitted signature stops being pending, and a key whose
// signature changed starts its settle time again. The returned keys stay
// pending until markEmitted.
func (t *settleTracker) due(now time.Time, stat func(key string) (settleSig, statResult)) []settleReady {
	var ready []settleReady
	for k, p := range t.pending {
		if now.Sub(p.since) < t.settle {
			continue
		}
		sig, res := stat(k)
		switch {
		case res == statLater:
			// Not looked at (a temporary error): asked again next time.
		case res == statGone:
			t.forget(k)
		case t.emitted.same(k, sig):
			delete(t.pending, k)
		case !sig.equal(p.sig):
			p.sig, p.since = sig, now
		default:
			ready = append(ready, settleReady{key: k, sig: sig})
		}
	}
	slices.SortFunc(ready, func(a, b settleReady) int { return strings.Compare(a.key, b.key) })
	return ready
}

// markEmitted records that key was handed on with sig.
func (t *settleTracker) markEmitted(key string, sig settleSig) {
	delete(t.pending, key)
	t.emitted.add(key, sig, t.gen)
}

// known reports whether key is pending or was emitted.
func (t *settleTracker) known(key string) bool {
	_, pending := t.pending[key]
	return pending || t.emitted.has(key)
}

// knownAt is known(childPath(dir, name)) without making the path: a
// listing asks it of every file of a large tree.
func (t *settleTracker) knownAt(dir, name string) bool {
	b := append(t.scratch[:0], dir...)
	if !strings.HasSuffix(dir, string(filepath.Separator)) {
		b = append(b, filepath.Separator)
	}
	b = append(b, name...)
	t.scratch = b
	_, pending := t.pending[string(b)] // no copy: a lookup only
	return pending || t.emitted.hasBytes(b)
}

// beginSweep starts a full listing: keys observed from now on are marked as
// seen by it.
func (t *settleTracker) beginSweep() {
	if t.gen++; t.gen == 0 {
		t.gen = 1 // 0 is a folder's "never listed whole" (emittedDir.listed)
	}
}

// listedName records that the listing in progress showed the name key
// without looking at the file: what was handed on under it is kept.
func (t *settleTracker) listedName(key string) { t.emitted.seen(key, t.gen) }

// listed records that the listing in progress read directory dir whole.
func (t *settleTracker) listed(dir string) { t.emitted.listed(dir, t.gen) }

// endSweep ends a full listing: each emitted key the listing did not observe
// is forgotten, unless its directory was not read whole (see listed) and
// keepDir says the directory is still there: one that could not be listed
// this time keeps what it had.
func (t *settleTracker) endSweep(keepDir func(dir string) bool) {
	t.emitted.endSweep(t.gen, keepDir)
}
