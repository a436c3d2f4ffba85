package receiver_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/docuparse/docuparse-ingest/internal/docuparse"
	"github.com/docuparse/docuparse-ingest/internal/store"
	"github.com/docuparse/docuparse-ingest/internal/vocab"
	"github.com/docuparse/docuparse-ingest/receiver"
)

const testMaxBody = 2048

// padTo pads a JSON object with spaces before its closing brace to exactly
// n bytes, so it stays valid JSON.
func padTo(t *testing.T, body []byte, n int) []byte {
	t.Helper()
	if len(body) > n || body[len(body)-1] != '}' {
		t.Fatalf("cannot pad %d bytes to %d", len(body), n)
	}
	out := append([]byte{}, body[:len(body)-1]...)
	out = append(out, bytes.Repeat([]byte(" "), n-len(body))...)
	return append(out, '}')
}

func TestAcceptedDeliveriesAreJournaledBeforeAnExact200(t *testing.T) {
	doc := completedEvent("doc_accept0001")
	exact := padTo(t, doc, testMaxBody)
	unknown := []byte(`{"event":"document.reprocessed","document_id":"doc_x","timestamp":"2026-05-19T14:00:00Z"}`)
	broken := []byte(`{"event":"document.completed","document_id":"doc_`)
	noID := []byte(`{"event":"document.completed","timestamp":"2026-05-19T14:00:00Z","data":{}}`)
	noSummary := []byte(`{"event":"batch.completed","batch_id":"batch_1","timestamp":"2026-05-19T14:00:00Z"}`)
	cases := []struct {
		name          string
		secrets       [][]byte
		allowUnsigned bool
		d             delivery
		journaled     string // status right after the 200
		applied       string // status after ApplyPending
	}{
		{name: "a document.completed signed with the secret is journaled pending",
			d: delivery{body: doc, headers: signed(secretA, doc)}, journaled: "pending", applied: "orphan"},
		{name: "a body signed with the old secret of a rotation is accepted",
			secrets: [][]byte{secretA, secretB}, d: delivery{body: doc, headers: signed(secretA, doc)}, journaled: "pending", applied: "orphan"},
		{name: "a body signed with the new secret of a rotation is accepted",
			secrets: [][]byte{secretA, secretB}, d: delivery{body: doc, headers: signed(secretB, doc)}, journaled: "pending", applied: "orphan"},
		{name: "a signature in uppercase hex is accepted",
			d: delivery{body: doc, headers: map[string]string{docuparse.HeaderSignature: "sha256=" +
				strings.ToUpper(strings.TrimPrefix(docuparse.Sign(secretA, doc), "sha256="))}}, journaled: "pending", applied: "orphan"},
		{name: "the optional event and delivery headers are accepted",
			d: delivery{body: doc, headers: map[string]string{docuparse.HeaderSignature: docuparse.Sign(secretA, doc),
				docuparse.HeaderEvent: docuparse.EventDocumentCompleted, docuparse.HeaderDelivery: "evt_123"}}, journaled: "pending", applied: "orphan"},
		{name: "a body of exactly MaxBody bytes is accepted",
			d: delivery{body: exact, headers: signed(secretA, exact)}, journaled: "pending", applied: "orphan"},
		{name: "a chunked body of exactly MaxBody bytes is accepted",
			d: delivery{body: exact, chunked: true, headers: signed(secretA, exact)}, journaled: "pending", applied: "orphan"},
		{name: "broken JSON with a valid signature is kept as dead",
			d: delivery{body: broken, headers: signed(secretA, broken)}, journaled: "dead", applied: "dead"},
		{name: "an unknown event type with a valid signature is kept as dead",
			d: delivery{body: unknown, headers: signed(secretA, unknown)}, journaled: "dead", applied: "dead"},
		{name: "a JSON array with a valid signature is kept as dead",
			d: delivery{body: []byte(`[]`), headers: signed(secretA, []byte(`[]`))}, journaled: "dead", applied: "dead"},
		{name: "JSON null with a valid signature is kept as dead",
			d: delivery{body: []byte(`null`), headers: signed(secretA, []byte(`null`))}, journaled: "dead", applied: "dead"},
		{name: "an empty body with a valid signature is kept as dead",
			d: delivery{body: []byte{}, headers: signed(secretA, nil)}, journaled: "dead", applied: "dead"},
		{name: "a document event without a document_id becomes dead when applied",
			d: delivery{body: noID, headers: signed(secretA, noID)}, journaled: "pending", applied: "dead"},
		{name: "a batch.completed without a summary becomes dead when applied",
			d: delivery{body: noSummary, headers: signed(secretA, noSummary)}, journaled: "pending", applied: "dead"},
		{name: "AllowUnsigned accepts a body without a signature",
			allowUnsigned: true, d: delivery{body: doc}, journaled: "pending", applied: "orphan"},
		{name: "AllowUnsigned accepts a body with a wrong signature",
			allowUnsigned: true, d: delivery{body: doc, headers: signed(secretB, doc)}, journaled: "pending", applied: "orphan"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var woken atomic.Int32
			st := openStoreWith(t, store.Options{OnJournaled: func(int) { woken.Add(1) }})
			if tc.secrets == nil {
				tc.secrets = [][]byte{secretA}
			}
			url := receiverURL(t, receiver.HandlerConfig{Secrets: tc.secrets, AllowUnsigned: tc.allowUnsigned,
				MaxBody: testMaxBody}, st)

			a := send(t, url, tc.d)
			if a.status != http.StatusOK {
				t.Fatalf("status = %d (%q), want exactly 200", a.status, a.body)
			}
			// Journaled before the answer: visible the moment the 200 arrived.
			if got := eventCounts(t, st); len(got) != 1 || got[tc.journaled] != 1 {
				t.Fatalf("journal after the 200 = %v, want one %s event", got, tc.journaled)
			}
			wantWoken := int32(1)
			if woken.Load() != wantWoken {
				t.Errorf("the store announced %d journal commits, want %d", woken.Load(), wantWoken)
			}
			wantApplied := 0
			if tc.journaled == "pending" {
				wantApplied = 1
			}
			if n := applyPending(t, st); n != wantApplied {
				t.Errorf("ApplyPending processed %d, want %d", n, wantApplied)
			}
			if got := eventCounts(t, st); len(got) != 1 || got[tc.applied] != 1 {
				t.Fatalf("journal after apply = %v, want one %s event", got, tc.applied)
			}
		})
	}
}

func TestRefusedDeliveriesStoreNothingAndRevealNoSecret(t *testing.T) {
	doc := completedEvent("doc_refuse0001")
	over := padTo(t, doc, testMaxBody+1)
	huge := padTo(t, doc, 64<<10)
	goodHex := strings.TrimPrefix(docuparse.Sign(secretA, doc), "sha256=")
	cases := []struct {
		name       string
		secrets    [][]byte
		d          delivery
		wantStatus int
		wantAllow  string
	}{
		{name: "a missing signature is 401",
			d: delivery{body: doc}, wantStatus: 401},
		{name: "an empty signature header is 401",
			d: delivery{body: doc, headers: map[string]string{docuparse.HeaderSignature: ""}}, wantStatus: 401},
		{name: "a bare hex digest without the sha256= prefix is 401",
			d: delivery{body: doc, headers: map[string]string{docuparse.HeaderSignature: goodHex}}, wantStatus: 401},
		{name: "another scheme's prefix is 401",
			d: delivery{body: doc, headers: map[string]string{docuparse.HeaderSignature: "sha1=" + goodHex}}, wantStatus: 401},
		{name: "a digest one hex digit short is 401",
			d: delivery{body: doc, headers: map[string]string{docuparse.HeaderSignature: "sha256=" + goodHex[1:]}}, wantStatus: 401},
		{name: "a digest one hex digit long is 401",
			d: delivery{body: doc, headers: map[string]string{docuparse.HeaderSignature: "sha256=" + goodHex + "0"}}, wantStatus: 401},
		{name: "a digest with a non-hex digit is 401",
			d: delivery{body: doc, headers: map[string]string{docuparse.HeaderSignature: "sha256=" + goodHex[:63] + "g"}}, wantStatus: 401},
		{name: "a signature made with another secret is 401",
			d: delivery{body: doc, headers: signed([]byte("whsec_somebody_else"), doc)}, wantStatus: 401},
		{name: "a signature of another body is 401",
			d: delivery{body: doc, headers: signed(secretA, completedEvent("doc_other00001"))}, wantStatus: 401},
		{name: "the secret itself sent as the signature is 401",
			d: delivery{body: doc, headers: map[string]string{docuparse.HeaderSignature: "sha256=" + string(secretA)}}, wantStatus: 401},
		{name: "a secret of a rotation that is no longer configured is 401",
			secrets: [][]byte{secretB}, d: delivery{body: doc, headers: signed(secretA, doc)}, wantStatus: 401},
		{name: "no secret configured refuses a body signed with an empty secret",
			secrets: [][]byte{}, d: delivery{body: doc, headers: signed(nil, doc)}, wantStatus: 401},
		{name: "an empty configured secret refuses a body signed with an empty secret",
			secrets: [][]byte{{}}, d: delivery{body: doc, headers: signed(nil, doc)}, wantStatus: 401},
		{name: "a signed body one byte over MaxBody with Content-Length is 413",
			d: delivery{body: over, headers: signed(secretA, over)}, wantStatus: 413},
		{name: "a signed chunked body one byte over MaxBody is 413",
			d: delivery{body: over, chunked: true, headers: signed(secretA, over)}, wantStatus: 413},
		{name: "a signed body far over MaxBody with Content-Length is 413",
			d: delivery{body: huge, headers: signed(secretA, huge)}, wantStatus: 413},
		{name: "a signed chunked body far over MaxBody is 413",
			d: delivery{body: huge, chunked: true, headers: signed(secretA, huge)}, wantStatus: 413},
		{name: "GET is 405 and names POST in Allow",
			d: delivery{method: http.MethodGet}, wantStatus: 405, wantAllow: "POST"},
		{name: "a signed PUT is 405 and names POST in Allow",
			d: delivery{method: http.MethodPut, body: doc, headers: signed(secretA, doc)}, wantStatus: 405, wantAllow: "POST"},
		{name: "DELETE is 405 and names POST in Allow",
			d: delivery{method: http.MethodDelete}, wantStatus: 405, wantAllow: "POST"},
		{name: "a signed POST to another path is 404",
			d: delivery{path: "/webhooks/other", body: doc, headers: signed(secretA, doc)}, wantStatus: 404},
		{name: "a signed POST to the path with a trailing slash is 404",
			d: delivery{path: hookPath + "/", body: doc, headers: signed(secretA, doc)}, wantStatus: 404},
		{name: "a signed POST below the path is 404",
			d: delivery{path: hookPath + "/x", body: doc, headers: signed(secretA, doc)}, wantStatus: 404},
		{name: "a signed POST to the root is 404",
			d: delivery{path: "/", body: doc, headers: signed(secretA, doc)}, wantStatus: 404},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var woken atomic.Int32
			st := openStoreWith(t, store.Options{OnJournaled: func(int) { woken.Add(1) }})
			if tc.secrets == nil {
				tc.secrets = [][]byte{secretA, secretB}
			}
			log, logs := debugLogger()
			url := receiverURL(t, receiver.HandlerConfig{Secrets: tc.secrets, MaxBody: testMaxBody, Logger: log}, st)

			a := send(t, url, tc.d)
			if a.status != tc.wantStatus {
				t.Fatalf("status = %d (%q), want %d", a.status, a.body, tc.wantStatus)
			}
			if tc.wantAllow != "" && a.header.Get("Allow") != tc.wantAllow {
				t.Errorf("Allow = %q, want %q", a.header.Get("Allow"), tc.wantAllow)
			}
			if n := totalEvents(t, st); n != 0 {
				t.Errorf("%d events stored, want none", n)
			}
			if woken.Load() != 0 {
				t.Error("the store announced a journal commit for a refused delivery")
			}
			var answer strings.Builder
			answer.WriteString(a.body)
			for k, vs := range a.header {
				answer.WriteString(k + ": " + strings.Join(vs, ",") + "\n")
			}
			assertNoSecret(t, "answer", answer.String(), tc.d.body)
			assertNoSecret(t, "logs", logs.String(), tc.d.body)
		})
	}
}

// assertNoSecret fails when text holds a configured secret or a signature
// of body the receiver could have computed (the expected one).
func assertNoSecret(t *testing.T, where, text string, body []byte) {
	t.Helper()
	for _, s := range [][]byte{secretA, secretB} {
		sig := strings.TrimPrefix(docuparse.Sign(s, body), "sha256=")
		for _, needle := range []string{string(s), hex.EncodeToString(s), sig, strings.ToUpper(sig)} {
			if strings.Contains(text, needle) {
				t.Errorf("%s reveal %q:\n%s", where, needle, text)
			}
		}
	}
}

func TestTheSameDeliveryFiveTimesAtOnceIsAcknowledgedEachTimeAndStoredOnce(t *testing.T) {
	var woken atomic.Int32
	st := openStoreWith(t, store.Options{OnJournaled: func(int) { woken.Add(1) }})
	url := receiverURL(t, receiver.HandlerConfig{Secrets: [][]byte{secretA}}, st)
	body := completedEvent("doc_concurrent")

	const copies = 5
	start := make(chan struct{})
	errs := make(chan error, copies)
	var wg sync.WaitGroup
	for i := range copies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
			if err != nil {
				errs <- err
				return
			}
			req.Header.Set(docuparse.HeaderSignature, docuparse.Sign(secretA, body))
			if i%2 == 0 { // a retry may carry the delivery id, or not
				req.Header.Set(docuparse.HeaderDelivery, "evt_same")
			}
			<-start
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				errs <- err
				return
			}
			res.Body.Close()
			if res.StatusCode != http.StatusOK {
				errs <- fmt.Errorf("copy %d: status = %d, want 200", i, res.StatusCode)
			}
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := eventCounts(t, st); len(got) != 1 || got["pending"] != 1 {
		t.Fatalf("journal = %v, want one pending event", got)
	}
	if woken.Load() != 1 {
		t.Errorf("the store announced %d journal commits, want one (duplicates wake nothing)", woken.Load())
	}
	if n := applyPending(t, st); n != 1 {
		t.Errorf("ApplyPending processed %d, want 1", n)
	}
}

func TestADeliveryThatCannotBeJournaledIsNotAcknowledged(t *testing.T) {
	st := openStore(t)
	url := receiverURL(t, receiver.HandlerConfig{Secrets: [][]byte{secretA}}, st)
	st.Close() // every write now fails
	body := completedEvent("doc_unstored01")
	if a := post(t, url, body, signed(secretA, body)); a.status == http.StatusOK {
		t.Fatalf("status = 200 for an event that was not stored; the API would never send it again")
	}
}

func TestTheHandlerServesWithoutTheServerToo(t *testing.T) {
	// The handler is a plain http.Handler: it can be mounted elsewhere.
	st := openStore(t)
	h := receiver.NewHandler(receiver.HandlerConfig{Secrets: [][]byte{secretA}}, st)
	body := failedEvent("doc_plainhandl")
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, "/anything", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set(docuparse.HeaderSignature, docuparse.Sign(secretA, body))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("status = %d, want 200", rec.Code)
	}
	if n := totalEvents(t, st); n != 1 {
		t.Fatalf("%d events stored, want 1", n)
	}
}

func TestContentTypesOtherThanJSONAreRefusedBeforeAnythingIsStored(t *testing.T) {
	st := openStore(t)
	url := receiverURL(t, receiver.HandlerConfig{Secrets: [][]byte{secretA}}, st)
	body := completedEvent("doc_ct")
	for _, tc := range []struct {
		contentType string
		want        int
	}{
		{"application/json", http.StatusOK},
		{"application/json; charset=utf-8", http.StatusOK},
		{"", http.StatusOK},
		{"text/plain", http.StatusUnsupportedMediaType},
		{"application/x-www-form-urlencoded", http.StatusUnsupportedMediaType},
		{"multipart/form-data; boundary=x", http.StatusUnsupportedMediaType},
		{";;;", http.StatusUnsupportedMediaType},
	} {
		h := signed(secretA, body)
		if tc.contentType != "" {
			h["Content-Type"] = tc.contentType
		}
		if got := post(t, url, body, h); got.status != tc.want {
			t.Errorf("Content-Type %q: %d, want %d", tc.contentType, got.status, tc.want)
		}
	}
	if n := totalEvents(t, st); n != 1 {
		t.Fatalf("%d events stored, want 1 (the JSON ones are one event)", n)
	}
}

func TestATenMegabyteBodyIsRefusedWithTheDefaultLimit(t *testing.T) {
	st := openStore(t)
	url := receiverURL(t, receiver.HandlerConfig{Secrets: [][]byte{secretA}}, st) // MaxBody: the 1 MB default
	body := padTo(t, completedEvent("doc_big"), 10<<20)
	for _, chunked := range []bool{false, true} {
		got := send(t, url, delivery{body: body, chunked: chunked, headers: signed(secretA, body)})
		if got.status != http.StatusRequestEntityTooLarge {
			t.Errorf("chunked=%v: %d, want 413", chunked, got.status)
		}
	}
	if n := totalEvents(t, st); n != 0 {
		t.Fatalf("%d events stored from oversized bodies", n)
	}
}

func TestRefusedDeliveriesAreCountedByReason(t *testing.T) {
	st := openStore(t)
	var mu sync.Mutex
	got := map[string]int{}
	cfg := receiver.HandlerConfig{Secrets: [][]byte{secretA}, MaxBody: 1024, OnRefused: func(reason string) {
		mu.Lock()
		got[reason]++
		mu.Unlock()
	}}
	url := receiverURL(t, cfg, st)
	doc := completedEvent("doc_refused")
	big := padTo(t, doc, 4096)
	post(t, url, doc, signed(secretB, doc))                                      // wrong secret
	post(t, url, doc, nil)                                                       // no signature
	post(t, url, big, signed(secretA, big))                                      // too large
	send(t, url, delivery{method: http.MethodGet})                               // wrong method
	post(t, url, doc, map[string]string{"Content-Type": "text/plain"})           // not JSON
	if a := post(t, url, doc, signed(secretA, doc)); a.status != http.StatusOK { // accepted: not counted
		t.Fatalf("good delivery: %d", a.status)
	}
	mu.Lock()
	defer mu.Unlock()
	want := map[string]int{vocab.RefusedBadSignature: 2, vocab.RefusedTooLarge: 1, vocab.RefusedBadRequest: 2}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("refusals = %v, want %v", got, want)
	}
}
