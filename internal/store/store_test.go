package store

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/docuparse"
)

type bundle struct {
	path string
	mu   sync.Mutex
	trs  []Transition
}

func setup(t testing.TB) (*Store, *bundle) {
	t.Helper()
	b := &bundle{path: filepath.Join(t.TempDir(), "state.db")}
	s, err := Open(context.Background(), b.path, Options{OnTransition: func(tr Transition) {
		b.mu.Lock()
		b.trs = append(b.trs, tr)
		b.mu.Unlock()
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, b
}

func newFile(i int, sha string) NewFile {
	return NewFile{Source: "inbox", Path: fmt.Sprintf("/in/f%d.pdf", i), FileName: fmt.Sprintf("f%d.pdf", i),
		Size: int64(100 + i), ModTime: time.Unix(1700000000, int64(i)), SHA256: sha, Dedupe: true}
}

func mustIntake(t testing.TB, s *Store, f NewFile) IntakeResult {
	t.Helper()
	r, err := s.Intake(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func event(t testing.TB, s *Store, key string, e docuparse.Event) bool {
	t.Helper()
	body, _ := json.Marshal(e)
	ok, err := s.JournalEvent(context.Background(), IncomingEvent{DedupeKey: key, Type: e.Event, DocumentID: e.DocumentID, BatchID: e.BatchID, Body: body})
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

// Migration 010 keeps every CSV file's committed length; the tail of a file
// written before it is unknown ("").
func TestMigration010KeepsCommittedLengths(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "state.db")
	old, err := open(ctx, path, Options{}, 9)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := old.w.ExecContext(ctx, `INSERT INTO csv_files (name, committed_size) VALUES ('csv/documents-2026-05-19.csv', 4321)`); err != nil {
		t.Fatal(err)
	}
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}
	s, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	f, ok, err := s.CSVState(ctx, "csv/documents-2026-05-19.csv")
	if err != nil || !ok || f != (CSVFile{Size: 4321}) {
		t.Fatalf("after the migration: %+v, %v, %v", f, ok, err)
	}
}

// A row from before migration 012 has no identity (NULL dev, inode and
// ctime): Known compares it on size and mtime only. (The comparison of
// identities is in the conformance suite, storetest.)
func TestKnownComparesARowFromBeforeMigration012OnSizeAndMtime(t *testing.T) {
	s, _ := setup(t)
	ctx := context.Background()
	f := newFile(1, "aa")
	f.FileID = FileID{Dev: 1, Inode: 42, ChangeTime: time.Unix(1700000100, 0)}
	mustIntake(t, s, f)
	if ok, err := s.Known(ctx, f.Source, f.Path, f.Size, f.ModTime, FileID{Dev: 9, Inode: 9}); err != nil || ok {
		t.Fatalf("another file: Known = %v, %v; want false", ok, err)
	}
	if _, err := s.w.ExecContext(ctx, `UPDATE documents SET dev = NULL, inode = NULL, ctime = NULL`); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.Known(ctx, f.Source, f.Path, f.Size, f.ModTime, FileID{Dev: 9, Inode: 9}); err != nil || !ok {
		t.Fatalf("a row from before migration 012: Known = %v, %v; want true (size and mtime decide)", ok, err)
	}
}

// TestOpenRefusesASchemaNewerThanItKnows: a state database a newer
// docuparse-ingest migrated is refused with an error that says so, and is
// left as it was, rather than read by an older binary that would export
// documents without their results.
func TestOpenRefusesASchemaNewerThanItKnows(t *testing.T) {
	s, b := setup(t)
	ctx := context.Background()
	if _, err := s.w.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (9999, 'later')`); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s2, err := Open(ctx, b.path, Options{})
	if err == nil {
		s2.Close()
		t.Fatal("opened a database at a newer schema")
	}
	if !strings.Contains(err.Error(), "schema version 9999, newer than") {
		t.Errorf("error %q does not say the schema is newer", err)
	}
}
