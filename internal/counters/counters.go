// Package counters owns the daily operational counters that are not
// documents or events — webhook deliveries refused before anything was
// stored (bad signature, too large, malformed), API calls by endpoint — and
// their periodic flush to the store, where the nightly report reads them.
//
// Counts are kept in memory and added to the store's daily_counters table
// every flush interval and at Stop. A crash loses at most one interval of
// counts; they are statistics, never the record of a document.
package counters

import (
	"context"
	"log/slog"
	"maps"
	"sync"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/lifecycle"
	"github.com/docuparse/docuparse-ingest/internal/vocab"
)

// Counter names used by the daemon. Every webhook refusal reason is counted
// under vocab.RefusalCounter(reason); the three named here are those the
// nightly report gives words to.
const (
	WebhookBadSignature = vocab.RefusalCounterPrefix + vocab.RefusedBadSignature
	WebhookTooLarge     = vocab.RefusalCounterPrefix + vocab.RefusedTooLarge
	WebhookBadRequest   = vocab.RefusalCounterPrefix + vocab.RefusedBadRequest
	APICallsPrefix      = "api_calls_" // + endpoint, e.g. api_calls_get_document
)

// Sink is where counts go: the store's AddCounters.
type Sink func(ctx context.Context, day string, counts map[string]int64) error

// Counters accumulates named counts per local day.
type Counters struct {
	sink     Sink
	loc      *time.Location
	now      func() time.Time
	interval time.Duration
	log      *slog.Logger

	mu      sync.Mutex
	pending map[string]map[string]int64 // day → name → count
	group   lifecycle.Group
}

// New returns Counters flushing to sink every interval (default 30 s), with
// days in loc.
func New(sink Sink, loc *time.Location, interval time.Duration, log *slog.Logger) *Counters {
	if interval <= 0 {
		interval = 30 * time.Second
	}
	if loc == nil {
		loc = time.Local
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Counters{sink: sink, loc: loc, now: time.Now, interval: interval, log: log, pending: map[string]map[string]int64{}}
}

// Add counts n more of name today. It never blocks on I/O.
func (c *Counters) Add(name string, n int64) {
	day := c.now().In(c.loc).Format("2006-01-02")
	c.mu.Lock()
	defer c.mu.Unlock()
	m := c.pending[day]
	if m == nil {
		m = map[string]int64{}
		c.pending[day] = m
	}
	m[name] += n
}

// Start flushes every interval until Stop. It returns at once.
func (c *Counters) Start(ctx context.Context) {
	c.group.Go(ctx, func(ctx context.Context) {
		lifecycle.Loop(ctx, c.interval, nil, func(ctx context.Context) {
			if err := c.Flush(ctx); err != nil && ctx.Err() == nil {
				c.log.Warn("flushing counters failed; will retry", "err", err)
			}
		})
	})
}

// Stop stops the flusher and flushes what is left. Safe to call twice.
func (c *Counters) Stop() {
	c.group.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Flush(ctx); err != nil {
		c.log.Warn("final counter flush failed", "err", err)
	}
}

// Flush adds the pending counts to the sink. Counts that fail to flush are
// kept for the next try.
func (c *Counters) Flush(ctx context.Context) error {
	c.mu.Lock()
	batch := c.pending
	c.pending = map[string]map[string]int64{}
	c.mu.Unlock()
	for day, counts := range batch {
		if err := c.sink(ctx, day, counts); err != nil {
			c.mu.Lock()
			for d, m := range batch {
				if c.pending[d] == nil {
					c.pending[d] = map[string]int64{}
				}
				for k, v := range m {
					c.pending[d][k] += v
				}
			}
			c.mu.Unlock()
			return err
		}
		delete(batch, day)
	}
	return nil
}

// Snapshot returns the counts not flushed yet (for tests and status).
func (c *Counters) Snapshot() map[string]map[string]int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]map[string]int64, len(c.pending))
	for d, m := range c.pending {
		out[d] = maps.Clone(m)
	}
	return out
}
