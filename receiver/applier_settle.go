package receiver

import (
	"context"
	"time"
)

// While a burst of deliveries arrives, the applier waits and lets the
// journal absorb it: applying competes with the receiver for the same
// cores and the one writer connection, and every delivery is already
// durable (journaled and fsynced) before its 200, so waiting loses
// nothing and answers the burst sooner. It applies once deliveries pause
// for applyPause, or once the first delivery it was woken for has waited
// applyBound, whichever comes first.
//
// applyPause is well above the gap between two journal commits while a
// burst lasts (a few milliseconds, each commit taking every delivery
// waiting at that moment) and small beside a document's extraction, so a
// lone delivery is applied after this much. applyBound keeps a continuous
// stream applied and exported within about a second of its arrival (a
// pass every applyBound at most), far inside reconcile.webhook_grace,
// after which the poller would ask the API for what a webhook already
// brought. Both are fixed: no user has to tune them, and nothing but the
// delay from acknowledgment to export depends on them.
const (
	applyPause = 50 * time.Millisecond
	applyBound = time.Second
)

// loop is the applier's life: a pass at once (what a previous run
// journaled), then one each time a poke or a tick of the safety net wakes
// it and what woke it has settled (settle: a tick may land in a burst
// too), until ctx ends.
func (a *Applier) loop(ctx context.Context) {
	t := time.NewTicker(a.interval)
	defer t.Stop()
	for {
		a.pass(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-a.poke:
		}
		if !a.settle(ctx) {
			return
		}
	}
}

// settle returns once the deliveries that woke the applier have paused
// for applyPause, or applyBound after it was woken, whichever is first;
// false if ctx ended first (Stop: the daemon's last pass applies what
// waited). A poke coalesces every journal commit since the last check, so
// a burst costs one timer per applyPause, not one per delivery.
func (a *Applier) settle(ctx context.Context) bool {
	bound := a.after(applyBound)
	for {
		quiet := a.after(applyPause)
		select {
		case <-ctx.Done():
			return false
		case <-bound:
			// The pass takes what a poke since the last check announced.
			select {
			case <-a.poke:
			default:
			}
			return true
		case <-quiet:
		}
		select {
		case <-a.poke: // deliveries kept arriving: wait for the next pause
		default:
			return true
		}
	}
}
