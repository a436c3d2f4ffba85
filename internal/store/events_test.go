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
