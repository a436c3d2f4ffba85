package metrics

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/docuparse"
	"github.com/docuparse/docuparse-ingest/internal/store"
	"github.com/docuparse/docuparse-ingest/receiver"
)

var t0 = time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)

func openStore(t *testing.T, path string) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), path, store.Options{Now: func() time.Time { return t0 }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func file(i int, sha string) store.NewFile {
	return store.NewFile{Source: "inbox", Path: fmt.Sprintf("/in/f%d.pdf", i), FileName: fmt.Sprintf("f%d.pdf", i),
		Size: int64(100 + i), ModTime: t0, SHA256: sha, Dedupe: true}
}

func event(t *testing.T, typ, documentID string) store.IncomingEvent {
	t.Helper()
	e := docuparse.Event{Event: typ, DocumentID: documentID, Timestamp: t0.Format(time.RFC3339)}
	if typ == docuparse.EventDocumentCompleted {
		e.Data = json.RawMessage(`{"document_type":"invoice"}`)
	} else {
		e.Error = &docuparse.Error{Code: "UNREADABLE", Message: "blurred"}
	}
	body, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	return store.IncomingEvent{DedupeKey: typ + documentID, Type: typ, DocumentID: documentID, Body: body}
}

// fill puts documents in every state but exported, and events in several
// statuses, through the store's own API:
//
//	queued 1, submitting 1, submitted 1, completed 2, failed 1,
//	rejected 1, duplicate 1, vanished 1;
//	events applied 1, orphan 1, dead 1, pending 1.
func fill(t *testing.T, s *store.Store) {
	t.Helper()
	ctx := context.Background()
	ids := make([]int64, 8)
	for i := range ids {
		r, err := s.Intake(ctx, file(i, fmt.Sprintf("sha%d", i)))
		if err != nil || r.State != store.StateQueued {
			t.Fatalf("intake %d: %v %v", i, r.State, err)
		}
		ids[i] = r.ID
	}
	// ids[0] stays queued; ids[7] vanishes.
	if err := s.Finish(ctx, ids[7:8], store.StateVanished, "", ""); err != nil {
		t.Fatal(err)
	}
	b, err := s.CreateBatch(ctx, store.ModeBatch, ids[1:7])
	if err != nil {
		t.Fatal(err)
	}
	// ids[1] stays submitting; ids[6] is refused by the API.
	if err := s.Finish(ctx, ids[6:7], store.StateRejected, "UNSUPPORTED", "not a PDF"); err != nil {
		t.Fatal(err)
	}
	var subs []store.Submitted
	for i := 2; i <= 5; i++ {
		subs = append(subs, store.Submitted{DocID: ids[i], DocumentID: fmt.Sprintf("doc_%d", i)})
	}
	if err := s.RecordSubmitted(ctx, b.ID, "batch_1", []byte(`{}`), subs); err != nil {
		t.Fatal(err)
	}
	// doc_2 stays submitted; doc_3 completes by poll, doc_4 fails by poll.
	if _, err := s.ApplyResult(ctx, store.Result{DocumentID: "doc_3", Status: docuparse.StatusCompleted,
		Data: json.RawMessage(`{}`), Via: store.ViaPoll}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ApplyResult(ctx, store.Result{DocumentID: "doc_4", Status: docuparse.StatusFailed,
		ErrorCode: "UNREADABLE", ErrorMessage: "blurred", Via: store.ViaPoll}); err != nil {
		t.Fatal(err)
	}
	// Same content as doc_3's file: a duplicate.
	if r, err := s.Intake(ctx, file(20, "sha3")); err != nil || r.State != store.StateDuplicate {
		t.Fatalf("duplicate intake: %v %v", r.State, err)
	}
	// doc_5 completes by webhook (applied); doc_zzz is not recorded (orphan);
	// one dead letter; one event journaled after the applier ran (pending).
	for _, e := range []store.IncomingEvent{
		event(t, docuparse.EventDocumentCompleted, "doc_5"),
		event(t, docuparse.EventDocumentCompleted, "doc_zzz"),
		{DedupeKey: "dead", Type: "document.exploded", Body: []byte(`{"event":"document.exploded"}`), Dead: true, Note: "unknown event type"},
	} {
		if _, err := s.JournalEvent(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := receiver.ApplyPending(ctx, s); err != nil {
		t.Fatal(err)
	}
	if _, err := s.JournalEvent(ctx, event(t, docuparse.EventDocumentFailed, "doc_2")); err != nil {
		t.Fatal(err)
	}
}

func TestStoreCollectorReadsTheStore(t *testing.T) {
	s := openStore(t, filepath.Join(t.TempDir(), "state.db"))
	fill(t, s)
	_, url := newMetrics(t, Options{Status: s.Status, Now: func() time.Time { return t0.Add(90 * time.Second) }})

	compare(t, url, fmt.Sprintf(`
# HELP docuparse_store_up 1 when the state store answered this scrape, 0 when reading it failed or timed out.
# TYPE docuparse_store_up gauge
docuparse_store_up 1
# HELP docuparse_documents Documents in the state store, by state (every state listed, zero included).
# TYPE docuparse_documents gauge
docuparse_documents{state="queued"} 1
docuparse_documents{state="submitting"} 1
docuparse_documents{state="submitted"} 1
docuparse_documents{state="completed"} 2
docuparse_documents{state="failed"} 1
docuparse_documents{state="rejected"} 1
docuparse_documents{state="duplicate"} 1
docuparse_documents{state="vanished"} 1
docuparse_documents{state="exported"} 0
# HELP docuparse_queue_depth Documents waiting to be sent to the API (queued plus submitting).
# TYPE docuparse_queue_depth gauge
docuparse_queue_depth 2
# HELP docuparse_oldest_pending_age_seconds Age of the oldest document not yet terminal (queued, submitting or submitted), since discovery; 0 when none.
# TYPE docuparse_oldest_pending_age_seconds gauge
docuparse_oldest_pending_age_seconds 90
# HELP docuparse_webhook_events Journaled webhook events in the state store, by status.
# TYPE docuparse_webhook_events gauge
docuparse_webhook_events{status="pending"} 1
docuparse_webhook_events{status="orphan"} 1
docuparse_webhook_events{status="applied"} 1
docuparse_webhook_events{status="duplicate"} 0
docuparse_webhook_events{status="conflict"} 0
docuparse_webhook_events{status="dead"} 1
# HELP docuparse_last_webhook_timestamp_seconds Unix time the newest webhook event was journaled; 0 when none ever was.
# TYPE docuparse_last_webhook_timestamp_seconds gauge
docuparse_last_webhook_timestamp_seconds %d
`, t0.Unix()), "docuparse_store_up", "docuparse_documents", "docuparse_queue_depth", "docuparse_oldest_pending_age_seconds",
		"docuparse_webhook_events", "docuparse_last_webhook_timestamp_seconds")
}

// The gauges come from the database, not from memory: a new process (new
// Metrics, reopened store) reports the same numbers.
func TestStoreCollectorIsTrueAcrossRestarts(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	s := openStore(t, path)
	fill(t, s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openStore(t, path)
	_, url := newMetrics(t, Options{Status: s.Status})
	fams := scrape(t, url)
	for state, want := range map[string]float64{"queued": 1, "completed": 2, "exported": 0} {
		if g, ok := sample(fams, "docuparse_documents", "state="+state); !ok || g.GetGauge().GetValue() != want {
			t.Errorf("documents{state=%s} = %v, want %v", state, g.GetGauge().GetValue(), want)
		}
	}
}

func TestStoreCollectorEmptyStore(t *testing.T) {
	s := openStore(t, filepath.Join(t.TempDir(), "state.db"))
	_, url := newMetrics(t, Options{Status: s.Status})
	compare(t, url, `
# HELP docuparse_queue_depth Documents waiting to be sent to the API (queued plus submitting).
# TYPE docuparse_queue_depth gauge
docuparse_queue_depth 0
# HELP docuparse_oldest_pending_age_seconds Age of the oldest document not yet terminal (queued, submitting or submitted), since discovery; 0 when none.
# TYPE docuparse_oldest_pending_age_seconds gauge
docuparse_oldest_pending_age_seconds 0
# HELP docuparse_last_webhook_timestamp_seconds Unix time the newest webhook event was journaled; 0 when none ever was.
# TYPE docuparse_last_webhook_timestamp_seconds gauge
docuparse_last_webhook_timestamp_seconds 0
# HELP docuparse_export_held_documents Documents held from export because their output path is unsafe (a planted symbolic link, say); the status command names them and why.
# TYPE docuparse_export_held_documents gauge
docuparse_export_held_documents 0
# HELP docuparse_submit_stuck_documents Documents whose upload stopped because the API kept answering in a way that cannot be recorded; the status command names them and why, retry --stuck resubmits them.
# TYPE docuparse_submit_stuck_documents gauge
docuparse_submit_stuck_documents 0
`, "docuparse_queue_depth", "docuparse_oldest_pending_age_seconds", "docuparse_last_webhook_timestamp_seconds",
		"docuparse_export_held_documents", "docuparse_submit_stuck_documents")
	fams := scrape(t, url)
	if n := len(fams["docuparse_documents"].GetMetric()); n != len(store.States) {
		t.Errorf("%d document series on an empty store, want one per state (%d)", n, len(store.States))
	}
}

// A store that cannot be read turns into docuparse_store_up 0; the scrape
// itself succeeds and the other metrics are still served.
func TestStoreCollectorFailureIsStoreUpZero(t *testing.T) {
	s := openStore(t, filepath.Join(t.TempDir(), "state.db"))
	fill(t, s)
	m, url := newMetrics(t, Options{Status: s.Status})
	m.Webhook(WebhookOK)
	if err := s.Close(); err != nil { // a real failure: the database is closed
		t.Fatal(err)
	}
	fams := scrape(t, url) // fails the test unless 200
	if g, ok := sample(fams, "docuparse_store_up"); !ok || g.GetGauge().GetValue() != 0 {
		t.Errorf("store_up = %v, want 0", g.GetGauge().GetValue())
	}
	for _, name := range []string{"docuparse_documents", "docuparse_queue_depth", "docuparse_webhook_events"} {
		if _, ok := fams[name]; ok {
			t.Errorf("%s reported although the store could not be read", name)
		}
	}
	if c, ok := sample(fams, "docuparse_webhook_deliveries_total", "outcome=ok"); !ok || c.GetCounter().GetValue() != 1 {
		t.Error("hook counters missing from a scrape with the store down")
	}
}

// A status call that hangs (and ignores its context) is abandoned after
// StatusTimeout, so a stuck database cannot hold the scrape.
func TestStoreCollectorTimeout(t *testing.T) {
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	called := make(chan struct{}, 1)
	hang := func(context.Context) (*store.Status, error) {
		called <- struct{}{}
		<-release
		return nil, errors.New("released")
	}
	_, url := newMetrics(t, Options{Status: hang, StatusTimeout: 50 * time.Millisecond})
	fams := scrape(t, url)
	<-called
	if g, ok := sample(fams, "docuparse_store_up"); !ok || g.GetGauge().GetValue() != 0 {
		t.Errorf("store_up = %v, want 0 after a timeout", g.GetGauge().GetValue())
	}
}

func TestStoreCollectorNilStatusIsAnError(t *testing.T) {
	none := func(context.Context) (*store.Status, error) { return nil, nil }
	_, url := newMetrics(t, Options{Status: none})
	fams := scrape(t, url)
	if g, ok := sample(fams, "docuparse_store_up"); !ok || g.GetGauge().GetValue() != 0 {
		t.Errorf("store_up = %v, want 0 for a nil status", g.GetGauge().GetValue())
	}
}

// Without a Status function there is no store collector at all.
func TestNoStatusNoStoreMetrics(t *testing.T) {
	_, url := newMetrics(t, Options{})
	fams := scrape(t, url)
	if _, ok := fams["docuparse_store_up"]; ok {
		t.Error("docuparse_store_up served without a Status function")
	}
}
