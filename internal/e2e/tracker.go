package e2e

import (
	"sync"
	"testing"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/store"
)

// Tracker records a daemon's document transitions (store.Options or
// daemon.Options OnTransition) so tests wait on them instead of sleeping.
type Tracker struct {
	mu      sync.Mutex
	byPath  map[string][]store.Transition
	byState map[store.State]int
	changed chan struct{}
}

// NewTracker returns an empty Tracker.
func NewTracker() *Tracker {
	return &Tracker{byPath: map[string][]store.Transition{}, byState: map[store.State]int{}, changed: make(chan struct{}, 1)}
}

// Observe records one transition. Pass it as the OnTransition hook.
func (tr *Tracker) Observe(t store.Transition) {
	tr.mu.Lock()
	tr.byPath[t.Path] = append(tr.byPath[t.Path], t)
	tr.byState[t.To]++
	tr.mu.Unlock()
	select {
	case tr.changed <- struct{}{}:
	default:
	}
}

// WaitFor blocks until cond holds, re-checking it after every transition;
// cond runs with the tracker locked, so it may call the lock-free helpers
// below (Reached, Ended, Count).
func (tr *Tracker) WaitFor(tb testing.TB, what string, timeout time.Duration, cond func() bool) {
	tb.Helper()
	deadline := time.After(timeout)
	for {
		tr.mu.Lock()
		ok := cond()
		tr.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-tr.changed:
		case <-deadline:
			tb.Fatalf("timed out waiting for %s", what)
		}
	}
}

// Reached reports whether path has had at least n transitions to state to.
// Call it inside a WaitFor condition.
func (tr *Tracker) Reached(path string, to store.State, n int) bool {
	for _, t := range tr.byPath[path] {
		if t.To == to {
			n--
		}
	}
	return n <= 0
}

// Ended reports whether path's document is exported or vanished. Call it
// inside a WaitFor condition.
func (tr *Tracker) Ended(path string) bool {
	return tr.Reached(path, store.StateExported, 1) || tr.Reached(path, store.StateVanished, 1)
}

// Count returns how many transitions to state there were. Call it inside a
// WaitFor condition.
func (tr *Tracker) Count(state store.State) int { return tr.byState[state] }

// AllEnded returns a WaitFor condition: every file ended.
func (tr *Tracker) AllEnded(files []Dropped) func() bool {
	return func() bool {
		for _, f := range files {
			if !tr.Ended(f.Path) {
				return false
			}
		}
		return true
	}
}

// Transitions returns a copy of path's transitions.
func (tr *Tracker) Transitions(path string) []store.Transition {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return append([]store.Transition(nil), tr.byPath[path]...)
}
