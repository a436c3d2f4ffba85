package receiver

import "time"

// SetApplierInterval sets the applier's safety-net ticker, so a test can
// prove that Notify, not the ticker, woke it.
func SetApplierInterval(a *Applier, d time.Duration) { a.interval = d }

// HoldJournal makes the journal's writer call f with each group's size
// before committing it, so a test can hold verified deliveries in flight.
func HoldJournal(h *Handler, f func(n int)) { h.journal.beforeCommit = f }

// OnAcceptWait makes s call f each time its listener, at the connection
// cap, starts to wait with a new connection in hand. Call before Start.
func OnAcceptWait(s *Server, f func()) { s.ln.(*limitListener).waiting = f }

// UnverifiedBytes is what unverified bodies hold of h's budget now.
func UnverifiedBytes(h *Handler) int64 { return h.budget.used.Load() }

// ApplyPause and ApplyBound are the applier's burst timers.
const ApplyPause, ApplyBound = applyPause, applyBound

// SetApplierTimers makes a ask after for its burst timers and call passed
// with the count of each pass. Call before Start.
func SetApplierTimers(a *Applier, after func(time.Duration) <-chan time.Time, passed func(n int)) {
	a.after, a.passed = after, passed
}
