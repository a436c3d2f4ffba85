package receiver_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/testclock"
	"github.com/docuparse/docuparse-ingest/internal/vocab"
	"github.com/docuparse/docuparse-ingest/receiver"
)

func TestASignedDeliveryOutsideTheReplayWindowIsRefusedAndNotStored(t *testing.T) {
	st := openStore(t)
	var refusals refusalCounter
	// completedEvent is stamped 2026-05-19T14:00:00Z.
	clock := testclock.New(time.Date(2026, 5, 21, 12, 0, 0, 0, time.UTC))
	url := receiverURL(t, receiver.HandlerConfig{Secrets: [][]byte{secretA}, MaxAge: 36 * time.Hour,
		Now: clock.Now, OnRefused: refusals.add}, st)

	body := completedEvent("doc_replayed")
	if a := post(t, url, body, signed(secretA, body)); a.status != http.StatusBadRequest {
		t.Fatalf("a delivery stamped 46 h ago: %d %q, want 400", a.status, a.body)
	}
	clock.Set(time.Date(2026, 5, 19, 13, 0, 0, 0, time.UTC)) // an hour before the stamp
	if a := post(t, url, body, signed(secretA, body)); a.status != http.StatusBadRequest {
		t.Fatalf("a delivery stamped an hour ahead: %d %q, want 400", a.status, a.body)
	}
	if n := totalEvents(t, st); n != 0 {
		t.Errorf("%d events stored, want none", n)
	}
	want := fmt.Sprint(map[string]int{vocab.RefusedStaleTimestamp: 1, vocab.RefusedFutureTimestamp: 1})
	if got := refusals.String(); got != want {
		t.Errorf("refusals = %s, want %s", got, want)
	}
	clock.Set(time.Date(2026, 5, 20, 14, 0, 0, 0, time.UTC)) // the API's last retry, 24 h on
	if a := post(t, url, body, signed(secretA, body)); a.status != http.StatusOK {
		t.Fatalf("a delivery stamped 24 h ago: %d %q, want 200", a.status, a.body)
	}
}
