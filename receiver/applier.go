package receiver

import (
	"context"
	"log/slog"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/lifecycle"

	"github.com/docuparse/docuparse-ingest/internal/store"
)

// Applier applies journaled events to document state. The daemon wakes it
// (Notify) from the store's OnJournaled hook after each journal commit that
// stored a new event; once woken it lets a burst of deliveries land in the
// journal first (see settle: it applies when they pause, or when the
// oldest has waited applyBound). A ticker is the safety net, and the pass
// at Start applies what a previous run journaled but never applied. What
// the events change, the store announces as transitions
// (store.Options.OnTransition).
type Applier struct {
	store    EventStore
	interval time.Duration
	log      *slog.Logger
	poke     lifecycle.Poke
	group    lifecycle.Group

	// after is time.After; passed, when set, sees each pass's count.
	// Tests set both, to fire the burst timers by hand and see the passes.
	after  func(time.Duration) <-chan time.Time
	passed func(n int)
}

// NewApplier returns an Applier.
func NewApplier(st EventStore, log *slog.Logger) *Applier {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Applier{store: st, interval: 5 * time.Second, log: log, poke: lifecycle.NewPoke(), after: time.After}
}

// Notify wakes the applier.
func (a *Applier) Notify() { a.poke.Notify() }

// Start runs the applier until Stop. It returns at once.
func (a *Applier) Start(ctx context.Context) {
	a.group.Go(ctx, a.loop)
}

// pass applies what is pending and logs it.
func (a *Applier) pass(ctx context.Context) {
	n, err := a.RunOnce(ctx)
	if n > 0 {
		// One line per pass: each document's own step is at debug.
		a.log.Info("webhook events applied", "count", n)
	}
	if err != nil && ctx.Err() == nil {
		a.log.Error("applying webhook events failed; will retry", "err", err)
	}
	if a.passed != nil {
		a.passed(n)
	}
}

// Stop waits for the current pass to finish. Safe to call twice, and
// before Start.
func (a *Applier) Stop() { a.group.Stop() }

// RunOnce applies every pending event and returns how many it processed.
func (a *Applier) RunOnce(ctx context.Context) (int, error) {
	return ApplyPending(ctx, a.store)
}

// applyGroup is how many events one transaction applies.
const applyGroup = 256

// ApplyPending applies every event pending in st, oldest first, and
// returns how many it processed: each body is read by ParseEvent and what
// it means applied by st.ApplyEvents, a group at a time, each group in one
// transaction. The applier's passes are this.
func ApplyPending(ctx context.Context, st EventStore) (int, error) {
	total := 0
	for {
		evs, err := st.PendingEvents(ctx, applyGroup)
		if err != nil || len(evs) == 0 {
			return total, err
		}
		actions := make([]store.EventAction, len(evs))
		for i, e := range evs {
			actions[i] = ParseEvent(e.Body).Action(e.ID)
		}
		// 0 applied when an older event was queued again since the read
		// (an orphan whose document is now known): read again, in order.
		n, err := st.ApplyEvents(ctx, actions)
		if err != nil {
			return total, err
		}
		total += n
	}
}
