package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/docuparse"
)

// Migration 009 turns "sha256:<hex>" dedupe keys into the digest's bytes
// and keeps every row, id and index: a retry of an event journaled before
// the upgrade is still recognised as a repeat.
func TestMigration009KeepsOldDedupeKeysRecognisable(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "state.db")
	old, err := open(ctx, path, Options{}, 8)
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"event":"document.completed","document_id":"doc_1","timestamp":"2026-05-19T14:32:00Z","data":{}}`)
	sum := sha256.Sum256(body)
	for _, row := range []struct {
		id  int
		key string
	}{{7, "sha256:" + hex.EncodeToString(sum[:])}, {9, "some-other-key"}} {
		if _, err := old.w.ExecContext(ctx, `INSERT INTO events (id, dedupe_key, event_type, document_id, received_at, body, status)
			VALUES (?, ?, 'document.completed', 'doc_1', '2026-05-19T14:32:01.000000Z', ?, 'applied')`, row.id, row.key, body); err != nil {
			t.Fatal(err)
		}
	}
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}

	s, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var key []byte
	var typ string
	if err := s.r.QueryRowContext(ctx, `SELECT dedupe_key, typeof(dedupe_key) FROM events WHERE id = 7`).Scan(&key, &typ); err != nil {
		t.Fatal(err)
	}
	if typ != "blob" || !bytes.Equal(key, sum[:]) {
		t.Fatalf("converted key = %s %x, want the blob %x", typ, key, sum)
	}
	if err := s.r.QueryRowContext(ctx, `SELECT dedupe_key FROM events WHERE id = 9`).Scan(&key); err != nil || string(key) != "some-other-key" {
		t.Fatalf("other key = %q, %v", key, err)
	}
	retry := IncomingEvent{DedupeKey: string(sum[:]), Type: docuparse.EventDocumentCompleted, DocumentID: "doc_1", Body: body}
	if inserted, err := s.JournalEvent(ctx, retry); err != nil || inserted {
		t.Fatalf("retry of a pre-upgrade event: inserted %v, %v; want a repeat", inserted, err)
	}
	var indexes int
	if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events'
		AND name IN ('events_status', 'events_orphan_document', 'events_orphan_batch', 'events_received')`).Scan(&indexes); err != nil || indexes != 4 {
		t.Fatalf("%d of the 4 event indexes after the rebuild, %v", indexes, err)
	}
}

// The journal remembers the last keys it stored: a repeat inside the
// window is not stored, one older than the window is — and applying it
// changes nothing, because the document's first outcome wins.
func TestRepeatOlderThanTheWindowIsStoredAndAppliesAsDuplicate(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "state.db"), Options{window: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	a := mustIntake(t, s, newFile(1, "a1"))
	batch, _ := s.CreateBatch(ctx, ModeSingle, []int64{a.ID})
	if err := s.RecordSubmitted(ctx, batch.ID, "", nil, []Submitted{{a.ID, "doc_a"}}); err != nil {
		t.Fatal(err)
	}
	completed := docuparse.Event{Event: docuparse.EventDocumentCompleted, DocumentID: "doc_a", Data: json.RawMessage(`{"total":"1.00"}`)}
	if !event(t, s, "first", completed) {
		t.Fatal("first delivery not stored")
	}
	if event(t, s, "first", completed) {
		t.Fatal("a repeat inside the window was stored")
	}
	for _, k := range []string{"x", "y", "z"} { // push "first" out of the window
		event(t, s, k, docuparse.Event{Event: docuparse.EventBatchCompleted, BatchID: "batch_" + k})
	}
	if !event(t, s, "first", completed) {
		t.Fatal("a repeat older than the window was not stored")
	}
	// What the receiver's ParseEvent makes of those bodies, in journal order.
	result := &Result{DocumentID: "doc_a", Status: docuparse.StatusCompleted, Data: completed.Data, Via: ViaWebhook}
	evs, err := s.PendingEvents(ctx, 10)
	if err != nil || len(evs) != 5 {
		t.Fatalf("pending = %d, %v; want first, x, y, z and the old repeat", len(evs), err)
	}
	actions := []EventAction{{EventID: evs[0].ID, Result: result}}
	for _, e := range evs[1:4] {
		actions = append(actions, EventAction{EventID: e.ID, Dead: "no batch_id or summary"})
	}
	actions = append(actions, EventAction{EventID: evs[4].ID, Result: result})
	if _, err := s.ApplyEvents(ctx, actions); err != nil {
		t.Fatal(err)
	}
	c, err := s.EventCounts(ctx)
	if err != nil || c[EventApplied] != 1 || c[EventDuplicate] != 1 {
		t.Fatalf("events = %v, %v; want the first applied and the old repeat a duplicate", c, err)
	}
	if d, _ := s.Get(ctx, a.ID); d.State != StateCompleted {
		t.Fatalf("document = %s, want completed once", d.State)
	}
}

// The window survives a restart: it is loaded from the journal's latest
// events, oldest first, so the newest keys are the ones kept.
func TestWindowIsReloadedOnOpen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "state.db")
	s, err := Open(ctx, path, Options{window: 2})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"old", "mid", "new"} {
		event(t, s, k, docuparse.Event{Event: docuparse.EventBatchCompleted, BatchID: "batch_" + k})
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(ctx, path, Options{window: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// In this order: storing "old" again pushes "mid" out of the window.
	for _, c := range []struct {
		key  string
		want bool
	}{{"mid", false}, {"new", false}, {"old", true}} {
		if got := event(t, s, c.key, docuparse.Event{Event: docuparse.EventBatchCompleted, BatchID: "batch_" + c.key}); got != c.want {
			t.Errorf("after reopen, %q stored = %v, want %v", c.key, got, c.want)
		}
	}
}

// A context that ends at any moment of a journal write leaves the store
// usable and tells the truth: an error means the deliveries were not
// stored, success that they were. (The driver reports a statement during
// which the context ended as failed even when it ran, which once left the
// writer inside a transaction for good.)
func TestJournalEventsUnderCancellationNeverWedgesOrLies(t *testing.T) {
	s, _ := setup(t)
	stored := map[string]bool{}
	for i := range 400 {
		key := fmt.Sprintf("k%d", i)
		ctx, cancel := context.WithCancel(context.Background())
		go func() {
			time.Sleep(time.Duration(rand.IntN(300)) * time.Microsecond)
			cancel()
		}()
		ok, err := s.JournalEvent(ctx, IncomingEvent{DedupeKey: key, Type: docuparse.EventDocumentCompleted, DocumentID: "doc_" + key, Body: []byte(`{}`)})
		cancel()
		if err == nil && ok {
			stored[key] = true
		}
	}
	if err := s.Ping(context.Background()); err != nil {
		t.Fatalf("store unusable after cancelled writes: %v", err)
	}
	rows, err := s.r.Query(`SELECT dedupe_key FROM events`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	inTable := map[string]bool{}
	for rows.Next() {
		var k []byte
		if err := rows.Scan(&k); err != nil {
			t.Fatal(err)
		}
		inTable[string(k)] = true
	}
	for k := range stored {
		if !inTable[k] {
			t.Errorf("%s reported stored but is not in the journal", k)
		}
	}
	for k := range inTable {
		if !stored[k] {
			t.Errorf("%s is in the journal but its write reported failure", k)
		}
	}
}

// An old repeat stored twice in the journal (outside the window) is read
// back once, so it cannot push a newer key out of the window early.
func TestWindowReadBackCountsARepeatOnce(t *testing.T) {
	r := newRecentKeys(2)
	for _, k := range []string{"a", "b", "a"} {
		r.add(k)
	}
	if !r.contains("a") || !r.contains("b") || len(r.set) != 2 || len(r.ring) != 2 {
		t.Fatalf("window = %v (ring %v), want a and b", r.set, r.ring)
	}
	r.add("c")
	if r.contains("a") || !r.contains("b") || !r.contains("c") || len(r.set) != 2 {
		t.Fatalf("after c, window = %v, want b and c", r.set)
	}
}

// The store announces each JournalEvents commit that stored new rows, with
// how many: the one hook the daemon wakes the applier from. A group of
// repeats stores nothing and announces nothing.
func TestJournalEventsAnnouncesNewRows(t *testing.T) {
	ctx := context.Background()
	var got []int
	s, err := Open(ctx, filepath.Join(t.TempDir(), "state.db"), Options{OnJournaled: func(n int) { got = append(got, n) }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ev := func(key string) IncomingEvent {
		return IncomingEvent{DedupeKey: key, Type: docuparse.EventDocumentCompleted, DocumentID: "doc_" + key,
			Body: []byte(`{"event":"document.completed","document_id":"doc_` + key + `"}`)}
	}
	if _, err := s.JournalEvents(ctx, []IncomingEvent{ev("a"), ev("b"), ev("a")}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.JournalEvents(ctx, []IncomingEvent{ev("a"), ev("b")}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.JournalEvent(ctx, ev("c")); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != "[2 1]" {
		t.Fatalf("OnJournaled saw %v, want [2 1] (two new, then none, then one)", got)
	}
}

// OnJournaled is called after the commit with no store lock held, as the
// other hooks are: the hook runs on the receiver's journal writer, and a
// hook that waits on the journal (here: journals a follow-up itself) must
// not wedge every later delivery. Before the hook was announced outside
// journalMu, this call deadlocked.
func TestOnJournaledIsCalledWithoutTheJournalLock(t *testing.T) {
	ctx := context.Background()
	var s *Store
	followed := make(chan error, 1)
	var hooked atomic.Bool
	s, err := Open(ctx, filepath.Join(t.TempDir(), "state.db"), Options{OnJournaled: func(int) {
		if hooked.Swap(true) {
			return // the follow-up's own announcement
		}
		_, err := s.JournalEvent(ctx, IncomingEvent{DedupeKey: "follow-up", Type: docuparse.EventDocumentCompleted,
			DocumentID: "doc_b", Body: []byte(`{"event":"document.completed","document_id":"doc_b"}`)})
		followed <- err
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	done := make(chan error, 1)
	go func() {
		_, err := s.JournalEvent(ctx, IncomingEvent{DedupeKey: "first", Type: docuparse.EventDocumentCompleted,
			DocumentID: "doc_a", Body: []byte(`{"event":"document.completed","document_id":"doc_a"}`)})
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second): // a hang guard, not a timing assertion
		t.Fatal("JournalEvent did not return: OnJournaled was called with journalMu held")
	}
	if err := <-followed; err != nil {
		t.Fatalf("the hook's own JournalEvent: %v", err)
	}
}
