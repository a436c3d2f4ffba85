// Package storetest is the store conformance suite: one set of subtests,
// modelled on river's riverdrivertest, that every store backend must pass.
// It exercises every method of Backend through the store's public API only,
// the document state machine's allowed and refused transitions, the
// crash-recovery invariants (an intention written before its side effect is
// found again after a close and reopen; nothing is lost or doubled) and
// concurrency (two writers, a reader during a write).
//
// A backend runs it from a test of its own package:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) storetest.Opener {
//			dsn := newEmptyDatabase(t) // one fresh database per subtest, dropped by t.Cleanup
//			return func(opts store.Options) (storetest.Backend, error) {
//				return pgstore.Open(context.Background(), dsn, opts)
//			}
//		})
//	}
//
// The backend must honour store.Options: Now (every time it stores),
// OnTransition, OnEvent and OnJournaled (called after the commit). The SQLite store runs
// the suite in internal/store/conformance_test.go. Only tests import this
// package.
package storetest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/store"
	"github.com/docuparse/docuparse-ingest/internal/testclock"
)

// Opener opens one backend's store, the same one at every call: calling it
// again after Close is a restart of the daemon on the same state.
type Opener func(opts store.Options) (Backend, error)

// NewBackend makes a new, empty store for one subtest (cleaned up by t)
// and returns how to open it.
type NewBackend func(t *testing.T) Opener

// Run runs the whole suite against the backend newBackend makes. Each
// subtest gets a store of its own, and the subtests of a group run in
// parallel.
func Run(t *testing.T, newBackend NewBackend) {
	groups := []struct {
		name  string
		cases []testCase
	}{
		{"Intake", intakeCases},
		{"Submission", submissionCases},
		{"Events", eventCases},
		{"Polling", pollingCases},
		{"Export", exportCases},
		{"Mirror", mirrorCases},
		{"Report", reportCases},
		{"Retry", retryCases},
		{"Meta", metaCases},
		{"Prune", pruneCases},
		{"StateMachine", stateMachineCases},
		{"Recovery", recoveryCases},
		{"Concurrency", concurrencyCases},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			for _, c := range g.cases {
				t.Run(c.name, func(t *testing.T) {
					t.Parallel() // most of a subtest's time is spent waiting for its commits to be durable
					c.run(newHarness(t, newBackend(t)))
				})
			}
		})
	}
}

// testCase is one subtest of the suite.
type testCase struct {
	name string
	run  func(h *harness)
}

// start is the wall time every subtest's clock starts at.
var start = time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)

// harness is one subtest's store, its clock and what it announced.
type harness struct {
	t     *testing.T
	ctx   context.Context
	open  Opener
	clock *testclock.Clock
	b     Backend

	mu      sync.Mutex
	trs     []store.Transition
	events  []string
	pending int // events announced pending through OnJournaled
}

func newHarness(t *testing.T, open Opener) *harness {
	h := &harness{t: t, ctx: context.Background(), open: open, clock: testclock.New(start)}
	h.b = h.openStore()
	return h
}

// openStore opens the subtest's store with the harness's clock and hooks,
// and closes it when the subtest ends.
func (h *harness) openStore() Backend {
	h.t.Helper()
	b, err := h.open(store.Options{Now: h.clock.Now, OnTransition: h.onTransition, OnEvent: h.onEvent,
		OnJournaled: h.onJournaled})
	if err != nil {
		h.t.Fatalf("open store: %v", err)
	}
	h.t.Cleanup(func() { b.Close() })
	return b
}

// reopen closes the store and opens it again: a restart.
func (h *harness) reopen() {
	h.t.Helper()
	if err := h.b.Close(); err != nil {
		h.t.Fatalf("close store: %v", err)
	}
	h.b = h.openStore()
}

func (h *harness) onTransition(tr store.Transition) {
	h.mu.Lock()
	h.trs = append(h.trs, tr)
	h.mu.Unlock()
}

func (h *harness) onJournaled(n int) {
	h.mu.Lock()
	h.pending += n
	h.mu.Unlock()
}

// announcedPending returns how many events OnJournaled announced.
func (h *harness) announcedPending() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.pending
}

func (h *harness) onEvent(status string) {
	h.mu.Lock()
	h.events = append(h.events, status)
	h.mu.Unlock()
}

// transitions returns the transitions announced so far.
func (h *harness) transitions() []store.Transition {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]store.Transition(nil), h.trs...)
}

// eventStatuses returns the event statuses announced so far.
func (h *harness) eventStatuses() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.events...)
}

// path returns the states document id was announced entering, in order.
func (h *harness) path(id int64) []store.State {
	var out []store.State
	for _, tr := range h.transitions() {
		if tr.DocID == id {
			out = append(out, tr.To)
		}
	}
	return out
}

// must fails the subtest on err.
func (h *harness) must(err error) {
	h.t.Helper()
	if err != nil {
		h.t.Fatal(err)
	}
}
