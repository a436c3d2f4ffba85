package storetest

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/docuparse"
	"github.com/docuparse/docuparse-ingest/internal/store"
	"github.com/docuparse/docuparse-ingest/internal/vocab"
)

// source is the source every document of the suite comes from.
const source = "inbox"

// file returns settled file number i of source with content hash sha
// (dedupe on).
func file(i int, sha string) store.NewFile {
	return store.NewFile{Source: source, Path: fmt.Sprintf("/in/f%d.pdf", i), FileName: fmt.Sprintf("f%d.pdf", i),
		Size: int64(100 + i), ModTime: time.Unix(1700000000, int64(i)*1000), SHA256: sha, Dedupe: true}
}

// sha returns a distinct content hash for file number i.
func sha(i int) string { return fmt.Sprintf("sha%03d", i) }

// intake takes f in and fails the subtest on an error.
func (h *harness) intake(f store.NewFile) store.IntakeResult {
	h.t.Helper()
	r, err := h.b.Intake(h.ctx, f)
	if err != nil {
		h.t.Fatalf("intake %s: %v", f.Path, err)
	}
	return r
}

// queued takes file i in as a new queued document and returns its id.
func (h *harness) queued(i int) int64 {
	h.t.Helper()
	r := h.intake(file(i, sha(i)))
	if r.State != store.StateQueued {
		h.t.Fatalf("intake of file %d = %+v, want queued", i, r)
	}
	return r.ID
}

// batch puts the queued documents ids in a new batch.
func (h *harness) batch(mode string, ids ...int64) *store.Batch {
	h.t.Helper()
	b, err := h.b.CreateBatch(h.ctx, mode, ids)
	if err != nil {
		h.t.Fatalf("create batch of %v: %v", ids, err)
	}
	return b
}

// submit records the API's answer for batch b: each document i of ids
// gets the API id docID(id).
func (h *harness) submit(b *store.Batch, apiBatch string, ids ...int64) {
	h.t.Helper()
	subs := make([]store.Submitted, len(ids))
	for i, id := range ids {
		subs[i] = store.Submitted{DocID: id, DocumentID: docID(id)}
	}
	h.must(h.b.RecordSubmitted(h.ctx, b.ID, apiBatch, []byte(`{}`), subs))
}

// docID is the API id the suite gives local document id.
func docID(id int64) string { return fmt.Sprintf("doc_%d", id) }

// submitted takes file i in and records it submitted (alone in batch
// "batch_<i>"); it returns its local id.
func (h *harness) submitted(i int) int64 {
	h.t.Helper()
	id := h.queued(i)
	h.submit(h.batch(store.ModeBatch, id), fmt.Sprintf("batch_%d", i), id)
	return id
}

// completed is the result that completes document id.
func completed(id int64) store.Result {
	return store.Result{DocumentID: docID(id), Status: docuparse.StatusCompleted, Data: json.RawMessage(`{"total":"1.00"}`), Via: store.ViaWebhook}
}

// failed is the result that fails document id.
func failed(id int64) store.Result {
	return store.Result{DocumentID: docID(id), Status: docuparse.StatusFailed, ErrorCode: docuparse.CodeExtractionFailed,
		ErrorMessage: "Document extraction failed for this file.", Via: store.ViaPoll}
}

// apply applies r and wants it applied.
func (h *harness) apply(r store.Result) {
	h.t.Helper()
	if got, err := h.b.ApplyResult(h.ctx, r); err != nil || got != store.Applied {
		h.t.Fatalf("apply %+v = %q, %v; want applied", r, got, err)
	}
}

// docIn builds document number i in the named situation through the
// store's own transitions and returns its id: queued, submitting,
// submitted, completed, failed, rejected, unread (rejected, never read),
// duplicate (of a queued original, number i too), vanished, stuck
// (submitting, SUBMIT_STUCK), and "exported " before completed, failed or
// rejected.
func (h *harness) docIn(i int, situation string) int64 {
	h.t.Helper()
	exported := strings.HasPrefix(situation, "exported ")
	situation = strings.TrimPrefix(situation, "exported ")
	var id int64
	switch situation {
	case "rejected", "unread":
		f, code := file(i, sha(i)), docuparse.CodeUnsupportedMedia
		if situation == "unread" {
			f.SHA256, code = "", vocab.CodeUnreadable
		}
		var err error
		id, err = h.b.Reject(h.ctx, f, code, "refused")
		h.must(err)
	case "duplicate":
		h.queued(i)
		dup := file(i, sha(i))
		dup.Path, dup.FileName = dup.Path+".copy.pdf", dup.FileName+".copy.pdf"
		id = h.intake(dup).ID
	case "queued":
		id = h.queued(i)
	case "vanished":
		id = h.queued(i)
		h.must(h.b.Finish(h.ctx, []int64{id}, store.StateVanished, "", "gone"))
	case "submitting", "stuck":
		id = h.queued(i)
		b := h.batch(store.ModeBatch, id)
		if situation == "stuck" {
			h.must(h.b.StopSubmitting(h.ctx, b.ID, []int64{id}, "unusable answers"))
		}
	case "submitted":
		id = h.submitted(i)
	case "completed":
		id = h.submitted(i)
		h.apply(completed(id))
	case "failed":
		id = h.submitted(i)
		h.apply(failed(id))
	default:
		h.t.Fatalf("unknown situation %q", situation)
	}
	if exported {
		h.must(h.b.MarkExported(h.ctx, []int64{id}, nil))
	}
	return id
}

// get returns document id.
func (h *harness) get(id int64) *store.Document {
	h.t.Helper()
	d, err := h.b.Get(h.ctx, id)
	if err != nil {
		h.t.Fatalf("get %d: %v", id, err)
	}
	return d
}

// wantState fails the subtest unless document id is in state st.
func (h *harness) wantState(id int64, st store.State) {
	h.t.Helper()
	if d := h.get(id); d.State != st {
		h.t.Fatalf("document %d is %s, want %s", id, d.State, st)
	}
}

// count returns how many documents the store holds in state st (all when
// empty).
func (h *harness) count(st store.State) int {
	h.t.Helper()
	docs, err := h.b.Documents(h.ctx, st, 0)
	h.must(err)
	return len(docs)
}
