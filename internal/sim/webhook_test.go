package sim

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/docuparse"
	"github.com/docuparse/docuparse-ingest/internal/samples"
	"github.com/docuparse/docuparse-ingest/internal/testwait"
)

// webhookSetup builds a simulator whose webhooks go to rc, setting the URL
// after construction as tests of the daemon do.
func webhookSetup(t *testing.T, cfg Config, rc *receiver) *bundle {
	t.Helper()
	b := setup(t, cfg)
	b.sim.SetWebhookURL(rc.srv.URL + "/webhooks/docuparse")
	return b
}

func TestWebhooksAreSignedAndShapedLikeTheArticle(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, nil)
	b := webhookSetup(t, Config{WebhookWorkers: 1}, rc)
	files := samples.Demo()
	var br docuparse.BatchResponse
	b.submit(t, "batches", form{files: files, refs: []string{"ref-0"}}).decode(t, &br)

	testwait.For(t, "9 deliveries", func() bool { return len(rc.got()) == 9 })
	byDoc := map[string]docuparse.Event{}
	for i, h := range rc.got() {
		if !docuparse.Verify([][]byte{testSecret}, h.body, h.header.Get(docuparse.HeaderSignature)) {
			t.Errorf("delivery %d: signature does not verify", i)
		}
		if docuparse.Verify([][]byte{[]byte("other")}, h.body, h.header.Get(docuparse.HeaderSignature)) {
			t.Errorf("delivery %d verifies under another secret", i)
		}
		if ct := h.header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("content type %q", ct)
		}
		var raw map[string]json.RawMessage
		if err := json.Unmarshal(h.body, &raw); err != nil {
			t.Fatal(err)
		}
		var ev docuparse.Event
		_ = json.Unmarshal(h.body, &ev)
		if h.header.Get(docuparse.HeaderEvent) != ev.Event || !strings.HasPrefix(h.header.Get(docuparse.HeaderDelivery), "evt_") {
			t.Errorf("headers %v for %s", h.header, ev.Event)
		}
		if _, err := time.Parse(time.RFC3339, ev.Timestamp); err != nil || !strings.HasSuffix(ev.Timestamp, "Z") {
			t.Errorf("timestamp %q", ev.Timestamp)
		}
		switch ev.Event {
		case docuparse.EventDocumentCompleted:
			wantKeys(t, raw, "event", "document_id", "timestamp", "data")
			byDoc[ev.DocumentID] = ev
		case docuparse.EventDocumentFailed:
			wantKeys(t, raw, "event", "document_id", "timestamp", "error")
			if *ev.Error != (docuparse.Error{Code: "EXTRACTION_FAILED", Message: "Document extraction failed for this file."}) {
				t.Errorf("error %+v", ev.Error)
			}
			byDoc[ev.DocumentID] = ev
		case docuparse.EventBatchCompleted:
			wantKeys(t, raw, "event", "batch_id", "timestamp", "summary")
			if i != 8 {
				t.Errorf("batch.completed arrived as delivery %d of 9 with one worker and no reordering", i+1)
			}
			if ev.BatchID != br.BatchID || *ev.Summary != (docuparse.Summary{Total: 8, Succeeded: 7, Failed: 1}) {
				t.Errorf("batch event %+v %+v", ev, ev.Summary)
			}
		default:
			t.Errorf("unexpected event %q", ev.Event)
		}
	}
	for i, d := range br.Documents {
		ev, ok := byDoc[d.DocumentID]
		if !ok {
			t.Errorf("no event for %s", d.DocumentID)
			continue
		}
		want, _ := Extract(files[i].Name, files[i].Content)
		if want != nil {
			wantJSON, _ := json.Marshal(want)
			if !bytes.Equal(ev.Data, wantJSON) {
				t.Errorf("%s: data %s, want %s", files[i].Name, ev.Data, wantJSON)
			}
		}
	}
	// The receiver records a hit before the simulator reads the answer.
	testwait.For(t, "9 acknowledgements", func() bool { return b.sim.Stats().WebhooksAcknowledged == 9 })
	st := b.sim.Stats()
	if st.WebhooksAttempted != 9 || st.WebhooksAcknowledged != 9 || st.WebhooksPending != 0 || st.WebhooksFailedAttempts != 0 {
		t.Errorf("stats %+v", st)
	}
}

func wantKeys(t *testing.T, raw map[string]json.RawMessage, keys ...string) {
	t.Helper()
	if len(raw) != len(keys) {
		t.Errorf("body has keys %v, want exactly %v", raw, keys)
	}
	for _, k := range keys {
		if _, ok := raw[k]; !ok {
			t.Errorf("body lacks %q", k)
		}
	}
}

// TestRetriesFollowTheScheduleUntilExactly200: the receiver answers 500,
// then 202 (not 200, so still a failure), then 200.
func TestRetriesFollowTheScheduleUntilExactly200(t *testing.T) {
	t.Parallel()
	const scale = 1e-4 // 1 min → 6 ms, 5 min → 30 ms
	rc := newReceiver(t, func(n int, _ *http.Request) int {
		switch n {
		case 1:
			return http.StatusInternalServerError
		case 2:
			return http.StatusAccepted
		}
		return http.StatusOK
	})
	b := webhookSetup(t, Config{TimeScale: scale}, rc)
	b.submit(t, "extract", form{files: samples.Demo()[:1]})

	testwait.For(t, "the third attempt to be acknowledged", func() bool { return b.sim.Stats().WebhooksAcknowledged == 1 })
	hits := rc.got()
	if len(hits) != 3 {
		t.Fatalf("%d attempts, want 3", len(hits))
	}
	id := hits[0].header.Get(docuparse.HeaderDelivery)
	for i, h := range hits {
		if h.header.Get(docuparse.HeaderDelivery) != id || !bytes.Equal(h.body, hits[0].body) {
			t.Errorf("attempt %d differs from the first (delivery %q)", i+1, h.header.Get(docuparse.HeaderDelivery))
		}
	}
	// Timers never fire early: each gap is at least the scaled schedule.
	for i, want := range []time.Duration{time.Minute, 5 * time.Minute} {
		min := time.Duration(float64(want) * scale)
		if gap := hits[i+1].at.Sub(hits[i].at); gap < min {
			t.Errorf("retry %d came after %v, want at least %v", i+1, gap, min)
		}
	}
	st := b.sim.Stats()
	if st.WebhooksAttempted != 3 || st.WebhooksFailedAttempts != 2 || st.WebhooksAcknowledged != 1 || st.WebhooksPending != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestDeliveryIsGivenUpAfterTheLastRetry(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, func(int, *http.Request) int { return http.StatusServiceUnavailable })
	b := webhookSetup(t, Config{TimeScale: 1e-7}, rc) // the whole schedule in about 12 ms
	b.submit(t, "extract", form{files: samples.Demo()[:1]})
	testwait.For(t, "the delivery to be given up", func() bool { return b.sim.Stats().WebhooksGivenUp == 1 })
	st := b.sim.Stats()
	if len(rc.got()) != 7 || st.WebhooksAttempted != 7 || st.WebhooksFailedAttempts != 7 || st.WebhooksPending != 0 {
		t.Errorf("%d hits, stats %+v", len(rc.got()), st)
	}
}

func TestSlowReceiverTimesOutAndGetsTheEventAgain(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, func(n int, r *http.Request) int {
		if n == 1 {
			<-r.Context().Done() // hold the first delivery past the timeout
		}
		return http.StatusOK
	})
	b := webhookSetup(t, Config{DeliveryTimeout: 250 * time.Millisecond, TimeScale: 1e-4}, rc)
	b.submit(t, "extract", form{files: samples.Demo()[:1]})
	testwait.For(t, "acknowledgement", func() bool { return b.sim.Stats().WebhooksAcknowledged == 1 })
	if st := b.sim.Stats(); st.WebhooksFailedAttempts != 1 || st.WebhooksAttempted != 2 {
		t.Errorf("stats %+v", st)
	}
}

func TestDroppedWebhooksAreNeverSent(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, nil)
	b := webhookSetup(t, Config{WebhookDropRate: 1}, rc)
	var br docuparse.BatchResponse
	b.submit(t, "batches", form{files: samples.Demo()[:3]}).decode(t, &br)
	testwait.For(t, "4 events dropped", func() bool { return b.sim.Stats().WebhooksDropped == 4 })
	// The batch is complete and pollable even though nothing was delivered.
	if got := b.batch(t, br.BatchID); got.Status != docuparse.StatusCompleted {
		t.Errorf("batch %+v", got)
	}
	if st := b.sim.Stats(); st.WebhooksAttempted != 0 || st.WebhooksPending != 0 || len(rc.got()) != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestDuplicatedWebhooksArriveTwiceWithTheSameDeliveryID(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, nil)
	b := webhookSetup(t, Config{WebhookDuplicateRate: 1, WebhookReorder: 20 * time.Millisecond}, rc)
	b.submit(t, "extract", form{files: samples.Demo()[:1]})
	testwait.For(t, "two deliveries", func() bool { return len(rc.got()) == 2 })
	h := rc.got()
	if h[0].header.Get(docuparse.HeaderDelivery) != h[1].header.Get(docuparse.HeaderDelivery) || !bytes.Equal(h[0].body, h[1].body) {
		t.Errorf("copies differ")
	}
	testwait.For(t, "both acknowledged", func() bool { return b.sim.Stats().WebhooksAcknowledged == 2 })
	if st := b.sim.Stats(); st.WebhooksDuplicated != 1 || st.WebhooksPending != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestNoWebhooksWithoutAURL(t *testing.T) {
	t.Parallel()
	b := setup(t, Config{})
	var er docuparse.ExtractResponse
	b.submit(t, "extract", form{files: samples.Demo()[:1]}).decode(t, &er)
	b.waitDone(t, er.DocumentID)
	if st := b.sim.Stats(); st.WebhooksPending != 0 || st.WebhooksAttempted != 0 {
		t.Errorf("stats %+v", st)
	}
}

// TestEventsWaitForStart: events created before Start are delivered once it
// runs.
func TestEventsWaitForStart(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, nil)
	s, err := New(Config{APIKey: testKey, WebhookURL: rc.srv.URL, WebhookSecret: testSecret})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	body, ct := form{files: samples.Demo()[:1]}.encode()
	req, _ := http.NewRequest(http.MethodPost, "/api/v1/extract", bytes.NewReader(body))
	req.Header.Set("Content-Type", ct)
	req.Header.Set("Authorization", "Bearer "+testKey)
	w := httptest.NewRecorder()
	s.Handler().ServeHTTP(w, req)
	if w.Code != http.StatusAccepted {
		t.Fatalf("status %d", w.Code)
	}
	testwait.For(t, "the event to be queued", func() bool { return s.Stats().WebhooksPending == 1 })
	if len(rc.got()) != 0 {
		t.Fatal("delivered before Start")
	}
	s.Start(context.Background())
	testwait.For(t, "delivery after Start", func() bool { return s.Stats().WebhooksAcknowledged == 1 })
}

func TestStopAbandonsPendingDeliveries(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t, func(int, *http.Request) int { return http.StatusInternalServerError })
	b := webhookSetup(t, Config{}, rc) // real schedule: the retry is a minute away
	b.submit(t, "extract", form{files: samples.Demo()[:1]})
	testwait.For(t, "the first failed attempt", func() bool { return b.sim.Stats().WebhooksFailedAttempts == 1 })
	done := make(chan struct{})
	go func() {
		b.sim.Stop()
		b.sim.Stop()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Stop did not return")
	}
	if st := b.sim.Stats(); st.WebhooksPending != 1 || st.WebhooksGivenUp != 0 {
		t.Errorf("stats %+v", st)
	}
}
