package report

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"github.com/docuparse/docuparse-ingest/internal/testclock"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "time/tzdata" // Europe/Berlin and America/Santiago on any test machine

	"github.com/docuparse/docuparse-ingest/internal/docuparse"
	"github.com/docuparse/docuparse-ingest/internal/store"
	"github.com/docuparse/docuparse-ingest/receiver"
)

var updateGolden = flag.Bool("update", false, "rewrite the report golden files under testdata/")

// checkReportGolden compares got with testdata/<name>, or rewrites it with
// -update.
func checkReportGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if *updateGolden {
		if err := os.WriteFile(p, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("read golden file (go test ./reconcile -run Report -update creates it): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (-update rewrites it)\n got:\n%s\nwant:\n%s", name, got, want)
	}
}

// repFixture fills a real store through its own transitions, as the
// pipeline would, at the times it is told.
type repFixture struct {
	t     testing.TB
	ctx   context.Context
	st    *store.Store
	clock *testclock.Clock
}

func newRepFixture(t testing.TB) *repFixture {
	t.Helper()
	c := testclock.New(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "state.db"), store.Options{Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return &repFixture{t: t, ctx: context.Background(), st: st, clock: c}
}

func (f *repFixture) fatal(err error) {
	f.t.Helper()
	if err != nil {
		f.t.Fatal(err)
	}
}

// at sets the clock; every later step happens then.
func (f *repFixture) at(t time.Time) *repFixture {
	f.clock.Set(t)
	return f
}

func (f *repFixture) newFile(p, sha string) store.NewFile {
	name := path.Base(p)
	if rest, ok := strings.CutPrefix(p, "/in/"); ok {
		name = rest // the odd names hold a "/" in one case; keep the name whole
	}
	return store.NewFile{Source: "inbox", Path: p, FileName: name, Size: 1000, ModTime: f.clock.Now(), SHA256: sha, Dedupe: true}
}

// intake takes in a file; its content is its path unless sha is given.
func (f *repFixture) intake(p string, sha ...string) int64 {
	s := p
	if len(sha) > 0 {
		s = sha[0]
	}
	r, err := f.st.Intake(f.ctx, f.newFile(p, s))
	f.fatal(err)
	return r.ID
}

func (f *repFixture) reject(p, code, msg string) int64 {
	id, err := f.st.Reject(f.ctx, f.newFile(p, p), code, msg)
	f.fatal(err)
	return id
}

// submit batches ids and records the API's answer: document i gets the id
// docIDs[i].
func (f *repFixture) submit(mode, apiBatch string, ids []int64, docIDs ...string) int64 {
	b, err := f.st.CreateBatch(f.ctx, mode, ids)
	f.fatal(err)
	subs := make([]store.Submitted, len(ids))
	for i, id := range ids {
		subs[i] = store.Submitted{DocID: id, DocumentID: docIDs[i]}
	}
	f.fatal(f.st.RecordSubmitted(f.ctx, b.ID, apiBatch, []byte(`{}`), subs))
	return b.ID
}

// deliver journals a webhook body as the receiver would (dedupe key: the
// body's SHA-256), without applying it.
func (f *repFixture) deliver(ev docuparse.Event) {
	body, err := json.Marshal(ev)
	f.fatal(err)
	sum := sha256.Sum256(body)
	_, err = f.st.JournalEvent(f.ctx, store.IncomingEvent{DedupeKey: hex.EncodeToString(sum[:]), Type: ev.Event,
		DocumentID: ev.DocumentID, BatchID: ev.BatchID, Body: body})
	f.fatal(err)
}

// deliverDead journals a body the receiver could not parse.
func (f *repFixture) deliverDead(body, note string) {
	sum := sha256.Sum256([]byte(body))
	_, err := f.st.JournalEvent(f.ctx, store.IncomingEvent{DedupeKey: hex.EncodeToString(sum[:]), Body: []byte(body), Dead: true, Note: note})
	f.fatal(err)
}

func (f *repFixture) apply() {
	_, err := receiver.ApplyPending(f.ctx, f.st)
	f.fatal(err)
}

func (f *repFixture) completedEvent(docID, currency, total, tax string) docuparse.Event {
	data, err := json.Marshal(docuparse.Data{DocumentType: "invoice", Currency: currency, Total: total, Tax: tax})
	f.fatal(err)
	return docuparse.Event{Event: docuparse.EventDocumentCompleted, DocumentID: docID,
		Timestamp: f.clock.Now().Format(time.RFC3339Nano), Data: data}
}

// webhookCompleted delivers and applies document.completed.
func (f *repFixture) webhookCompleted(docID, currency, total, tax string) {
	f.deliver(f.completedEvent(docID, currency, total, tax))
	f.apply()
}

// webhookCompletedRaw delivers and applies document.completed with data as
// given.
func (f *repFixture) webhookCompletedRaw(docID, data string) {
	f.deliver(docuparse.Event{Event: docuparse.EventDocumentCompleted, DocumentID: docID,
		Timestamp: f.clock.Now().Format(time.RFC3339Nano), Data: json.RawMessage(data)})
	f.apply()
}

func (f *repFixture) webhookFailed(docID, code, msg string) {
	f.deliver(docuparse.Event{Event: docuparse.EventDocumentFailed, DocumentID: docID,
		Timestamp: f.clock.Now().Format(time.RFC3339Nano), Error: &docuparse.Error{Code: code, Message: msg}})
	f.apply()
}

// polled applies a completed result found by polling.
func (f *repFixture) polled(docID, currency, total, tax string) {
	data, err := json.Marshal(docuparse.Data{DocumentType: "invoice", Currency: currency, Total: total, Tax: tax})
	f.fatal(err)
	_, err = f.st.ApplyResult(f.ctx, store.Result{DocumentID: docID, Status: docuparse.StatusCompleted, Data: data, Via: store.ViaPoll})
	f.fatal(err)
}

func (f *repFixture) export(ids ...int64) {
	f.fatal(f.st.MarkExported(f.ctx, ids, nil))
}

func (f *repFixture) finish(to store.State, code, msg string, ids ...int64) {
	f.fatal(f.st.Finish(f.ctx, ids, to, code, msg))
}

func (f *repFixture) report(day time.Time, o Options) *Report {
	r, err := Build(f.ctx, f.st, day, o)
	f.fatal(err)
	return r
}

func mustLocation(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}
