// Package testwait waits, in tests, for a state that no channel announces
// (a file written, a counter moved, a log line seen): it re-checks a
// condition on each signal of a wake channel or on a short poll, and fails
// the test with what it waited for at a generous deadline. Only tests
// import it.
package testwait

import (
	"testing"
	"time"
)

// Deadline bounds every wait: far above what anything takes on a loaded
// 2-core CI machine, so that only a real hang fails.
const Deadline = 30 * time.Second

// poll is how often a condition is re-checked between signals.
const poll = 5 * time.Millisecond

// For returns once cond holds, re-checking it every few milliseconds, and
// fails tb after Deadline naming what.
func For(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	OnSignal(tb, nil, what, cond)
}

// OnSignal is For that also re-checks cond at once on each signal of wake
// (nil: none).
func OnSignal(tb testing.TB, wake <-chan struct{}, what string, cond func() bool) {
	tb.Helper()
	deadline := time.NewTimer(Deadline)
	defer deadline.Stop()
	tick := time.NewTicker(poll)
	defer tick.Stop()
	for !cond() {
		select {
		case <-wake:
		case <-tick.C:
		case <-deadline.C:
			tb.Fatalf("timed out after %v waiting for %s", Deadline, what)
		}
	}
}
