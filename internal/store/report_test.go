package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"github.com/docuparse/docuparse-ingest/internal/testclock"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/docuparse"
)

func openReportStore(t *testing.T) (*Store, *testclock.Clock) {
	t.Helper()
	c := testclock.New(time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC))
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "state.db"), Options{Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, c
}

func TestAddCountersAddsToTheDaysCounters(t *testing.T) {
	s, _ := openReportStore(t)
	ctx := context.Background()
	if err := s.AddCounters(ctx, "2026-11-27", map[string]int64{"webhook_bad_signature": 3, "webhook_too_large": 1, "zero": 0}); err != nil {
		t.Fatal(err)
	}
	if err := s.AddCounters(ctx, "2026-11-27", map[string]int64{"webhook_bad_signature": 2}); err != nil {
		t.Fatal(err)
	}
	if err := s.AddCounters(ctx, "2026-11-28", map[string]int64{"webhook_bad_request": 7}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Counters(ctx, "2026-11-27")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{"webhook_bad_signature": 5, "webhook_too_large": 1}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("counters = %v, want %v", got, want)
	}
	empty, err := s.Counters(ctx, "2026-11-01")
	if err != nil || empty == nil || len(empty) != 0 {
		t.Fatalf("counters of a quiet day = %v, %v; want an empty map", empty, err)
	}
}

func TestAddCountersRefusesBadInputAndStoresNothing(t *testing.T) {
	s, _ := openReportStore(t)
	ctx := context.Background()
	for name, tc := range map[string]struct {
		day    string
		counts map[string]int64
	}{
		"a day that is not YYYY-MM-DD": {"27.11.2026", map[string]int64{"x": 1}},
		"a negative count":             {"2026-11-27", map[string]int64{"x": 1, "y": -1}},
		"an empty name":                {"2026-11-27", map[string]int64{"x": 1, "": 1}},
	} {
		if err := s.AddCounters(ctx, tc.day, tc.counts); err == nil {
			t.Errorf("%s: AddCounters succeeded", name)
		}
	}
	got, err := s.Counters(ctx, "2026-11-27")
	if err != nil || len(got) != 0 {
		t.Fatalf("counters after refusals = %v, %v; want none", got, err)
	}
}

func TestAddCountersFromManyGoroutinesLosesNothing(t *testing.T) {
	s, _ := openReportStore(t)
	ctx := context.Background()
	const workers, adds = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, workers*adds)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < adds; i++ {
				errs <- s.AddCounters(ctx, "2026-11-27", map[string]int64{"webhook_bad_signature": 1, "webhook_too_large": 2})
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Counters(ctx, "2026-11-27")
	if err != nil {
		t.Fatal(err)
	}
	if got["webhook_bad_signature"] != workers*adds || got["webhook_too_large"] != 2*workers*adds {
		t.Fatalf("counters = %v, want %d and %d", got, workers*adds, 2*workers*adds)
	}
}

// journalAndApply journals ev's body as the receiver would and applies it.
func journalAndApply(t *testing.T, s *Store, ev docuparse.Event) {
	t.Helper()
	ctx := context.Background()
	body, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(body)
	if _, err := s.JournalEvent(ctx, IncomingEvent{DedupeKey: hex.EncodeToString(sum[:]), Type: ev.Event,
		DocumentID: ev.DocumentID, BatchID: ev.BatchID, Body: body}); err != nil {
		t.Fatal(err)
	}
	applyPending(t, s)
}

func TestReportDataTakesTheWindowHalfOpen(t *testing.T) {
	s, c := openReportStore(t)
	ctx := context.Background()
	from := time.Date(2026, 11, 26, 23, 0, 0, 0, time.UTC)
	to := from.Add(24 * time.Hour)
	intakeAt := func(at time.Time, i int) int64 {
		c.Set(at)
		f := newFile(i, fmt.Sprintf("sha%d", i))
		return mustIntake(t, s, f).ID
	}
	intakeAt(from.Add(-time.Microsecond), 1) // the day before
	first := intakeAt(from, 2)
	stuck := intakeAt(from.Add(time.Hour), 3)
	last := intakeAt(to.Add(-time.Microsecond), 4)
	intakeAt(to, 5) // the day after

	// Document 3 is submitted in a batch of its own; polling finds the API
	// no longer knows it.
	c.Set(from.Add(2 * time.Hour))
	b, err := s.CreateBatch(ctx, ModeBatch, []int64{stuck})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.RecordSubmitted(ctx, b.ID, "batch_x", nil, []Submitted{{DocID: stuck, DocumentID: "doc_3"}}); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordPoll(ctx, stuck, from.Add(3*time.Hour), "NOT_FOUND: the API does not know this document"); err != nil {
		t.Fatal(err)
	}
	// Document 2's batch (of one) is done and never gets its summary;
	// a summary for batch_x arrives and disagrees once document 3 is done.
	b2, err := s.CreateBatch(ctx, ModeBatch, []int64{first})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.RecordSubmitted(ctx, b2.ID, "batch_y", nil, []Submitted{{DocID: first, DocumentID: "doc_2"}}); err != nil {
		t.Fatal(err)
	}
	journalAndApply(t, s, docuparse.Event{Event: docuparse.EventDocumentCompleted, DocumentID: "doc_2", Data: json.RawMessage(`{}`)})
	journalAndApply(t, s, docuparse.Event{Event: docuparse.EventBatchCompleted, BatchID: "batch_x",
		Summary: &docuparse.Summary{Total: 1, Succeeded: 1}})
	journalAndApply(t, s, docuparse.Event{Event: docuparse.EventDocumentCompleted, DocumentID: "doc_ghost"})
	c.Set(to.Add(time.Minute))
	journalAndApply(t, s, docuparse.Event{Event: "document.archived", DocumentID: "doc_2"}) // the next day
	c.Set(from.Add(5 * time.Hour))
	journalAndApply(t, s, docuparse.Event{Event: docuparse.EventDocumentFailed, DocumentID: "doc_3",
		Error: &docuparse.Error{Code: "EXTRACTION_FAILED"}})
	if err := s.AddCounters(ctx, "2026-11-27", map[string]int64{"webhook_bad_signature": 2}); err != nil {
		t.Fatal(err)
	}

	d, err := s.ReportData(ctx, ReportWindow{Day: "2026-11-27", From: from, To: to})
	if err != nil {
		t.Fatal(err)
	}
	if d.Discovered != 3 || len(d.Documents) != 3 {
		t.Fatalf("discovered %d, %d documents; want 3 (first, stuck, last)", d.Discovered, len(d.Documents))
	}
	if d.Documents[0].ID != first || d.Documents[1].ID != stuck || d.Documents[2].ID != last {
		t.Fatalf("documents %d, %d, %d; want %d, %d, %d in discovery order",
			d.Documents[0].ID, d.Documents[1].ID, d.Documents[2].ID, first, stuck, last)
	}
	if got := d.Documents[1].LastPollError; got != "NOT_FOUND: the API does not know this document" {
		t.Errorf("last poll error = %q", got)
	}
	wantCounts := map[string]int{EventApplied: 3, EventOrphan: 1}
	if fmt.Sprint(d.EventCounts) != fmt.Sprint(wantCounts) {
		t.Errorf("event counts = %v, want %v", d.EventCounts, wantCounts)
	}
	if len(d.Events) != 1 || d.Events[0].DocumentID != "doc_ghost" || d.Events[0].Status != EventOrphan {
		t.Errorf("listed events = %+v, want the orphan only", d.Events)
	}
	if len(d.Mismatches) != 1 || d.Mismatches[0].APIBatchID != "batch_x" {
		t.Errorf("mismatches = %+v, want batch_x", d.Mismatches)
	}
	if len(d.MissingSummaries) != 1 || d.MissingSummaries[0].APIBatchID != "batch_y" || d.MissingSummaries[0].FileCount != 1 {
		t.Errorf("missing summaries = %+v, want batch_y", d.MissingSummaries)
	}
	if d.Counters["webhook_bad_signature"] != 2 {
		t.Errorf("counters = %v", d.Counters)
	}
	if _, err := s.ReportData(ctx, ReportWindow{Day: "x", From: to, To: from}); err == nil {
		t.Error("an empty window was accepted")
	}
}
