package storetest

import (
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/docuparse"
	"github.com/docuparse/docuparse-ingest/internal/store"
)

var reportCases = []testCase{
	{"AddCountersAddsToTheDaysCounters", addCounters},
	{"AddCountersRefusesBadInputAndStoresNothing", addCountersRefuses},
	{"AddCountersFromManyGoroutinesLosesNothing", addCountersConcurrently},
	{"ReportDataTakesTheWindowHalfOpen", reportDataWindow},
	{"CountOutcomesCountsVanishedAndKeepsEarlierDaysOutOfToday", countOutcomes},
	{"FirstDiscoveredIsTheFirstIntake", firstDiscovered},
}

// Moved from internal/store TestAddCountersAddsToTheDaysCounters.
func addCounters(h *harness) {
	h.must(h.b.AddCounters(h.ctx, "2026-11-27", map[string]int64{"webhook_bad_signature": 3, "webhook_too_large": 1, "zero": 0}))
	h.must(h.b.AddCounters(h.ctx, "2026-11-27", map[string]int64{"webhook_bad_signature": 2}))
	h.must(h.b.AddCounters(h.ctx, "2026-11-28", map[string]int64{"webhook_bad_request": 7}))
	h.must(h.b.AddCounters(h.ctx, "2026-11-28", nil))
	got, err := h.b.Counters(h.ctx, "2026-11-27")
	h.must(err)
	if want := map[string]int64{"webhook_bad_signature": 5, "webhook_too_large": 1}; fmt.Sprint(got) != fmt.Sprint(want) {
		h.t.Fatalf("counters = %v, want %v", got, want)
	}
	empty, err := h.b.Counters(h.ctx, "2026-11-01")
	if err != nil || empty == nil || len(empty) != 0 {
		h.t.Fatalf("counters of a quiet day = %v, %v; want an empty map", empty, err)
	}
}

// Moved from internal/store TestAddCountersRefusesBadInputAndStoresNothing.
func addCountersRefuses(h *harness) {
	for name, tc := range map[string]struct {
		day    string
		counts map[string]int64
	}{
		"a day that is not YYYY-MM-DD": {"27.11.2026", map[string]int64{"x": 1}},
		"a negative count":             {"2026-11-27", map[string]int64{"x": 1, "y": -1}},
		"an empty name":                {"2026-11-27", map[string]int64{"x": 1, "": 1}},
	} {
		if err := h.b.AddCounters(h.ctx, tc.day, tc.counts); err == nil {
			h.t.Errorf("%s: AddCounters succeeded", name)
		}
	}
	if got, err := h.b.Counters(h.ctx, "2026-11-27"); err != nil || len(got) != 0 {
		h.t.Fatalf("counters after refusals = %v, %v; want none", got, err)
	}
}

// Moved from internal/store TestAddCountersFromManyGoroutinesLosesNothing.
func addCountersConcurrently(h *harness) {
	const workers, adds = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, workers*adds)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range adds {
				errs <- h.b.AddCounters(h.ctx, "2026-11-27", map[string]int64{"webhook_bad_signature": 1, "webhook_too_large": 2})
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		h.must(err)
	}
	got, err := h.b.Counters(h.ctx, "2026-11-27")
	h.must(err)
	if got["webhook_bad_signature"] != workers*adds || got["webhook_too_large"] != 2*workers*adds {
		h.t.Fatalf("counters = %v, want %d and %d", got, workers*adds, 2*workers*adds)
	}
}

// journalAndApply journals ev, keyed by its body, and applies it.
func (h *harness) journalAndApply(ev docuparse.Event) {
	h.t.Helper()
	body, err := json.Marshal(ev)
	h.must(err)
	h.journalRaw(string(body), string(body))
	applyPending(h)
}

// Moved from internal/store TestReportDataTakesTheWindowHalfOpen.
func reportDataWindow(h *harness) {
	from := time.Date(2026, 11, 26, 23, 0, 0, 0, time.UTC)
	to := from.Add(24 * time.Hour)
	intakeAt := func(at time.Time, i int) int64 {
		h.clock.Set(at)
		return h.queued(i)
	}
	intakeAt(from.Add(-time.Microsecond), 1) // the day before
	first := intakeAt(from, 2)
	stuck := intakeAt(from.Add(time.Hour), 3)
	last := intakeAt(to.Add(-time.Microsecond), 4)
	intakeAt(to, 5) // the day after

	// Document 3 is submitted in a batch of its own; polling finds the API
	// no longer knows it.
	h.clock.Set(from.Add(2 * time.Hour))
	b := h.batch(store.ModeBatch, stuck)
	h.must(h.b.RecordSubmitted(h.ctx, b.ID, "batch_x", nil, []store.Submitted{{DocID: stuck, DocumentID: "doc_3"}}))
	h.must(h.b.RecordPoll(h.ctx, stuck, from.Add(3*time.Hour), "NOT_FOUND: the API does not know this document"))
	// Document 2's batch (of one) is done and never gets its summary;
	// a summary for batch_x arrives and disagrees once document 3 is done.
	b2 := h.batch(store.ModeBatch, first)
	h.must(h.b.RecordSubmitted(h.ctx, b2.ID, "batch_y", nil, []store.Submitted{{DocID: first, DocumentID: "doc_2"}}))
	h.journalAndApply(docuparse.Event{Event: docuparse.EventDocumentCompleted, DocumentID: "doc_2", Data: json.RawMessage(`{}`)})
	h.journalAndApply(docuparse.Event{Event: docuparse.EventBatchCompleted, BatchID: "batch_x", Summary: &docuparse.Summary{Total: 1, Succeeded: 1}})
	h.journalAndApply(docuparse.Event{Event: docuparse.EventDocumentCompleted, DocumentID: "doc_ghost"})
	h.clock.Set(to.Add(time.Minute))
	h.journalAndApply(docuparse.Event{Event: "document.archived", DocumentID: "doc_2"}) // the next day
	h.clock.Set(from.Add(5 * time.Hour))
	h.journalAndApply(docuparse.Event{Event: docuparse.EventDocumentFailed, DocumentID: "doc_3", Error: &docuparse.Error{Code: "EXTRACTION_FAILED"}})
	h.must(h.b.AddCounters(h.ctx, "2026-11-27", map[string]int64{"webhook_bad_signature": 2}))

	d, err := h.b.ReportData(h.ctx, store.ReportWindow{Day: "2026-11-27", From: from, To: to})
	h.must(err)
	if d.Discovered != 3 || len(d.Documents) != 3 {
		h.t.Fatalf("discovered %d, %d documents; want 3 (first, stuck, last)", d.Discovered, len(d.Documents))
	}
	if d.Documents[0].ID != first || d.Documents[1].ID != stuck || d.Documents[2].ID != last {
		h.t.Fatalf("documents %d, %d, %d; want %d, %d, %d in discovery order",
			d.Documents[0].ID, d.Documents[1].ID, d.Documents[2].ID, first, stuck, last)
	}
	if got := d.Documents[1].LastPollError; got != "NOT_FOUND: the API does not know this document" {
		h.t.Errorf("last poll error = %q", got)
	}
	if want := map[string]int{store.EventApplied: 3, store.EventOrphan: 1}; fmt.Sprint(d.EventCounts) != fmt.Sprint(want) {
		h.t.Errorf("event counts = %v, want %v", d.EventCounts, want)
	}
	if len(d.Events) != 1 || d.Events[0].DocumentID != "doc_ghost" || d.Events[0].Status != store.EventOrphan {
		h.t.Errorf("listed events = %+v, want the orphan only", d.Events)
	}
	if len(d.Mismatches) != 1 || d.Mismatches[0].APIBatchID != "batch_x" {
		h.t.Errorf("mismatches = %+v, want batch_x", d.Mismatches)
	}
	if len(d.MissingSummaries) != 1 || d.MissingSummaries[0].APIBatchID != "batch_y" || d.MissingSummaries[0].FileCount != 1 {
		h.t.Errorf("missing summaries = %+v, want batch_y", d.MissingSummaries)
	}
	if d.Counters["webhook_bad_signature"] != 2 {
		h.t.Errorf("counters = %v", d.Counters)
	}
	if _, err := h.b.ReportData(h.ctx, store.ReportWindow{Day: "x", From: to, To: from}); err == nil {
		h.t.Error("an empty window was accepted")
	}
}

// Moved from internal/store TestCountOutcomesCountsVanishedAndKeepsEarlierDaysOutOfToday:
// a vanished document counts as vanished, never as awaiting export; a
// document whose outcome came before the day counts in the total only.
func countOutcomes(h *harness) {
	gone := h.queued(1)
	h.must(h.b.Finish(h.ctx, []int64{gone}, store.StateVanished, "", "file gone"))
	h.clock.Advance(24 * time.Hour)
	if _, err := h.b.Reject(h.ctx, file(2, sha(2)), docuparse.CodeUnsupportedMedia, "refused"); err != nil {
		h.t.Fatal(err)
	}
	h.queued(3)
	day := h.clock.Now()
	got, err := h.b.CountOutcomes(h.ctx, day, day.Add(24*time.Hour))
	h.must(err)
	for name, tc := range map[string]struct {
		t                  store.Tally
		vanished, rejected int
	}{"total": {got.All.Total, 1, 1}, "today": {got.All.Today, 0, 1}, "inbox today": {got.Sources[source].Today, 0, 1}} {
		if tc.t.Ended[store.StateVanished] != tc.vanished || tc.t.Ended[store.StateRejected] != tc.rejected || tc.t.AwaitingExport != tc.rejected ||
			tc.t.InFlight[store.StateQueued] != 1 {
			h.t.Errorf("%s = %+v, want vanished %d, rejected %d (awaiting export), 1 queued", name, tc.t, tc.vanished, tc.rejected)
		}
	}
	st, err := h.b.Status(h.ctx)
	h.must(err)
	if st.Outcomes[store.StateVanished] != 1 || st.Outcomes[store.StateRejected] != 1 || st.Counts[store.StateQueued] != 1 ||
		!st.OldestPending.Equal(day) {
		h.t.Fatalf("status = %+v", st)
	}
}

func firstDiscovered(h *harness) {
	if _, ok, err := h.b.FirstDiscovered(h.ctx); err != nil || ok {
		h.t.Fatalf("FirstDiscovered of an empty store = %v, %v", ok, err)
	}
	h.docIn(1, "rejected")
	h.clock.Advance(time.Hour)
	h.queued(2)
	if at, ok, err := h.b.FirstDiscovered(h.ctx); err != nil || !ok || !at.Equal(start) {
		h.t.Fatalf("FirstDiscovered = %v, %v, %v; want %v", at, ok, err, start)
	}
}
