package receiver_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/docuparse/docuparse-ingest/internal/docuparse"
	"github.com/docuparse/docuparse-ingest/internal/store"
	"github.com/docuparse/docuparse-ingest/receiver"
)

func TestIdentifyIndexesWhatTheJournalNeeds(t *testing.T) {
	long := strings.Repeat("€", 100) // 300 bytes of 3-byte runes
	cases := []struct {
		name                   string
		body, delivery         string
		wantType, wantDocument string
		wantBatch              string
		wantDead               bool
	}{
		{name: "a document.completed is kept live with its document id",
			body: string(completedEvent("doc_1")), wantType: "document.completed", wantDocument: "doc_1"},
		{name: "a document.failed is kept live",
			body: string(failedEvent("doc_2")), wantType: "document.failed", wantDocument: "doc_2"},
		{name: "a batch.completed is kept live with its batch id",
			body:     `{"event":"batch.completed","batch_id":"batch_9","summary":{"total":1,"succeeded":1,"failed":0}}`,
			wantType: "batch.completed", wantBatch: "batch_9"},
		{name: "unknown fields do not matter",
			body: `{"event":"document.completed","document_id":"doc_3","brand_new":{"x":[1,2]}}`, wantType: "document.completed", wantDocument: "doc_3"},
		{name: "an unknown event type is dead but keeps its name",
			body: `{"event":"document.archived","document_id":"doc_4"}`, wantType: "document.archived", wantDocument: "doc_4", wantDead: true},
		{name: "a body without an event name is dead",
			body: `{"document_id":"doc_5"}`, wantDocument: "doc_5", wantDead: true},
		{name: "broken JSON is dead",
			body: `{"event":`, wantDead: true},
		{name: "an event name of the wrong JSON type is dead",
			body: `{"event":42}`, wantDead: true},
		{name: "a long multi-byte document id is clipped on a rune boundary",
			body: `{"event":"document.completed","document_id":"` + strings.Repeat("é", 200) + `"}`, wantType: "document.completed",
			wantDocument: strings.Repeat("é", 127)},
		{name: "a long multi-byte event name is clipped on a rune boundary",
			body: `{"event":"` + long + `"}`, wantType: strings.Repeat("€", 33), wantDead: true},
		{name: "a delivery id that is not UTF-8 is made valid",
			body: string(completedEvent("doc_6")), delivery: "evt_\xff\xfe", wantType: "document.completed", wantDocument: "doc_6"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ev := receiver.Identify([]byte(tc.body), tc.delivery)
			if ev.Type != tc.wantType || ev.DocumentID != tc.wantDocument || ev.BatchID != tc.wantBatch || ev.Dead != tc.wantDead {
				t.Errorf("Identify = type %q document %q batch %q dead %v; want %q %q %q %v",
					ev.Type, ev.DocumentID, ev.BatchID, ev.Dead, tc.wantType, tc.wantDocument, tc.wantBatch, tc.wantDead)
			}
			if ev.Dead && ev.Note == "" {
				t.Error("a dead event carries no note saying why")
			}
			checkIdentified(t, []byte(tc.body), tc.delivery, ev)
		})
	}
}

// checkIdentified holds for every body Identify is given.
func checkIdentified(t *testing.T, body []byte, delivery string, ev store.IncomingEvent) {
	t.Helper()
	sum := sha256.Sum256(body)
	if ev.DedupeKey != string(sum[:]) {
		t.Errorf("DedupeKey = %x, want the body's SHA-256 %x", ev.DedupeKey, sum)
	}
	if !bytes.Equal(ev.Body, body) {
		t.Error("the journaled body differs from the raw bytes received")
	}
	for _, f := range []struct {
		name, v string
		max     int
	}{{"Type", ev.Type, 100}, {"DocumentID", ev.DocumentID, 255}, {"BatchID", ev.BatchID, 255},
		{"DeliveryID", ev.DeliveryID, 255}, {"Note", ev.Note, 255}} {
		if !utf8.ValidString(f.v) {
			t.Errorf("%s = %q is not valid UTF-8", f.name, f.v)
		}
		if len(f.v) > f.max {
			t.Errorf("%s is %d bytes, want at most %d", f.name, len(f.v), f.max)
		}
	}
}

func FuzzIdentify(f *testing.F) {
	for _, seed := range []struct{ body, delivery string }{
		{string(completedEvent("doc_clx7abc123")), ""},
		{string(failedEvent("doc_clx7abc123")), "evt_1"},
		{`{"event":"batch.completed","batch_id":"batch_abc789","timestamp":"2026-05-19T14:00:00Z","summary":{"total":12,"succeeded":11,"failed":1}}`, "evt_2"},
		{`{"event":"document.reprocessed"}`, ""},
		{`{"event":"document.completed","document_id":"` + strings.Repeat("€", 100) + `"}`, ""},
		{`{"event":"` + strings.Repeat("é", 51) + `x"}`, strings.Repeat("ü", 200)},
		{`{"event":"\ud800","document_id":"\xff\xfe"}`, "\xff"},
		{`{"event":`, ""},
		{`[]`, ""},
		{`null`, ""},
		{"", ""},
		{`{"EVENT":"document.failed","Document_Id":"doc_case"}`, ""},
		{`{"event":"document.completed","event":"batch.completed"}`, ""},
	} {
		f.Add([]byte(seed.body), seed.delivery)
	}
	f.Fuzz(func(t *testing.T, body []byte, delivery string) {
		in := bytes.Clone(body)
		ev := receiver.Identify(body, delivery)
		if !bytes.Equal(body, in) {
			t.Fatal("Identify changed the body it was given")
		}
		checkIdentified(t, body, delivery, ev)

		// Identical bytes are one event, whatever delivery id comes with them.
		again := receiver.Identify(bytes.Clone(body), delivery+"-retry")
		if again.DedupeKey != ev.DedupeKey {
			t.Fatalf("dedupe key changed between identical bodies: %x then %x", ev.DedupeKey, again.DedupeKey)
		}
		if again.Type != ev.Type || again.DocumentID != ev.DocumentID || again.BatchID != ev.BatchID || again.Dead != ev.Dead {
			t.Fatal("Identify is not deterministic")
		}

		// Live exactly when the body is a JSON event of a known type.
		var e docuparse.Event
		known := json.Unmarshal(body, &e) == nil && (e.Event == docuparse.EventDocumentCompleted ||
			e.Event == docuparse.EventDocumentFailed || e.Event == docuparse.EventBatchCompleted)
		if ev.Dead == known {
			t.Fatalf("dead = %v for a body whose event is %q (known type: %v)", ev.Dead, e.Event, known)
		}
		if known && ev.Type != e.Event {
			t.Fatalf("type = %q, want %q", ev.Type, e.Event)
		}

		// What the applier makes of it is exactly one thing, and an event
		// journaled dead is dead for the applier too.
		p := receiver.ParseEvent(body)
		set := 0
		for _, ok := range []bool{p.Dead != "", p.Result != nil, p.Summary != nil} {
			if ok {
				set++
			}
		}
		if set != 1 {
			t.Fatalf("ParseEvent = %+v: want exactly one of dead, result, summary", p)
		}
		if ev.Dead && (p.Dead == "" || !strings.HasPrefix(p.Dead, strings.SplitN(ev.Note, ": ", 2)[0])) {
			t.Fatalf("journaled dead (%q), applied as %+v", ev.Note, p)
		}
	})
}
