package store

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sync"
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

// pendingIDs lists the ids of the pending events, oldest first.
func pendingIDs(t *testing.T, s *Store) []int64 {
	t.Helper()
	evs, err := s.PendingEvents(context.Background(), 1000)
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]int64, len(evs))
	for i, e := range evs {
		ids[i] = e.ID
	}
	return ids
}

// Two appliers that read the same pending event (two passes racing, or
// two daemons sharing one database) apply it once: the second finds it no
// longer pending and changes nothing — not the event's status, not the
// document, and it reports no transition or status.
func TestAnEventReadByTwoAppliersIsAppliedOnce(t *testing.T) {
	var mu sync.Mutex
	var statuses []string
	var transitions int
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "state.db"), Options{
		OnEvent: func(st string) { mu.Lock(); statuses = append(statuses, st); mu.Unlock() },
		OnTransition: func(tr Transition) {
			if tr.To == StateCompleted {
				mu.Lock()
				transitions++
				mu.Unlock()
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	a := mustIntake(t, s, newFile(1, "a1"))
	batch, _ := s.CreateBatch(ctx, ModeSingle, []int64{a.ID})
	if err := s.RecordSubmitted(ctx, batch.ID, "", nil, []Submitted{{a.ID, "doc_a"}}); err != nil {
		t.Fatal(err)
	}
	event(t, s, "k1", docuparse.Event{Event: docuparse.EventDocumentCompleted, DocumentID: "doc_a", Data: json.RawMessage(`{"total":"1"}`)})
	evs, err := s.PendingEvents(ctx, 10)
	if err != nil || len(evs) != 1 {
		t.Fatalf("pending = %v, %v; want one event", evs, err)
	}
	action := testAction(t, evs[0])
	// Both appliers read it while it was pending; the second applies late.
	for i, want := range []int{1, 0} {
		if n, err := s.ApplyEvents(ctx, []EventAction{action}); err != nil || n != want {
			t.Fatalf("ApplyEvents #%d = %d, %v; want %d", i+1, n, err, want)
		}
	}
	if c, _ := s.EventCounts(ctx); fmt.Sprint(c) != fmt.Sprint(map[string]int{EventApplied: 1}) {
		t.Fatalf("events = %v, want the one event applied (not turned into a duplicate)", c)
	}
	mu.Lock()
	defer mu.Unlock()
	if fmt.Sprint(statuses) != "[applied]" || transitions != 1 {
		t.Fatalf("reported statuses %v and %d completions, want [applied] and 1", statuses, transitions)
	}
}

// A dead action keeps its event, dead, with the note saying why, and
// changes nothing else.
func TestADeadActionKeepsTheEventWithItsNote(t *testing.T) {
	s, _ := setup(t)
	ctx := context.Background()
	event(t, s, "k1", docuparse.Event{Event: docuparse.EventDocumentCompleted})
	ids := pendingIDs(t, s)
	if n, err := s.ApplyEvents(ctx, []EventAction{{EventID: ids[0], Dead: "no document_id"}}); err != nil || n != 1 {
		t.Fatalf("ApplyEvents = %d, %v", n, err)
	}
	evs, err := s.Events(ctx, EventDead, 10)
	if err != nil || len(evs) != 1 || evs[0].Note != "no document_id" {
		t.Fatalf("dead events = %+v, %v; want the event with its note", evs, err)
	}
}

// An action that says nothing is refused, and nothing of its group is
// applied.
func TestAnEmptyActionIsRefused(t *testing.T) {
	s, _ := setup(t)
	ctx := context.Background()
	event(t, s, "k1", docuparse.Event{Event: "document.exploded"})
	event(t, s, "k2", docuparse.Event{Event: "document.exploded"})
	ids := pendingIDs(t, s)
	if _, err := s.ApplyEvents(ctx, []EventAction{{EventID: ids[0], Dead: "unknown event type"}, {EventID: ids[1]}}); err == nil {
		t.Fatal("an action with nothing to apply was accepted")
	}
	if c, _ := s.EventCounts(ctx); c[EventPending] != 2 {
		t.Fatalf("events = %v, want both still pending", c)
	}
}
