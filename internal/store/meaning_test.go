package store

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/docuparse/docuparse-ingest/internal/docuparse"
)

// submittedDoc records one file as submitted under the API id documentID.
func submittedDoc(t *testing.T, s *Store, i int, documentID string) int64 {
	t.Helper()
	ctx := context.Background()
	a := mustIntake(t, s, newFile(i, documentID))
	b, err := s.CreateBatch(ctx, ModeSingle, []int64{a.ID})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.RecordSubmitted(ctx, b.ID, "", nil, []Submitted{{a.ID, documentID}}); err != nil {
		t.Fatal(err)
	}
	return a.ID
}

// journalRaw journals body as a verified delivery under its own key and
// applies every pending event.
func journalRaw(t *testing.T, s *Store, key, body string) {
	t.Helper()
	var e docuparse.Event
	if err := json.Unmarshal([]byte(body), &e); err != nil {
		t.Fatal(err)
	}
	if _, err := s.JournalEvent(context.Background(), IncomingEvent{DedupeKey: key, Type: e.Event, DocumentID: e.DocumentID,
		Body: []byte(body)}); err != nil {
		t.Fatal(err)
	}
	applyPending(t, s)
}

// A document's identity is the meaning of its outcome, not the bytes that
// carried it: a second document.completed with other data contradicts the
// first (conflict, kept and shown, not applied), while the same event
// re-serialised (other key order, other whitespace) or polled is a
// duplicate.
func TestASecondCompletedEventWithOtherDataIsAConflictNotADuplicate(t *testing.T) {
	s, _ := setup(t)
	ctx := context.Background()
	id := submittedDoc(t, s, 1, "doc_a")
	first := `{"event":"document.completed","document_id":"doc_a","timestamp":"2026-01-02T03:04:05Z",` +
		`"data":{"vendor":"ACME","total":"100.00","line_items":[{"amount":"100.00"}]}}`
	journalRaw(t, s, "k1", first)
	same := "{ \"data\" : {\"line_items\":[{\"amount\":\"100.00\"}], \"total\":\"100.00\",\"vendor\":\"ACME\"},\n" +
		" \"timestamp\":\"2026-01-02T03:04:05Z\", \"document_id\":\"doc_a\", \"event\":\"document.completed\" }"
	journalRaw(t, s, "k2", same)
	other := `{"event":"document.completed","document_id":"doc_a","timestamp":"2026-01-02T03:04:05Z",` +
		`"data":{"vendor":"ATTACKER CORP","total":"900.00","line_items":[{"amount":"900.00"}]}}`
	journalRaw(t, s, "k3", other)

	want := map[string]string{"k1": EventApplied, "k2": EventDuplicate, "k3": EventConflict}
	evs, err := s.Events(ctx, "", 10)
	if err != nil || len(evs) != 3 {
		t.Fatalf("events: %d, %v", len(evs), err)
	}
	for i, e := range evs {
		if k := []string{"k1", "k2", "k3"}[i]; e.Status != want[k] {
			t.Errorf("event %s: %s, want %s", k, e.Status, want[k])
		}
	}
	d := mustGet(t, s, id)
	if d.State != StateCompleted || !json.Valid(d.Result) || string(d.Result) != `{"vendor":"ACME","total":"100.00","line_items":[{"amount":"100.00"}]}` {
		t.Fatalf("document: %s %s, want the first result kept", d.State, d.Result)
	}
	// A poll that finds the same result, re-serialised, is a duplicate; one
	// with other data a conflict.
	poll := func(data string) string {
		got, err := s.ApplyResult(ctx, Result{DocumentID: "doc_a", Status: docuparse.StatusCompleted, Data: json.RawMessage(data), Via: ViaPoll})
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	if got := poll(`{"total": "100.00", "line_items": [{"amount": "100.00"}], "vendor": "ACME"}`); got != Duplicate {
		t.Errorf("the same result polled: %s, want duplicate", got)
	}
	if got := poll(`{"vendor":"ACME","total":"100.01","line_items":[{"amount":"100.00"}]}`); got != Conflict {
		t.Errorf("another result polled: %s, want conflict", got)
	}
	// The same holds for a failed document: another error is a conflict.
	submittedDoc(t, s, 2, "doc_b")
	journalRaw(t, s, "f1", `{"event":"document.failed","document_id":"doc_b","error":{"code":"UNREADABLE","message":"scan too faint"}}`)
	journalRaw(t, s, "f2", `{"error":{"message":"scan too faint","code":"UNREADABLE"},"document_id":"doc_b","event":"document.failed"}`)
	journalRaw(t, s, "f3", `{"event":"document.failed","document_id":"doc_b","error":{"code":"CORRUPT_PDF","message":"broken"}}`)
	evs, _ = s.Events(ctx, "", 10)
	for i, w := range []string{EventApplied, EventDuplicate, EventConflict} {
		if e := evs[3+i]; e.Status != w {
			t.Errorf("failed event %d: %s, want %s", i+1, e.Status, w)
		}
	}
}
