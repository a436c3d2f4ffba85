package receiver_test

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/docuparse/docuparse-ingest/internal/docuparse"
	"github.com/docuparse/docuparse-ingest/internal/store"
	"github.com/docuparse/docuparse-ingest/receiver"
)

// ParseEvent reads a body once and says what applying it means: a dead
// note exactly as the journal keeps it, a document's outcome, or a batch's
// summary.
func TestParseEventSaysWhatABodyMeans(t *testing.T) {
	long := strings.Repeat("é", 200)
	cases := []struct {
		name        string
		body        string
		wantDead    string // the note, or a prefix of it ending in ": "
		wantResult  *store.Result
		wantSummary *store.BatchSummary
	}{
		{name: "broken JSON is unparseable", body: `{"event":`, wantDead: "unparseable: unexpected end of JSON input"},
		{name: "an empty body is unparseable", body: ``, wantDead: "unparseable: unexpected end of JSON input"},
		{name: "a JSON array is unparseable", body: `[]`, wantDead: "unparseable: "},
		{name: "an event name of the wrong JSON type is unparseable", body: `{"event":42,"document_id":"doc_1"}`, wantDead: "unparseable: "},
		{name: "JSON null is an unknown type", body: `null`, wantDead: "unknown event type"},
		{name: "a body without an event name is an unknown type", body: `{"document_id":"doc_1"}`, wantDead: "unknown event type"},
		{name: "an unknown event name is an unknown type", body: `{"event":"document.archived","document_id":"doc_1"}`, wantDead: "unknown event type"},
		{name: "a document.completed without a document_id", body: `{"event":"document.completed","data":{}}`, wantDead: "no document_id"},
		{name: "a document.failed without a document_id", body: `{"event":"document.failed"}`, wantDead: "no document_id"},
		{name: "a batch.completed without a summary", body: `{"event":"batch.completed","batch_id":"batch_1"}`, wantDead: "no batch_id or summary"},
		{name: "a batch.completed without a batch_id", body: `{"event":"batch.completed","summary":{"total":1}}`, wantDead: "no batch_id or summary"},
		{name: "a document.completed carries its data",
			body: `{"event":"document.completed","document_id":"doc_1","timestamp":"2026-05-19T14:00:00Z","data":{"total":"1.00"}}`,
			wantResult: &store.Result{DocumentID: "doc_1", Status: docuparse.StatusCompleted, Data: json.RawMessage(`{"total":"1.00"}`),
				Via: store.ViaWebhook, APITimestamp: "2026-05-19T14:00:00Z"}},
		{name: "a document.failed carries the API's error",
			body: string(failedEvent("doc_2")),
			wantResult: &store.Result{DocumentID: "doc_2", Status: docuparse.StatusFailed, ErrorCode: docuparse.CodeExtractionFailed,
				ErrorMessage: "unreadable scan", Via: store.ViaWebhook, APITimestamp: "2026-05-19T14:00:01Z"}},
		{name: "a document.failed without an error fails the document without a reason",
			body:       `{"event":"document.failed","document_id":"doc_3"}`,
			wantResult: &store.Result{DocumentID: "doc_3", Status: docuparse.StatusFailed, Via: store.ViaWebhook}},
		{name: "a batch.completed carries its summary, re-encoded",
			body:        `{"event":"batch.completed","batch_id":"batch_9","summary":{ "failed":1, "succeeded":1, "total":2 }}`,
			wantSummary: &store.BatchSummary{APIBatchID: "batch_9", Summary: `{"total":2,"succeeded":1,"failed":1}`}},
		{name: "a document id that is not UTF-8 is read as JSON reads it",
			body:       "{\"event\":\"document.failed\",\"document_id\":\"doc_\xff\"}",
			wantResult: &store.Result{DocumentID: "doc_\uFFFD", Status: docuparse.StatusFailed, Via: store.ViaWebhook}},
		{name: "a long document id is applied whole (only the journal's index is clipped)",
			body:       `{"event":"document.failed","document_id":"` + long + `"}`,
			wantResult: &store.Result{DocumentID: long, Status: docuparse.StatusFailed, Via: store.ViaWebhook}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := receiver.ParseEvent([]byte(tc.body))
			switch {
			case strings.HasSuffix(tc.wantDead, ": "):
				if !strings.HasPrefix(e.Dead, tc.wantDead) || len(e.Dead) == len(tc.wantDead) {
					t.Errorf("dead = %q, want %q followed by the reason", e.Dead, tc.wantDead)
				}
			case e.Dead != tc.wantDead:
				t.Errorf("dead = %q, want %q", e.Dead, tc.wantDead)
			}
			if !reflect.DeepEqual(e.Result, tc.wantResult) {
				t.Errorf("result = %+v, want %+v", e.Result, tc.wantResult)
			}
			if !reflect.DeepEqual(e.Summary, tc.wantSummary) {
				t.Errorf("summary = %+v, want %+v", e.Summary, tc.wantSummary)
			}
			a := e.Action(7)
			if a.EventID != 7 || a.Dead != e.Dead || a.Result != e.Result || a.Summary != e.Summary {
				t.Errorf("action = %+v, want event 7 with the event's meaning", a)
			}
		})
	}
}

// What the journal keeps for a body (dead at once, or pending) and what
// applying it makes of it come from the one reading, ParseEvent: a body
// dead on arrival is dead with the same note when applied (after an
// operator's replay, say), and an unparseable note is the JSON error
// clipped for the journal.
func TestTheJournalAndTheApplierReadABodyAlike(t *testing.T) {
	ctx := context.Background()
	bodies := []string{`{"event":`, `{"event":"document.exploded","document_id":"d"}`, `null`,
		`{"event":"document.completed"}`, `{"event":"batch.completed","batch_id":"b"}`}
	st := openStore(t)
	for _, b := range bodies {
		ev := receiver.Identify([]byte(b), "")
		parsed := receiver.ParseEvent([]byte(b))
		if ev.Dead && ev.Note != parsed.Dead {
			t.Errorf("%s: journaled dead with %q, applied dead with %q", b, ev.Note, parsed.Dead)
		}
		// Journaled pending whatever Identify said, as a replay leaves it.
		ev.Dead, ev.Note = false, ""
		if _, err := st.JournalEvent(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := receiver.ApplyPending(ctx, st); err != nil || n != len(bodies) {
		t.Fatalf("ApplyPending = %d, %v; want %d", n, err, len(bodies))
	}
	evs, err := st.Events(ctx, "", 10)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"unparseable: unexpected end of JSON input", "unknown event type", "unknown event type", "no document_id", "no batch_id or summary"}
	for i, e := range evs {
		if e.Status != store.EventDead || e.Note != want[i] {
			t.Errorf("%s: applied %s (%q), want dead (%q)", bodies[i], e.Status, e.Note, want[i])
		}
	}
}

// A batch.completed that beats the submit answer waits as an orphan; once
// the answer names the batch, it is queued again and the applier records
// the summary.
func TestABatchSummaryThatBeatsTheSubmitAnswerIsAppliedWhenTheAnswerIsRecorded(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	doc, batch := submitting(t, st, "early.pdf")
	url := receiverURL(t, receiver.HandlerConfig{Secrets: [][]byte{secretA}}, st)
	deliver(t, url, []byte(`{"event":"batch.completed","batch_id":"batch_doc_early00002","timestamp":"2026-05-19T14:10:00Z",`+
		`"summary":{"total":1,"succeeded":1,"failed":0}}`))
	if n, err := receiver.ApplyPending(ctx, st); err != nil || n != 1 {
		t.Fatalf("ApplyPending = %d, %v; want 1, nil", n, err)
	}
	if got := eventCounts(t, st); !sameCounts(got, map[string]int{"orphan": 1}) {
		t.Fatalf("events = %v, want the event kept as an orphan", got)
	}
	recordSubmitted(t, st, batch, doc, "doc_early00002")
	if n, err := receiver.ApplyPending(ctx, st); err != nil || n != 1 {
		t.Fatalf("ApplyPending after the answer = %d, %v; want 1, nil", n, err)
	}
	if got := eventCounts(t, st); !sameCounts(got, map[string]int{"applied": 1}) {
		t.Fatalf("events = %v, want the adopted summary applied", got)
	}
}
