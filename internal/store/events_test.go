package store

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/docuparse/docuparse-ingest/internal/docuparse"
)

// applyPending applies every pending event through PendingEvents and
// ApplyEvents, as the receiver's applier does, and returns how many it
// processed. The store never reads a body: the typed action for each one
// is built here from the docuparse.Event the test journaled (testAction).
// How the receiver reads real bodies is tested in package receiver.
func applyPending(t *testing.T, s *Store) int {
	t.Helper()
	ctx := context.Background()
	evs, err := s.PendingEvents(ctx, 1000)
	if err != nil {
		t.Fatal(err)
	}
	actions := make([]EventAction, len(evs))
	for i, e := range evs {
		actions[i] = testAction(t, e)
	}
	if _, err := s.ApplyEvents(ctx, actions); err != nil {
		t.Fatal(err)
	}
	return len(evs)
}

// testAction is the action for a body journaled by a test: a
// docuparse.Event of a known type with the fields it needs.
func testAction(t *testing.T, e PendingEvent) EventAction {
	t.Helper()
	var ev docuparse.Event
	if err := json.Unmarshal(e.Body, &ev); err != nil {
		t.Fatalf("event %d: a test journaled a body that is not an event: %v", e.ID, err)
	}
	a := EventAction{EventID: e.ID}
	switch ev.Event {
	case docuparse.EventDocumentCompleted:
		a.Result = &Result{DocumentID: ev.DocumentID, Status: docuparse.StatusCompleted, Data: ev.Data, Via: ViaWebhook, APITimestamp: ev.Timestamp}
	case docuparse.EventDocumentFailed:
		a.Result = &Result{DocumentID: ev.DocumentID, Status: docuparse.StatusFailed, Via: ViaWebhook, APITimestamp: ev.Timestamp}
		if ev.Error != nil {
			a.Result.ErrorCode, a.Result.ErrorMessage = ev.Error.Code, ev.Error.Message
		}
	case docuparse.EventBatchCompleted:
		summary, _ := json.Marshal(ev.Summary)
		a.Summary = &BatchSummary{APIBatchID: ev.BatchID, Summary: string(summary)}
	default:
		a.Dead = "unknown event type"
	}
	return a
}

// Events apply in arrival order, whichever pass reads them. An event that
// beat its document's submit answer (an orphan) is queued again when the
// answer is recorded; a later event for the same document, read by an
// applier pass just before that, must not be applied ahead of it, or the
// later outcome would win over the first one. (Before orphans were queued
// again, RecordSubmission applied them itself, ahead of everything.)
func TestAnOrphanQueuedAgainAppliesBeforeALaterEventReadAheadOfIt(t *testing.T) {
	ctx := context.Background()
	s, _ := setup(t)
	a := mustIntake(t, s, newFile(1, "a1"))
	batch, err := s.CreateBatch(ctx, ModeSingle, []int64{a.ID})
	if err != nil {
		t.Fatal(err)
	}
	event(t, s, "first", docuparse.Event{Event: docuparse.EventDocumentCompleted, DocumentID: "doc_a", Data: json.RawMessage(`{"total":"1.00"}`)})
	applyPending(t, s) // before the answer: an orphan
	event(t, s, "second", docuparse.Event{Event: docuparse.EventDocumentFailed, DocumentID: "doc_a",
		Error: &docuparse.Error{Code: "EXTRACTION_FAILED", Message: "later, contradicting"}})
	read, err := s.PendingEvents(ctx, 10) // an applier pass reads the second event…
	if err != nil || len(read) != 1 {
		t.Fatalf("pending = %d, %v; want the second event alone", len(read), err)
	}
	// …the answer is recorded meanwhile, queuing the orphan again…
	if err := s.RecordSubmitted(ctx, batch.ID, "", nil, []Submitted{{a.ID, "doc_a"}}); err != nil {
		t.Fatal(err)
	}
	// …and the pass applies what it read, then the applier goes on.
	if _, err := s.ApplyEvents(ctx, []EventAction{testAction(t, read[0])}); err != nil {
		t.Fatal(err)
	}
	for applyPending(t, s) > 0 {
	}
	if d, _ := s.Get(ctx, a.ID); d.State != StateCompleted {
		t.Fatalf("document = %s, want completed: the first outcome to arrive wins", d.State)
	}
	c, err := s.EventCounts(ctx)
	if err != nil || c[EventApplied] != 1 || c[EventConflict] != 1 {
		t.Fatalf("events = %v, %v; want the first applied and the later one a conflict", c, err)
	}
}
