package storetest

import (
	"fmt"
	"sync"

	"github.com/docuparse/docuparse-ingest/internal/store"
)

var metaCases = []testCase{
	{"MetaKeepsTheLastValueSet", metaValues},
	{"StatusOfAnEmptyAndABusyStore", statusCounts},
	{"PingAnswersAndCloseIsSafeTwice", pingAndClose},
	{"TransitionsAreAnnouncedAfterTheirCommit", announcedAfterCommit},
}

func metaValues(h *harness) {
	if v, ok, err := h.b.Meta(h.ctx, "report_last"); err != nil || ok || v != "" {
		h.t.Fatalf("a key never set = %q, %v, %v", v, ok, err)
	}
	h.must(h.b.SetMeta(h.ctx, "report_last", "2026-11-26"))
	h.must(h.b.SetMeta(h.ctx, "report_last", "2026-11-27"))
	h.must(h.b.SetMeta(h.ctx, "empty", ""))
	if v, ok, err := h.b.Meta(h.ctx, "report_last"); err != nil || !ok || v != "2026-11-27" {
		h.t.Fatalf("report_last = %q, %v, %v; want the last value", v, ok, err)
	}
	if v, ok, err := h.b.Meta(h.ctx, "empty"); err != nil || !ok || v != "" {
		h.t.Fatalf("a key set empty = %q, %v, %v; want set", v, ok, err)
	}
}

func statusCounts(h *harness) {
	st, err := h.b.Status(h.ctx)
	h.must(err)
	if len(st.Counts) != 0 || len(st.Outcomes) != 0 || len(st.Events) != 0 || !st.OldestPending.IsZero() || !st.LastEvent.IsZero() ||
		st.ExportHeld != 0 || st.SubmitStuck != 0 {
		h.t.Fatalf("status of an empty store = %+v", st)
	}
	h.docIn(1, "queued")
	h.docIn(2, "submitted")
	h.docIn(3, "exported completed")
	h.docIn(4, "duplicate") // and its original, queued
	h.docIn(5, "vanished")
	st, err = h.b.Status(h.ctx)
	h.must(err)
	want := map[store.State]int{store.StateQueued: 2, store.StateSubmitted: 1, store.StateExported: 1, store.StateDuplicate: 1, store.StateVanished: 1}
	for s, n := range want {
		if st.Counts[s] != n {
			h.t.Errorf("status counts %d %s, want %d (%v)", st.Counts[s], s, n, st.Counts)
		}
	}
	if st.Outcomes[store.StateCompleted] != 1 || st.Outcomes[store.StateDuplicate] != 1 || st.Outcomes[store.StateVanished] != 1 ||
		len(st.Outcomes) != 3 || !st.OldestPending.Equal(start) {
		h.t.Fatalf("status = %+v", st)
	}
}

func pingAndClose(h *harness) {
	h.must(h.b.Ping(h.ctx))
	h.must(h.b.Close())
	if err := h.b.Close(); err != nil {
		h.t.Fatalf("a second Close: %v", err)
	}
	h.b = h.openStore()
	h.must(h.b.Ping(h.ctx))
}

// OnTransition is called after the commit: a part woken by it (the
// submitter, the exporter) reads the state the transition announced.
func announcedAfterCommit(h *harness) {
	var (
		mu     sync.Mutex
		b      Backend
		wrong  []string
		called int
	)
	opened, err := h.open(store.Options{Now: h.clock.Now, OnTransition: func(tr store.Transition) {
		mu.Lock()
		defer mu.Unlock()
		called++
		if d, err := b.Get(h.ctx, tr.DocID); err != nil || d.State != tr.To {
			wrong = append(wrong, fmt.Sprintf("%s→%s of %d read as %v (%v)", tr.From, tr.To, tr.DocID, d, err))
		}
	}})
	h.must(err)
	h.t.Cleanup(func() { opened.Close() })
	mu.Lock()
	b = opened
	mu.Unlock()
	h.b = b
	h.docIn(1, "exported completed")
	h.docIn(2, "exported rejected")
	h.docIn(3, "duplicate")
	mu.Lock()
	defer mu.Unlock()
	if called != 9 || len(wrong) != 0 {
		h.t.Fatalf("%d transitions announced, want 9; read before their commit: %v", called, wrong)
	}
}
