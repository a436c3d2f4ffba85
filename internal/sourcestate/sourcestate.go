// Package sourcestate keeps what each bucket source's listings found —
// when one last succeeded, how many objects it saw, whether listings are
// failing and why — in a small JSON file in state_dir (FileName), so that
// `status`, another process, shows what /readyz and /metrics show.
//
// The file is written as internal/health writes its problems: to a
// temporary file and renamed, so a reader sees the old content or the new,
// whole. It is written at once when something an operator acts on changes
// (a source starts or stops failing, its error or its object count
// changes), and otherwise at most every MinInterval, so a source polled
// every second does not rewrite it every second.
package sourcestate

import (
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/output"
)

// FileName is the file's name inside state_dir.
const FileName = "sources.json"

// MinInterval is the most often a listing that changed nothing but its
// time is written.
const MinInterval = 5 * time.Second

// Listing is what a bucket source's listings found.
type Listing struct {
	Bucket string `json:"bucket"` // the bucket and prefix listed (no credentials, no query)
	// LastListing is when the latest listing ended, successful or not.
	LastListing time.Time `json:"last_listing"`
	// LastSuccess is when a listing last succeeded; nil until one has.
	LastSuccess *time.Time `json:"last_success"`
	// Objects is how many objects the latest successful listing found
	// under the prefix (those include/exclude take).
	Objects int `json:"objects"`
	// Errors counts the listings that failed since the daemon started.
	Errors int64 `json:"listing_errors"`
	// Error is why the latest listing failed; empty when it succeeded.
	Error string `json:"error,omitempty"`
	// FailingSince is when the current run of failed listings began.
	FailingSince *time.Time `json:"failing_since,omitempty"`
}

// Snapshot is the file's content.
type Snapshot struct {
	PID     int                `json:"pid"`
	Written time.Time          `json:"written"`
	Sources map[string]Listing `json:"sources"`
}

// Recorder holds the bucket sources' listings and writes them. Its
// methods are safe for concurrent use and do nothing on a nil *Recorder.
type Recorder struct {
	path string // "" keeps them in memory only
	log  *slog.Logger
	now  func() time.Time

	mu      sync.Mutex
	cur     map[string]Listing
	written time.Time
	pending bool // cur holds a change not written yet
}

// Options configure a Recorder.
type Options struct {
	// Dir is where FileName is written (state_dir); empty: not written.
	Dir    string
	Logger *slog.Logger
	// Now is the clock. Defaults to time.Now.
	Now func() time.Time
}

// New returns a Recorder holding no source and writes that empty set, so
// that a previous run's listings are not shown as this one's.
func New(opts Options) *Recorder {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	r := &Recorder{log: opts.Logger, now: opts.Now, cur: map[string]Listing{}}
	if opts.Dir != "" {
		r.path = filepath.Join(opts.Dir, FileName)
	}
	r.mu.Lock()
	r.save()
	r.mu.Unlock()
	return r
}

// Listed records one listing of source's bucket: ended at at, found
// objects (when err is nil) or failed with err (already described: no
// credentials or signed URLs).
func (r *Recorder) Listed(source, bucket string, at time.Time, objects int, err error) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	prev, had := r.cur[source]
	l := prev
	l.Bucket, l.LastListing = bucket, at.UTC()
	if err != nil {
		l.Errors++
		l.Error = err.Error()
		if l.FailingSince == nil {
			since := at.UTC()
			l.FailingSince = &since
		}
	} else {
		ok := at.UTC()
		l.LastSuccess, l.Objects, l.Error, l.FailingSince = &ok, objects, "", nil
	}
	r.cur[source] = l
	changed := !had || prev.Bucket != l.Bucket || prev.Error != l.Error || prev.Objects != l.Objects ||
		(prev.LastSuccess == nil) != (l.LastSuccess == nil)
	if changed || r.now().Sub(r.written) >= MinInterval {
		r.save()
		return
	}
	r.pending = true
}

// Retain forgets the sources not named (removed by a reload).
func (r *Recorder) Retain(names []string) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	n := len(r.cur)
	maps.DeleteFunc(r.cur, func(name string, _ Listing) bool { return !slices.Contains(names, name) })
	if len(r.cur) != n {
		r.save()
	}
}

// Flush writes a change held back by MinInterval (at shutdown).
func (r *Recorder) Flush() {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.pending {
		r.save()
	}
}

// Listings returns the current listings, by source.
func (r *Recorder) Listings() map[string]Listing {
	if r == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return maps.Clone(r.cur)
}

// save writes the current set (r.mu held). A failure is logged: the
// listings stay in /readyz, /metrics and the log.
func (r *Recorder) save() {
	r.written, r.pending = r.now(), false
	if r.path == "" {
		return
	}
	if err := output.WriteStatusFile(r.path, Snapshot{PID: os.Getpid(), Written: r.written.UTC(), Sources: r.cur}); err != nil {
		r.log.Warn("cannot write the bucket sources file for `status`", "err", err)
	}
}

// Read returns the listings the daemon last wrote in stateDir; an absent
// file (no bucket source has run) is an empty snapshot.
func Read(stateDir string) (Snapshot, error) {
	var s Snapshot
	if _, err := output.ReadStatusFile(filepath.Join(stateDir, FileName), &s); err != nil {
		return Snapshot{}, err
	}
	if s.Sources == nil {
		s.Sources = map[string]Listing{}
	}
	return s, nil
}
