// Package mirror owns copying the outputs into output_url's bucket, for
// users whose ERP imports from a bucket: each JSON result, each day's CSV
// files once the day is closed, and the reconciliation reports, each
// exactly once, across crashes, restarts and bucket outages.
//
// Exactly once rests on the store and on the bucket's answers, never on
// memory. A file found to mirror is hashed and recorded first (the
// intention: its key, size and SHA-256; store.IntendMirror), then
// uploaded, then recorded as mirrored. An upload is made only where the key
// holds nothing: the key is looked at first, and the write itself is
// conditional (gocloud's IfNotExist) where the cloud can refuse it. An
// object already at the key — a crash between the upload and its record,
// or a write the cloud refused — is read back and compared with the
// intended bytes: the same bytes are recorded as mirrored, other bytes are
// a conflict, left alone and logged once. Names are fixed by the output
// layout (results/DAY/NAME.json, csv/documents-DAY.csv,
// reports/reconciliation-DAY.md), and a report rewritten after it was
// mirrored goes under a name that holds its content's hash, so no key is
// ever written with two contents.
//
// What to mirror is found by a sweep of the output directory, run when the
// exporter or the reporter pokes (Notify) and on a ticker; files are read
// through the pinned output directory (internal/safedir: no symbolic link
// followed) and streamed, never held whole.
package mirror

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/bucket"
	"github.com/docuparse/docuparse-ingest/internal/health"
	"github.com/docuparse/docuparse-ingest/internal/lifecycle"
	"github.com/docuparse/docuparse-ingest/internal/output"
	"github.com/docuparse/docuparse-ingest/internal/safedir"
)

// Kinds of mirrored files (the store's mirror.kind, the uploaded counter's
// label).
const (
	KindResult = "result"
	KindCSV    = "csv"
	KindReport = "report"
)

// Config configures a Mirror.
type Config struct {
	Store Store
	// Layout is the output directory; its Location is the report time
	// zone, in which a day is closed.
	Layout output.Layout
	// URL is output_url, a gocloud blob URL (see bucket.Parse).
	URL string
	// Interval is the sweep's period. Defaults to 30 seconds.
	Interval time.Duration
	// BackoffMax bounds the wait between tries while the bucket fails;
	// the wait starts at Interval and doubles. Defaults to 10 minutes.
	BackoffMax time.Duration
	// MinGap is the least time from one pass's start to the next one a
	// poke starts: under a steady export (a poke per document) the sweep
	// runs at this pace, not back to back. Defaults to 2 seconds.
	MinGap time.Duration
	// CloseGrace is how long after a day's end its CSV files wait, beyond
	// the exporter having nothing left for the day, before they are
	// mirrored. Defaults to 5 minutes.
	CloseGrace time.Duration
	// RequestTimeout bounds a request to the bucket, plus the time an
	// object's bytes take at 64 KiB/s. Defaults to 2 minutes.
	RequestTimeout time.Duration
	// Health receives the "mirror" problem while the bucket fails (nil:
	// none).
	Health *health.Tracker
	// OnPending, when set, is told the backlog after each pass.
	OnPending func(n int)
	// OnUploaded, when set, is told of each object mirrored, by kind.
	OnUploaded func(kind string)
	// Now is the clock for closed days. Defaults to time.Now.
	Now    func() time.Time
	Logger *slog.Logger
}

// Mirror copies the outputs into a bucket.
type Mirror struct {
	cfg    Config
	bucket *bucket.Bucket
	out    *safedir.Dir
	poke   lifecycle.Poke
	group  lifecycle.Group

	// scanned remembers, per results day folder, its modification time
	// when it was last listed whole: a folder unchanged since is not
	// listed again by this process.
	mu      sync.Mutex
	scanned map[string]time.Time
	// reports remembers each report file's size and modification time
	// when it was last hashed.
	reports map[string]fileStamp
}

type fileStamp struct {
	size  int64
	mtime time.Time
}

// New opens the bucket (without reaching it) and pins the output
// directory.
func New(ctx context.Context, cfg Config) (*Mirror, error) {
	if cfg.Interval <= 0 {
		cfg.Interval = 30 * time.Second
	}
	if cfg.BackoffMax < cfg.Interval {
		cfg.BackoffMax = max(10*time.Minute, cfg.Interval)
	}
	if cfg.MinGap <= 0 {
		cfg.MinGap = 2 * time.Second
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = 2 * time.Minute
	}
	if cfg.CloseGrace <= 0 {
		cfg.CloseGrace = 5 * time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Layout.Location == nil {
		cfg.Layout.Location = time.Local
	}
	b, err := bucket.Open(ctx, cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("output_url: %w", err)
	}
	out, err := safedir.Open(cfg.Layout.Root, cfg.Logger)
	if err != nil {
		b.Close()
		return nil, fmt.Errorf("mirror: %w", err)
	}
	return &Mirror{cfg: cfg, bucket: b, out: out, poke: lifecycle.NewPoke(),
		scanned: map[string]time.Time{}, reports: map[string]fileStamp{}}, nil
}

// Notify wakes the mirror: outputs were written.
func (m *Mirror) Notify() {
	if m != nil {
		m.poke.Notify()
	}
}

// Start runs passes until Stop: at once, on each poke (MinGap apart at
// most), and every Interval; while the bucket fails, only after a wait
// that doubles up to BackoffMax (pokes do not hurry it). It returns at
// once.
func (m *Mirror) Start(ctx context.Context) {
	m.group.Go(ctx, func(ctx context.Context) {
		var backoff time.Duration // 0 while the bucket answers
		for {
			began := time.Now()
			err := m.runOnce(ctx)
			poke, wait := m.poke, m.cfg.Interval
			if err != nil {
				backoff = min(max(backoff*2, m.cfg.Interval), m.cfg.BackoffMax)
				poke, wait = nil, backoff
			} else {
				backoff = 0
			}
			if !sleep(ctx, wait, poke) || poke != nil && !sleep(ctx, m.cfg.MinGap-time.Since(began), nil) {
				return
			}
		}
	})
}

// sleep waits for d, a poke or the end of ctx, and reports whether ctx is
// still going.
func sleep(ctx context.Context, d time.Duration, poke lifecycle.Poke) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-poke:
	case <-t.C:
	}
	return true
}

// Stop waits for the current pass to end and releases the bucket and the
// output directory. Safe to call twice, and before Start.
func (m *Mirror) Stop() {
	m.group.Stop()
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.bucket != nil {
		m.bucket.Close()
		m.out.Close()
		m.bucket = nil
	}
}

// runOnce finds the outputs not mirrored yet and records each one's
// intention, then uploads every intended object. A bucket failure ends
// the pass (the rest waits for the next) and starts the mirror problem;
// a pass that reaches the bucket ends it. The error is the bucket's or
// the store's.
func (m *Mirror) runOnce(ctx context.Context) error {
	if err := m.discover(ctx); err != nil && ctx.Err() == nil {
		m.cfg.Logger.Warn("mirror: looking for outputs to mirror failed; will retry", "err", err)
	}
	err := m.uploadPending(ctx)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if n, cerr := m.cfg.Store.MirrorPendingCount(ctx); cerr == nil && m.cfg.OnPending != nil {
		m.cfg.OnPending(n)
	}
	if err != nil {
		m.cfg.Health.Set(health.Mirror, err.Error())
		return err
	}
	m.cfg.Health.Clear(health.Mirror)
	return nil
}
