package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"path/filepath"
	"testing"

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

// A group that fails part-way stores none of it, and the journal goes on
// working: the transaction on the raw connection is rolled back.
func TestJournalEventsFailedGroupStoresNothing(t *testing.T) {
	s, _ := setup(t)
	ctx := context.Background()
	ok := IncomingEvent{DedupeKey: "a", Type: docuparse.EventDocumentCompleted, DocumentID: "doc_a", Body: []byte(`{}`)}
	broken := IncomingEvent{DedupeKey: "b", Type: docuparse.EventDocumentCompleted, DocumentID: "doc_b"} // body NULL: refused by the schema
	if _, err := s.JournalEvents(ctx, []IncomingEvent{ok, broken}); err == nil {
		t.Fatal("a group with a row the schema refuses was journaled")
	}
	if c, err := s.EventCounts(ctx); err != nil || len(c) != 0 {
		t.Fatalf("journal after the failed group = %v, %v; want empty", c, err)
	}
	got, err := s.JournalEvents(ctx, []IncomingEvent{ok})
	if err != nil || !got[0] {
		t.Fatalf("journal after a failed group: %v, %v", got, err)
	}
}
