package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
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

func (b *bundle) transitions() []Transition {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]Transition(nil), b.trs...)
}

func setup(t *testing.T) (*Store, *bundle) {
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

func mustIntake(t *testing.T, s *Store, f NewFile) IntakeResult {
	t.Helper()
	r, err := s.Intake(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestIntakeQueuesNewFilesAndSkipsKnownContent(t *testing.T) {
	s, _ := setup(t)
	ctx := context.Background()
	r := mustIntake(t, s, newFile(1, "aa"))
	if r.State != StateQueued || r.Known {
		t.Fatalf("first intake = %+v, want queued", r)
	}
	// Same path, same content, touched: nothing new.
	f := newFile(1, "aa")
	f.ModTime = f.ModTime.Add(time.Second)
	r2 := mustIntake(t, s, f)
	if !r2.Known || r2.ID != r.ID {
		t.Fatalf("re-intake = %+v, want known %d", r2, r.ID)
	}
	if ok, _ := s.Known(ctx, f.Source, f.Path, f.Size, f.ModTime, f.FileID); !ok {
		t.Fatal("Known should match the refreshed stat")
	}
	// Same path, new content: a new document.
	f.SHA256 = "bb"
	if r3 := mustIntake(t, s, f); r3.State != StateQueued || r3.ID == r.ID {
		t.Fatalf("changed content = %+v, want a new queued document", r3)
	}
	// Other path, same content as an original: duplicate.
	r4 := mustIntake(t, s, newFile(2, "aa"))
	if r4.State != StateDuplicate || r4.DuplicateOf != r.ID {
		t.Fatalf("copy = %+v, want duplicate of %d", r4, r.ID)
	}
	// Dedupe off: same content is its own document.
	f5 := newFile(3, "aa")
	f5.Dedupe = false
	if r5 := mustIntake(t, s, f5); r5.State != StateQueued {
		t.Fatalf("dedupe off = %+v, want queued", r5)
	}
}

func TestBatchLifecycleRecordsSubmissionAndResults(t *testing.T) {
	s, b := setup(t)
	ctx := context.Background()
	a := mustIntake(t, s, newFile(1, "a1"))
	c := mustIntake(t, s, newFile(2, "a2"))
	batch, err := s.CreateBatch(ctx, ModeBatch, []int64{a.ID, c.ID})
	if err != nil {
		t.Fatal(err)
	}
	if batch.IdempotencyKey == "" || len(batch.Documents) != 2 {
		t.Fatalf("batch = %+v", batch)
	}
	if _, err := s.CreateBatch(ctx, ModeBatch, []int64{a.ID}); err == nil {
		t.Fatal("a document can be in only one batch")
	}
	pending, err := s.SubmittingBatches(ctx)
	if err != nil || len(pending) != 1 || pending[0].IdempotencyKey != batch.IdempotencyKey {
		t.Fatalf("submitting = %+v, %v", pending, err)
	}
	subs := []Submitted{{a.ID, "doc_a"}, {c.ID, "doc_c"}}
	if err := s.RecordSubmitted(ctx, batch.ID, "batch_x", []byte(`{}`), subs); err != nil {
		t.Fatal(err)
	}
	// Recording the same answer again changes nothing.
	if err := s.RecordSubmitted(ctx, batch.ID, "batch_x", []byte(`{}`), subs); err != nil {
		t.Fatal(err)
	}
	if pending, _ := s.SubmittingBatches(ctx); len(pending) != 0 {
		t.Fatalf("batch still submitting: %+v", pending)
	}
	got, err := s.ApplyResult(ctx, Result{DocumentID: "doc_a", Status: docuparse.StatusCompleted, Data: json.RawMessage(`{"total":"1.00"}`), Via: ViaWebhook})
	if err != nil || got != Applied {
		t.Fatalf("apply = %q, %v", got, err)
	}
	if got, _ := s.ApplyResult(ctx, Result{DocumentID: "doc_a", Status: docuparse.StatusCompleted, Data: json.RawMessage(`{ "total": "1.00" }`), Via: ViaPoll}); got != Duplicate {
		t.Fatalf("repeat = %q, want duplicate", got)
	}
	if got, _ := s.ApplyResult(ctx, Result{DocumentID: "doc_a", Status: docuparse.StatusFailed, Via: ViaWebhook}); got != Conflict {
		t.Fatalf("contradiction = %q, want conflict", got)
	}
	if _, err := s.ApplyResult(ctx, Result{DocumentID: "doc_nope", Status: docuparse.StatusCompleted}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown id: %v", err)
	}
	d, _ := s.GetByDocumentID(ctx, "doc_a")
	if d.State != StateCompleted || d.ResultVia != ViaWebhook || d.APIBatchID != "batch_x" || string(d.Result) != `{"total":"1.00"}` {
		t.Fatalf("doc = %+v", d)
	}
	var path []State
	for _, tr := range b.transitions() {
		if tr.DocID == a.ID {
			path = append(path, tr.To)
		}
	}
	want := []State{StateQueued, StateSubmitting, StateSubmitted, StateCompleted}
	if fmt.Sprint(path) != fmt.Sprint(want) {
		t.Fatalf("transitions = %v, want %v", path, want)
	}
}

func event(t *testing.T, s *Store, key string, e docuparse.Event) bool {
	t.Helper()
	body, _ := json.Marshal(e)
	ok, err := s.JournalEvent(context.Background(), IncomingEvent{DedupeKey: key, Type: e.Event, DocumentID: e.DocumentID, BatchID: e.BatchID, Body: body})
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

func TestEventBeforeSubmissionIsAdoptedWhenTheSubmissionIsRecorded(t *testing.T) {
	s, _ := setup(t)
	ctx := context.Background()
	a := mustIntake(t, s, newFile(1, "a1"))
	batch, _ := s.CreateBatch(ctx, ModeSingle, []int64{a.ID})
	if !event(t, s, "k1", docuparse.Event{Event: docuparse.EventDocumentFailed, DocumentID: "doc_a", Error: &docuparse.Error{Code: "EXTRACTION_FAILED", Message: "no"}}) {
		t.Fatal("first delivery should be stored")
	}
	if event(t, s, "k1", docuparse.Event{Event: docuparse.EventDocumentFailed, DocumentID: "doc_a"}) {
		t.Fatal("a repeated delivery must not be stored twice")
	}
	if n := applyPending(t, s); n != 1 {
		t.Fatalf("applied %d events, want 1", n)
	}
	if c, _ := s.EventCounts(ctx); c[EventOrphan] != 1 {
		t.Fatalf("events = %v, want one orphan", c)
	}
	if err := s.RecordSubmitted(ctx, batch.ID, "", nil, []Submitted{{a.ID, "doc_a"}}); err != nil {
		t.Fatal(err)
	}
	// Recording the submission queues the orphan again, in the same
	// transaction; the applier's next pass applies it.
	if c, _ := s.EventCounts(ctx); c[EventPending] != 1 || c[EventOrphan] != 0 {
		t.Fatalf("events = %v, want the orphan pending again", c)
	}
	if n := applyPending(t, s); n != 1 {
		t.Fatalf("applied %d events, want the adopted orphan", n)
	}
	d, _ := s.Get(ctx, a.ID)
	if d.State != StateFailed || d.ErrorCode != "EXTRACTION_FAILED" {
		t.Fatalf("doc = %+v, want failed by the early event", d)
	}
	if c, _ := s.EventCounts(ctx); c[EventApplied] != 1 || c[EventOrphan] != 0 {
		t.Fatalf("events = %v", c)
	}
}

func TestRequeueAndFinish(t *testing.T) {
	s, _ := setup(t)
	ctx := context.Background()
	a := mustIntake(t, s, newFile(1, "a1"))
	c := mustIntake(t, s, newFile(2, "a2"))
	batch, _ := s.CreateBatch(ctx, ModeBatch, []int64{a.ID, c.ID})
	if err := s.Finish(ctx, []int64{a.ID}, StateRejected, "UNSUPPORTED_MEDIA_TYPE", "nope"); err != nil {
		t.Fatal(err)
	}
	if err := s.Requeue(ctx, batch.ID, true, "refused"); err != nil {
		t.Fatal(err)
	}
	q, _ := s.Documents(ctx, StateQueued, 0)
	if len(q) != 1 || q[0].ID != c.ID || !q[0].Solo || q[0].BatchID != 0 {
		t.Fatalf("queued = %+v", q)
	}
	if pending, _ := s.SubmittingBatches(ctx); len(pending) != 0 {
		t.Fatalf("abandoned batch still submitting")
	}
	if err := s.Finish(ctx, []int64{a.ID}, StateCompleted, "", ""); err == nil {
		t.Fatal("completed is not a local outcome")
	}
}

func TestExportMarksDocumentsAndCommitsCSVSizes(t *testing.T) {
	s, _ := setup(t)
	ctx := context.Background()
	a := mustIntake(t, s, newFile(1, "a1"))
	dup := mustIntake(t, s, newFile(2, "a1"))
	if _, err := s.Reject(ctx, newFile(3, ""), "FILE_TOO_LARGE", "too big"); err != nil {
		t.Fatal(err)
	}
	c, _ := s.ExportCandidates(ctx, 10)
	if len(c) != 1 || c[0].State != StateRejected {
		t.Fatalf("candidates = %+v; the duplicate must wait for its original's id", c)
	}
	batch, _ := s.CreateBatch(ctx, ModeBatch, []int64{a.ID})
	_ = s.RecordSubmitted(ctx, batch.ID, "b1", nil, []Submitted{{a.ID, "doc_a"}})
	c, _ = s.ExportCandidates(ctx, 10)
	if len(c) != 2 || c[0].ID != dup.ID || c[0].OriginalDocumentID != "doc_a" || c[0].OriginalPath != "/in/f1.pdf" {
		t.Fatalf("candidates = %+v", c)
	}
	if err := s.MarkExported(ctx, []int64{c[0].ID, c[1].ID}, map[string]CSVFile{"csv/documents-x.csv": {Size: 120, TailSHA256: "abc"}}); err != nil {
		t.Fatal(err)
	}
	if f, ok, _ := s.CSVState(ctx, "csv/documents-x.csv"); !ok || f != (CSVFile{Size: 120, TailSHA256: "abc"}) {
		t.Fatalf("committed = %+v, %v", f, ok)
	}
	// A record made before a file's first append does not overwrite one.
	if err := s.BeginCSV(ctx, "csv/documents-x.csv"); err != nil {
		t.Fatal(err)
	}
	if err := s.BeginCSV(ctx, "csv/documents-y.csv"); err != nil {
		t.Fatal(err)
	}
	if f, _, _ := s.CSVState(ctx, "csv/documents-x.csv"); f.Size != 120 {
		t.Fatalf("BeginCSV replaced a record: %+v", f)
	}
	if f, ok, _ := s.CSVState(ctx, "csv/documents-y.csv"); !ok || f != (CSVFile{}) {
		t.Fatalf("BeginCSV: %+v, %v", f, ok)
	}
	if _, ok, _ := s.CSVState(ctx, "csv/documents-z.csv"); ok {
		t.Fatal("a file never begun has a record")
	}
	if c, _ = s.ExportCandidates(ctx, 10); len(c) != 0 {
		t.Fatalf("still candidates: %+v", c)
	}
	d, _ := s.Get(ctx, dup.ID)
	if d.State != StateExported || d.Outcome != StateDuplicate {
		t.Fatalf("dup = %+v", d)
	}
}

func TestStateSurvivesReopen(t *testing.T) {
	s, b := setup(t)
	ctx := context.Background()
	a := mustIntake(t, s, newFile(1, "a1"))
	batch, _ := s.CreateBatch(ctx, ModeBatch, []int64{a.ID})
	key := s.installID
	s.Close()
	s2, err := Open(ctx, b.path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if s2.installID != key {
		t.Fatal("install id must persist")
	}
	pending, _ := s2.SubmittingBatches(ctx)
	if len(pending) != 1 || pending[0].IdempotencyKey != batch.IdempotencyKey || len(pending[0].Documents) != 1 {
		t.Fatalf("after reopen: %+v", pending)
	}
}

func TestJournalEventsStoresEachKeyOnceWithinAndAcrossGroups(t *testing.T) {
	s, _ := setup(t)
	ctx := context.Background()
	ev := func(k string) IncomingEvent {
		return IncomingEvent{DedupeKey: k, Type: docuparse.EventDocumentCompleted, DocumentID: "doc_" + k, Body: []byte(`{"k":"` + k + `"}`)}
	}
	got, err := s.JournalEvents(ctx, []IncomingEvent{ev("a"), ev("b"), ev("a")})
	if err != nil || fmt.Sprint(got) != "[true true false]" {
		t.Fatalf("first group = %v, %v", got, err)
	}
	got, err = s.JournalEvents(ctx, []IncomingEvent{ev("c"), ev("a")})
	if err != nil || fmt.Sprint(got) != "[true false]" {
		t.Fatalf("second group = %v, %v", got, err)
	}
	many := make([]IncomingEvent, 450) // larger than any group the receiver forms
	for i := range many {
		many[i] = ev(fmt.Sprintf("m%d", i%300))
	}
	got, err = s.JournalEvents(ctx, many)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, ok := range got {
		if ok {
			n++
		}
	}
	if n != 300 {
		t.Fatalf("%d of 450 stored, want the 300 distinct keys", n)
	}
	if c, _ := s.EventCounts(ctx); c[EventPending] != 303 {
		t.Fatalf("journal = %v, want 303 pending", c)
	}
}

func TestEveryAppliedEventReportsItsStatus(t *testing.T) {
	var mu sync.Mutex
	got := map[string]int{}
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "state.db"), Options{OnEvent: func(st string) {
		mu.Lock()
		got[st]++
		mu.Unlock()
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	a := mustIntake(t, s, newFile(1, "a1"))
	batch, _ := s.CreateBatch(ctx, ModeSingle, []int64{a.ID})
	event(t, s, "early", docuparse.Event{Event: docuparse.EventDocumentCompleted, DocumentID: "doc_a"})
	event(t, s, "odd", docuparse.Event{Event: "document.exploded"})
	applyPending(t, s)
	// The orphan is adopted when the submission is recorded.
	if err := s.RecordSubmitted(ctx, batch.ID, "", nil, []Submitted{{a.ID, "doc_a"}}); err != nil {
		t.Fatal(err)
	}
	applyPending(t, s)
	mu.Lock()
	defer mu.Unlock()
	if fmt.Sprint(got) != fmt.Sprint(map[string]int{EventApplied: 1, EventDead: 1, EventOrphan: 1}) {
		t.Fatalf("statuses reported = %v", got)
	}
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

// Known compares device, inode and change time where both sides know them:
// another file with the same size and mtime is not known; a row from before
// migration 012 (NULL identity) is compared on size and mtime only.
func TestKnownTellsAnotherFileWithTheSameSizeAndMtime(t *testing.T) {
	s, _ := setup(t)
	ctx := context.Background()
	f := newFile(1, "aa")
	f.FileID = FileID{Dev: 1, Inode: 42, ChangeTime: time.Unix(1700000100, 0)}
	mustIntake(t, s, f)
	got, err := s.Get(ctx, 1)
	if err != nil || got.FileID.Inode != 42 || !got.FileID.ChangeTime.Equal(f.ChangeTime) {
		t.Fatalf("recorded identity %+v, %v; want %+v", got.FileID, err, f.FileID)
	}
	for _, tc := range []struct {
		name string
		id   FileID
		want bool
	}{
		{"the same file", f.FileID, true},
		{"written again in place (cp -p): a newer ctime", FileID{Dev: 1, Inode: 42, ChangeTime: time.Unix(1700000200, 0)}, false},
		{"another file renamed over it (rsync -t)", FileID{Dev: 1, Inode: 43, ChangeTime: f.ChangeTime}, false},
		{"identity unknown", FileID{}, true},
	} {
		if ok, err := s.Known(ctx, f.Source, f.Path, f.Size, f.ModTime, tc.id); err != nil || ok != tc.want {
			t.Errorf("%s: Known = %v, %v; want %v", tc.name, ok, err, tc.want)
		}
	}
	if _, err := s.w.ExecContext(ctx, `UPDATE documents SET dev = NULL, inode = NULL, ctime = NULL`); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.Known(ctx, f.Source, f.Path, f.Size, f.ModTime, FileID{Dev: 9, Inode: 9}); err != nil || !ok {
		t.Fatalf("a row from before migration 012: Known = %v, %v; want true (size and mtime decide)", ok, err)
	}
}

// A bucket object's version is its identity: the same key, size and
// modification time with another ETag or generation is another object.
func TestKnownTellsAnotherVersionOfABucketObject(t *testing.T) {
	s, _ := setup(t)
	ctx := context.Background()
	f := newFile(1, "aa")
	f.Path = "s3://bkt/in/a.pdf"
	f.FileID = FileID{Version: "etag:abc"}
	mustIntake(t, s, f)
	got, err := s.Get(ctx, 1)
	if err != nil || got.FileID.Version != "etag:abc" || got.FileID.Inode != 0 {
		t.Fatalf("recorded identity %+v, %v; want version etag:abc", got.FileID, err)
	}
	for _, tc := range []struct {
		id   FileID
		want bool
	}{
		{FileID{Version: "etag:abc"}, true},
		{FileID{Version: "etag:abd"}, false},
		{FileID{}, true},
	} {
		if ok, err := s.Known(ctx, f.Source, f.Path, f.Size, f.ModTime, tc.id); err != nil || ok != tc.want {
			t.Errorf("version %q: Known = %v, %v; want %v", tc.id.Version, ok, err, tc.want)
		}
	}
}
