package receiver

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/store"
)

// Applier applies journaled events to document state. The handler wakes it
// after each new event; a ticker is the safety net (and applies what a
// previous run journaled but never applied).
type Applier struct {
	store    *store.Store
	interval time.Duration
	onDone   func()
	log      *slog.Logger
	poke     chan struct{}
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	once     sync.Once
}

// NewApplier returns an Applier. onApplied, when set, is called after a
// pass applied at least one event (to wake the exporter).
func NewApplier(st *store.Store, onApplied func(), log *slog.Logger) *Applier {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Applier{store: st, interval: 5 * time.Second, onDone: onApplied, log: log, poke: make(chan struct{}, 1)}
}

// Notify wakes the applier.
func (a *Applier) Notify() {
	select {
	case a.poke <- struct{}{}:
	default:
	}
}

// Start runs the applier until Stop. It returns at once.
func (a *Applier) Start(ctx context.Context) {
	ctx, a.cancel = context.WithCancel(ctx)
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		t := time.NewTicker(a.interval)
		defer t.Stop()
		for {
			if _, err := a.RunOnce(ctx); err != nil && ctx.Err() == nil {
				a.log.Error("applying webhook events failed; will retry", "err", err)
			}
			select {
			case <-ctx.Done():
				return
			case <-a.poke:
			case <-t.C:
			}
		}
	}()
}

// Stop waits for the current pass to finish. Safe to call twice.
func (a *Applier) Stop() {
	a.once.Do(func() {
		if a.cancel != nil {
			a.cancel()
		}
	})
	a.wg.Wait()
}

// RunOnce applies every pending event and returns how many it processed.
func (a *Applier) RunOnce(ctx context.Context) (int, error) {
	total := 0
	for {
		n, err := a.store.ApplyPendingEvents(ctx, 256)
		total += n
		if err != nil {
			return total, err
		}
		if n == 0 {
			break
		}
	}
	if total > 0 && a.onDone != nil {
		a.onDone()
	}
	return total, nil
}
