package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"path"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/bucket"
	"github.com/docuparse/docuparse-ingest/internal/lifecycle"
	"github.com/docuparse/docuparse-ingest/internal/store"
)

// BucketConfig configures a bucket source.
type BucketConfig struct {
	// Name is the source name from the configuration. Required.
	Name string
	// Bucket is the source's open bucket; its Prefix plays the folder's
	// part. Required.
	Bucket *bucket.Bucket
	// Include and Exclude are the folder source's patterns (see
	// FolderConfig), matched against the key relative to the prefix as a
	// path: its last part is the file name (include, exclude), the parts
	// before are its folders (exclude).
	Include, Exclude []string
	// Recursive lists the whole prefix; false lists only the objects
	// directly under it (delimiter "/").
	Recursive bool
	// Settle: an object is taken once two listings saw it unchanged, or
	// once its modification time is older than Settle.
	Settle time.Duration
	// PollInterval is the time between listings, jittered by up to 10%.
	// Defaults to 30 seconds.
	PollInterval time.Duration
	// Skip lists key prefixes never taken: where after = "move" copies
	// objects, when that is inside the listed prefix.
	Skip []string
	// Store answers whether an object version was taken in already, so an
	// unchanged object is neither held in memory nor read again.
	Store  ListingStore
	Logger *slog.Logger
	// Listed, if set, is called after each listing (for metrics).
	Listed func(BucketListing)
}

// BucketListing is what one listing of a bucket source found.
type BucketListing struct {
	Source   string
	At       time.Time // when it ended
	Took     time.Duration
	Objects  int // objects listed under the prefix (those the patterns take)
	New      int // handed to intake
	Requests int // list requests made
	Err      error
}

// Bucket lists a bucket prefix every PollInterval and sends each settled
// object it has not taken in yet on its output channel as a Candidate,
// page by page: the listing of a prefix with a million objects never sits
// in memory at once, and the first candidates leave before it ends. Only
// objects seen once and not yet settled are remembered between listings.
//
// A listing that fails (the bucket unreachable, missing, or refusing the
// credentials) is logged once when the failures start and once when they
// end, retried with backoff up to PollInterval, and makes Healthy fail;
// other sources go on.
type Bucket struct {
	cfg   BucketConfig
	out   chan<- Candidate
	match folderMatcher
	log   *slog.Logger
	group lifecycle.Group
	kick  chan struct{}

	mu      sync.Mutex
	started bool
	stopped bool

	// Owned by the run goroutine.
	seen    map[string]settleSig // listed once, not settled yet
	emitted map[string]settleSig // handed to intake, not yet known to the store
	failing bool

	lastErr atomic.Pointer[string] // the latest listing's error, for Healthy; nil after a success
}

// NewBucket returns a bucket source sending candidates on out.
func NewBucket(cfg BucketConfig, out chan<- Candidate) (*Bucket, error) {
	if cfg.Name == "" || cfg.Bucket == nil || cfg.Store == nil {
		return nil, errors.New("bucket source: name, bucket and store are required")
	}
	m, err := newFolderMatcher(cfg.Include, cfg.Exclude)
	if err != nil {
		return nil, fmt.Errorf("bucket source %q: %w", cfg.Name, err)
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = 30 * time.Second
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Bucket{cfg: cfg, out: out, match: m, log: log.With("source", cfg.Name, "bucket", cfg.Bucket.String()),
		kick: make(chan struct{}, 1), seen: map[string]settleSig{}, emitted: map[string]settleSig{}}, nil
}

// Start begins listing and returns at once. A bucket that cannot be
// reached is not an error here: the listings retry it.
func (b *Bucket) Start(ctx context.Context) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.started {
		return fmt.Errorf("bucket source %q: already started or stopped", b.cfg.Name)
	}
	b.started = true
	b.group.Go(ctx, b.run)
	return nil
}

// Stop stops listing and waits for the current page to be handed over or
// abandoned. Safe to call twice, and before Start.
func (b *Bucket) Stop() {
	b.mu.Lock()
	b.started, b.stopped = true, true
	b.mu.Unlock()
	b.group.Stop()
}

// Running reports whether the source was started and not stopped.
func (b *Bucket) Running() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.started && !b.stopped
}

// Rescan asks for a listing as soon as possible.
func (b *Bucket) Rescan() {
	select {
	case b.kick <- struct{}{}:
	default:
	}
}

// Healthy reports whether the latest listing failed (for /readyz), naming
// the source and its bucket. A first listing still going on is not a
// failure: the first listing of a large prefix takes minutes, and objects
// flow from its first page.
func (b *Bucket) Healthy() error {
	if e := b.lastErr.Load(); e != nil {
		return fmt.Errorf("source %q: bucket %s cannot be listed: %s", b.cfg.Name, b.cfg.Bucket, *e)
	}
	return nil
}

func (b *Bucket) run(ctx context.Context) {
	backoff := time.Second
	for {
		err := b.runOnce(ctx)
		wait := jitter(b.cfg.PollInterval)
		if err != nil {
			wait = min(backoff, wait)
			backoff = min(2*backoff, b.cfg.PollInterval)
		} else {
			backoff = time.Second
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-b.kick:
			t.Stop()
		case <-t.C:
		}
	}
}

// jitter returns d plus or minus up to 10%, so that daemons started
// together do not list in step.
func jitter(d time.Duration) time.Duration {
	return d - d/10 + rand.N(d/5+1)
}

// runOnce lists the prefix once, page by page, handing settled objects
// not taken in yet to intake.
func (b *Bucket) runOnce(ctx context.Context) error {
	start := time.Now()
	l := BucketListing{Source: b.cfg.Name}
	next := &listingState{seen: make(map[string]settleSig, len(b.seen)), emitted: make(map[string]settleSig, len(b.emitted))}
	reqs, err := b.cfg.Bucket.List(ctx, b.cfg.Bucket.Prefix, b.cfg.Recursive, func(page []bucket.Object) error {
		return b.page(ctx, page, next, start, &l)
	})
	l.Requests, l.At, l.Took, l.Err = reqs, time.Now(), time.Since(start), err
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err == nil {
		// Objects no longer listed (deleted, or replaced and seen anew)
		// are forgotten.
		b.seen, b.emitted = next.seen, next.emitted
	} else {
		// A listing cut short forgets nothing.
		maps.Copy(b.seen, next.seen)
		maps.Copy(b.emitted, next.emitted)
	}
	b.record(l)
	return err
}

// emittedMax bounds how many of the objects it handed over a listing
// remembers for the next (the latest ones): enough for those intake still
// has in hand (its queue holds a few hundred). An older one the store does
// not know yet when the next listing comes (held by intake while it
// cannot be read) is handed over again, and intake takes it once.
// Remembering every one made the first listing of a million new objects
// hold a million entries.
const emittedMax = 4096

// listingState is what a listing remembers for the next: objects seen
// once and not settled, and the latest objects handed to intake that the
// store does not know yet (order lists emitted's keys, oldest first).
type listingState struct {
	seen, emitted map[string]settleSig
	order         []string
}

// handedOver remembers that the object at key went to intake as sig,
// forgetting the oldest beyond emittedMax.
func (s *listingState) handedOver(key string, sig settleSig) {
	if _, ok := s.emitted[key]; !ok {
		s.order = append(s.order, key)
	}
	s.emitted[key] = sig
	if len(s.order) > emittedMax {
		delete(s.emitted, s.order[0])
		s.order = s.order[1:]
	}
}

// page handles one listed page.
func (b *Bucket) page(ctx context.Context, page []bucket.Object, next *listingState, now time.Time, l *BucketListing) error {
	objs, files, known, err := b.known(ctx, page)
	if err != nil {
		return err
	}
	for i, o := range objs {
		l.Objects++
		sig := settleSig{size: o.Size, mtime: o.ModTime, id: files[i].FileID}
		p := files[i].Path
		if known[i] {
			continue
		}
		if prev, ok := next.emitted[o.Key]; ok && sameObject(prev, sig) {
			continue // listed twice in this listing (a store that repeats a key)
		}
		if prev, ok := b.emitted[o.Key]; ok && sameObject(prev, sig) {
			next.handedOver(o.Key, sig) // with intake; not recorded yet
			continue
		}
		prev, seenBefore := b.seen[o.Key]
		if !(seenBefore && sameObject(prev, sig)) && now.Sub(o.ModTime) < b.cfg.Settle {
			next.seen[o.Key] = sig // seen once, young: wait for the next listing
			continue
		}
		c := Candidate{Source: b.cfg.Name, Path: p, Name: path.Base(o.Key), Size: o.Size, ModTime: o.ModTime, FileID: sig.id}
		select {
		case b.out <- c:
			next.handedOver(o.Key, sig)
			l.New++
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// known keeps the objects of page the patterns take and asks the store,
// in one query for the page, which of them were taken in already: one
// query per object made a steady-state listing of 100,000 objects cost
// 100,000 queries (docs/benchmarks.md).
func (b *Bucket) known(ctx context.Context, page []bucket.Object) ([]bucket.Object, []store.KnownFile, []bool, error) {
	objs := make([]bucket.Object, 0, len(page))
	files := make([]store.KnownFile, 0, len(page))
	for _, o := range page {
		rel := strings.TrimPrefix(o.Key, b.cfg.Bucket.Prefix)
		if !b.wanted(rel) || b.skipped(o.Key) {
			continue
		}
		objs = append(objs, o)
		files = append(files, store.KnownFile{Path: b.cfg.Bucket.PathOf(o.Key), Size: o.Size, ModTime: o.ModTime,
			FileID: store.FileID{Version: o.Version}})
	}
	known, err := b.cfg.Store.KnownMany(ctx, b.cfg.Name, files)
	return objs, files, known, err
}

// sameObject reports whether two sightings of a key are the same version.
func sameObject(a, b settleSig) bool {
	return a.size == b.size && a.mtime.Equal(b.mtime) && a.id.Version == b.id.Version
}

// wanted reports whether the patterns take the object at rel (its key
// relative to the prefix). Keys ending in "/" are folder markers.
func (b *Bucket) wanted(rel string) bool {
	if rel == "" || strings.HasSuffix(rel, "/") {
		return false
	}
	if !b.cfg.Recursive && strings.Contains(rel, "/") {
		return false
	}
	dirs := strings.Split(rel, "/")
	name := dirs[len(dirs)-1]
	for _, d := range dirs[:len(dirs)-1] {
		if !b.match.dir(d) {
			return false
		}
	}
	return b.match.file(name)
}

// skipped reports whether key is under one of the Skip prefixes.
func (b *Bucket) skipped(key string) bool {
	for _, p := range b.cfg.Skip {
		if strings.HasPrefix(key, p) {
			return true
		}
	}
	return false
}

// record keeps what a listing found and says when listings start and
// stop failing, once each.
func (b *Bucket) record(l BucketListing) {
	if l.Err != nil {
		msg := l.Err.Error()
		b.lastErr.Store(&msg)
		if !b.failing {
			b.failing = true
			b.log.Error("cannot list the bucket; retrying with backoff (other sources go on)", "err", l.Err)
		}
	} else {
		b.lastErr.Store(nil)
		if b.failing {
			b.failing = false
			b.log.Info("the bucket can be listed again", "objects", l.Objects)
		}
	}
	if b.cfg.Listed != nil {
		b.cfg.Listed(l)
	}
}
