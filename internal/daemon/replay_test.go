package daemon_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/config"
	"github.com/docuparse/docuparse-ingest/internal/docuparse"
	"github.com/docuparse/docuparse-ingest/internal/e2e"
	"github.com/docuparse/docuparse-ingest/internal/sim"
	"github.com/docuparse/docuparse-ingest/internal/store"
)

// signedAt posts a document.completed for documentID stamped at ts, signed
// with the harness's webhook secret, and returns the status.
func signedAt(t *testing.T, url, documentID string, ts time.Time) int {
	t.Helper()
	body := []byte(fmt.Sprintf(`{"event":"document.completed","document_id":%q,"timestamp":%q,"data":{"total":"1.00"}}`,
		documentID, ts.UTC().Format(time.RFC3339)))
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(docuparse.HeaderSignature, docuparse.Sign([]byte(e2e.WebhookSecret), body))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

func TestAReplayedDeliveryOutsideTheTimeWindowIsRefusedAndCounted(t *testing.T) {
	h := newHarness(t, sim.Config{}, "")
	d := h.start(t)
	url := "http://" + d.ReceiverAddr() + h.cfg.Receiver.Path
	now := time.Now()

	// The API's last retry comes 24 h after the event, with its original
	// timestamp: still inside the default window.
	if got := signedAt(t, url, "doc_lastretry", now.Add(-25*time.Hour)); got != http.StatusOK {
		t.Errorf("a signed delivery stamped 25 h ago: %d, want 200", got)
	}
	// A captured delivery replayed days later, and one stamped in the future.
	for _, tc := range []struct {
		id string
		ts time.Time
	}{{"doc_replayed", now.Add(-72 * time.Hour)}, {"doc_future", now.Add(2 * time.Hour)}} {
		if got := signedAt(t, url, tc.id, tc.ts); got == http.StatusOK {
			t.Errorf("a signed delivery for %s stamped %s was accepted (200)", tc.id, tc.ts.UTC().Format(time.RFC3339))
		}
	}
	d.Stop() // flushes the day's counters
	st, err := store.Open(context.Background(), filepath.Join(h.cfg.StateDir, config.StateFile), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	events, err := st.EventCounts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if n := sum(events); n != 1 {
		t.Errorf("%d events journaled (%v), want only the one inside the window", n, events)
	}
	counts, err := st.Counters(context.Background(), now.UTC().Format(time.DateOnly))
	if err != nil {
		t.Fatal(err)
	}
	if counts["webhook_stale_timestamp"] != 1 || counts["webhook_future_timestamp"] != 1 {
		t.Errorf("refusal counters %v, want webhook_stale_timestamp and webhook_future_timestamp 1 each", counts)
	}
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}
