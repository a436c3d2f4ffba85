package export

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/store"
)

// pendingAfter is a bucket source's after-action that failed for a
// temporary reason (the bucket unreachable or throttling, past the cloud
// client's own retries), tried again while the daemon runs: the document
// is exported already, and its object is not listed again.
type pendingAfter struct {
	doc  store.Document
	wait time.Duration // the wait before this try
	due  time.Time
}

// act applies a's after-action to d's input: the object in a's bucket, or
// the file.
func (e *Exporter) act(ctx context.Context, a SourceAfter, d store.Document) error {
	switch {
	case a.Bucket != nil:
		return applyBucketAfter(ctx, a, d)
	case !filepath.IsAbs(d.Path):
		// An object of a source that is a folder now: its bucket is not
		// open here.
		return fmt.Errorf("%s is not a file, and source %q is a folder now", d.Path, d.Source)
	}
	return applyAfter(e.cfg.Pins, a, d)
}

// retryAfter schedules d's after-action again after HoldRetry, or twice
// last (the previous try's wait) up to HoldRetryMax. Kept in memory
// only: after a restart, the object stays where it is.
func (e *Exporter) retryAfter(d store.Document, last time.Duration) {
	wait := e.cfg.HoldRetry
	if last > 0 {
		wait = min(2*last, e.cfg.HoldRetryMax)
	}
	e.mu.Lock()
	e.pending[d.ID] = pendingAfter{doc: d, wait: wait, due: time.Now().Add(wait)}
	e.mu.Unlock()
}

// retryAfters tries the after-actions that are due again (see after,
// which schedules them once more if they fail again for a temporary
// reason).
func (e *Exporter) retryAfters(ctx context.Context) {
	now := time.Now()
	var due []store.Document
	e.mu.Lock()
	for _, p := range e.pending {
		if !p.due.After(now) {
			due = append(due, p.doc)
		}
	}
	e.mu.Unlock()
	for _, d := range due {
		if ctx.Err() != nil {
			return
		}
		e.after(ctx, d)
	}
}
