package storetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/docuparse"
	"github.com/docuparse/docuparse-ingest/internal/store"
	"github.com/docuparse/docuparse-ingest/internal/vocab"
)

var submissionCases = []testCase{
	{"BatchLifecycleRecordsSubmissionAndResults", batchLifecycle},
	{"CreateBatchTakesOnlyQueuedDocuments", createBatchTakesOnlyQueued},
	{"MarkSentAndRecordAttemptAreKeptOnTheBatch", markSentAndAttempts},
	{"AnIDTheAPIGaveTwiceFailsTheSecondFile", idConflict},
	{"RequeueAndFinish", requeueAndFinish},
	{"RequeueUnsentPutsBackOnlyTheNamedDocuments", requeueUnsent},
	{"StopSubmittingLeavesTheBatchStuck", stopSubmitting},
	{"OldestQueuedAndBatchCounts", oldestQueuedAndBatchCounts},
}

// Moved from internal/store TestBatchLifecycleRecordsSubmissionAndResults.
func batchLifecycle(h *harness) {
	a, c := h.queued(1), h.queued(2)
	batch := h.batch(store.ModeBatch, a, c)
	if batch.IdempotencyKey == "" || len(batch.Documents) != 2 || batch.State != store.BatchSubmitting || batch.FileCount != 2 ||
		batch.ByteCount != 101+102 {
		h.t.Fatalf("batch = %+v", batch)
	}
	if _, err := h.b.CreateBatch(h.ctx, store.ModeBatch, []int64{a}); err == nil {
		h.t.Fatal("a document can be in only one batch")
	}
	pending, err := h.b.SubmittingBatches(h.ctx)
	if err != nil || len(pending) != 1 || pending[0].IdempotencyKey != batch.IdempotencyKey || len(pending[0].Documents) != 2 {
		h.t.Fatalf("submitting = %+v, %v", pending, err)
	}
	subs := []store.Submitted{{DocID: a, DocumentID: "doc_a"}, {DocID: c, DocumentID: "doc_c"}}
	h.must(h.b.RecordSubmitted(h.ctx, batch.ID, "batch_x", []byte(`{}`), subs))
	// Recording the same answer again changes nothing.
	h.must(h.b.RecordSubmitted(h.ctx, batch.ID, "batch_x", []byte(`{}`), subs))
	if pending, _ := h.b.SubmittingBatches(h.ctx); len(pending) != 0 {
		h.t.Fatalf("batch still submitting: %+v", pending)
	}
	got, err := h.b.ApplyResult(h.ctx, store.Result{DocumentID: "doc_a", Status: docuparse.StatusCompleted,
		Data: json.RawMessage(`{"total":"1.00"}`), Via: store.ViaWebhook})
	if err != nil || got != store.Applied {
		h.t.Fatalf("apply = %q, %v", got, err)
	}
	if got, _ := h.b.ApplyResult(h.ctx, store.Result{DocumentID: "doc_a", Status: docuparse.StatusCompleted,
		Data: json.RawMessage(`{ "total": "1.00" }`), Via: store.ViaPoll}); got != store.Duplicate {
		h.t.Fatalf("repeat = %q, want duplicate", got)
	}
	if got, _ := h.b.ApplyResult(h.ctx, store.Result{DocumentID: "doc_a", Status: docuparse.StatusFailed, Via: store.ViaWebhook}); got != store.Conflict {
		h.t.Fatalf("contradiction = %q, want conflict", got)
	}
	if _, err := h.b.ApplyResult(h.ctx, store.Result{DocumentID: "doc_nope", Status: docuparse.StatusCompleted}); !errors.Is(err, store.ErrNotFound) {
		h.t.Fatalf("unknown id: %v", err)
	}
	d, _ := h.b.GetByDocumentID(h.ctx, "doc_a")
	if d.State != store.StateCompleted || d.ResultVia != store.ViaWebhook || d.APIBatchID != "batch_x" || string(d.Result) != `{"total":"1.00"}` {
		h.t.Fatalf("doc = %+v", d)
	}
	want := []store.State{store.StateQueued, store.StateSubmitting, store.StateSubmitted, store.StateCompleted}
	if got := h.path(a); fmt.Sprint(got) != fmt.Sprint(want) {
		h.t.Fatalf("transitions = %v, want %v", got, want)
	}
}

func createBatchTakesOnlyQueued(h *harness) {
	if _, err := h.b.CreateBatch(h.ctx, store.ModeBatch, nil); err == nil {
		h.t.Fatal("an empty batch was created")
	}
	a := h.queued(1)
	rejected := h.docIn(2, "rejected")
	if _, err := h.b.CreateBatch(h.ctx, store.ModeSingle, []int64{a, rejected}); err == nil {
		h.t.Fatal("a rejected document was put in a batch")
	}
	h.wantState(a, store.StateQueued) // the refused batch changed nothing
	if bc, _ := h.b.BatchCounts(h.ctx); len(bc) != 0 {
		h.t.Fatalf("batches after a refused CreateBatch: %v", bc)
	}
	b1, b2 := h.batch(store.ModeSingle, a), h.batch(store.ModeSingle, h.queued(3))
	if b1.IdempotencyKey == b2.IdempotencyKey || b1.Mode != store.ModeSingle {
		h.t.Fatalf("batches %+v and %+v", b1, b2)
	}
	if k1, k2 := h.b.NewIdempotencyKey(), h.b.NewIdempotencyKey(); k1 == "" || k1 == k2 || len(k1) > 255 {
		h.t.Fatalf("idempotency keys %q, %q", k1, k2)
	}
	if store.DocumentKey(b1.IdempotencyKey, a) == store.DocumentKey(b2.IdempotencyKey, a) {
		h.t.Fatal("document keys of two batches agree")
	}
}

func markSentAndAttempts(h *harness) {
	b := h.batch(store.ModeBatch, h.queued(1))
	pending, _ := h.b.SubmittingBatches(h.ctx)
	if len(pending) != 1 || pending[0].Sent || pending[0].Attempts != 0 {
		h.t.Fatalf("new batch = %+v", pending)
	}
	h.must(h.b.MarkSent(h.ctx, b.ID))
	h.must(h.b.MarkSent(h.ctx, b.ID)) // safe again
	h.must(h.b.RecordAttempt(h.ctx, b.ID, "connection reset"))
	h.must(h.b.RecordAttempt(h.ctx, b.ID, "timeout"))
	pending, _ = h.b.SubmittingBatches(h.ctx)
	if len(pending) != 1 || !pending[0].Sent || pending[0].Attempts != 2 {
		h.t.Fatalf("batch after two attempts = %+v", pending)
	}
}

// The API answering two files with one document_id: the first keeps it, the
// second is failed (DOCUMENT_ID_CONFLICT) in the same transaction and its
// duplicate takes its place.
func idConflict(h *harness) {
	a, c := h.queued(1), h.queued(2)
	dup := file(3, sha(2))
	dupID := h.intake(dup).ID
	b := h.batch(store.ModeBatch, a, c)
	conflicts, err := h.b.RecordSubmission(h.ctx, b.ID, "batch_1", nil,
		[]store.Submitted{{DocID: a, DocumentID: "doc_same"}, {DocID: c, DocumentID: "doc_same"}})
	h.must(err)
	if len(conflicts) != 1 || conflicts[0].DocID != c || conflicts[0].HolderID != a || conflicts[0].DocumentID != "doc_same" {
		h.t.Fatalf("conflicts = %+v", conflicts)
	}
	h.wantState(a, store.StateSubmitted)
	if d := h.get(c); d.State != store.StateFailed || d.ErrorCode != vocab.CodeDocumentIDConflict || d.DocumentID != "" {
		h.t.Fatalf("second file = %+v", d)
	}
	h.wantState(dupID, store.StateQueued)
	if pending, _ := h.b.SubmittingBatches(h.ctx); len(pending) != 0 {
		h.t.Fatalf("batch still submitting: %+v", pending)
	}
	// Recorded once: the same answer again finds nothing to record.
	if conflicts, err := h.b.RecordSubmission(h.ctx, b.ID, "batch_1", nil,
		[]store.Submitted{{DocID: a, DocumentID: "doc_same"}, {DocID: c, DocumentID: "doc_same"}}); err != nil || len(conflicts) != 0 {
		h.t.Fatalf("the answer again = %+v, %v", conflicts, err)
	}
	if _, err := h.b.RecordSubmission(h.ctx, b.ID, "", nil, []store.Submitted{{DocID: dupID, DocumentID: "doc_x"}}); err == nil {
		h.t.Fatal("a document not in the batch was recorded")
	}
}

// Moved from internal/store TestRequeueAndFinish.
func requeueAndFinish(h *harness) {
	a, c := h.queued(1), h.queued(2)
	batch := h.batch(store.ModeBatch, a, c)
	h.must(h.b.Finish(h.ctx, []int64{a}, store.StateRejected, "UNSUPPORTED_MEDIA_TYPE", "nope"))
	h.must(h.b.Requeue(h.ctx, batch.ID, true, "refused"))
	q, _ := h.b.Documents(h.ctx, store.StateQueued, 0)
	if len(q) != 1 || q[0].ID != c || !q[0].Solo || q[0].BatchID != 0 {
		h.t.Fatalf("queued = %+v", q)
	}
	if pending, _ := h.b.SubmittingBatches(h.ctx); len(pending) != 0 {
		h.t.Fatalf("abandoned batch still submitting")
	}
	if bc, _ := h.b.BatchCounts(h.ctx); bc[store.BatchAbandoned] != 1 {
		h.t.Fatalf("batch counts = %v, want one abandoned", bc)
	}
	if err := h.b.Finish(h.ctx, []int64{a}, store.StateCompleted, "", ""); err == nil {
		h.t.Fatal("completed is not a local outcome")
	}
	if d := h.get(a); d.State != store.StateRejected || d.ErrorCode != "UNSUPPORTED_MEDIA_TYPE" || d.ErrorMessage != "nope" {
		h.t.Fatalf("finished = %+v", d)
	}
	// The requeued document goes in a new batch with a new key.
	if b2 := h.batch(store.ModeSingle, c); b2.IdempotencyKey == batch.IdempotencyKey {
		h.t.Fatal("a requeued document kept its refused key")
	}
}

func requeueUnsent(h *harness) {
	a, c := h.queued(1), h.queued(2)
	b := h.batch(store.ModeBatch, a, c)
	h.must(h.b.RequeueUnsent(h.ctx, b.ID, nil, "nothing"))
	h.must(h.b.RequeueUnsent(h.ctx, b.ID, []int64{c}, "not in the original answer"))
	h.wantState(c, store.StateQueued)
	h.wantState(a, store.StateSubmitting)
	pending, _ := h.b.SubmittingBatches(h.ctx)
	if len(pending) != 1 || len(pending[0].Documents) != 1 || pending[0].Documents[0].ID != a {
		h.t.Fatalf("submitting = %+v, want the batch with %d only", pending, a)
	}
	// The batch's last waiting document answered: the batch closes.
	h.submit(b, "batch_1", a)
	if bc, _ := h.b.BatchCounts(h.ctx); bc[store.BatchSubmitted] != 1 {
		h.t.Fatalf("batch counts = %v", bc)
	}
	// Requeueing it now changes nothing: it is no longer submitting.
	h.must(h.b.RequeueUnsent(h.ctx, b.ID, []int64{a}, "late"))
	h.wantState(a, store.StateSubmitted)
}

func stopSubmitting(h *harness) {
	a, c := h.queued(1), h.queued(2)
	b := h.batch(store.ModeBatch, a, c)
	h.must(h.b.StopSubmitting(h.ctx, b.ID, nil, "nothing"))
	h.must(h.b.StopSubmitting(h.ctx, b.ID, []int64{a}, "fewer documents than files"))
	pending, _ := h.b.SubmittingBatches(h.ctx)
	if len(pending) != 1 || len(pending[0].Documents) != 1 || pending[0].Documents[0].ID != c || len(pending[0].AllDocuments) != 2 {
		h.t.Fatalf("submitting = %+v; the stuck document must not be resumed", pending)
	}
	h.must(h.b.StopSubmitting(h.ctx, b.ID, []int64{c}, "fewer documents than files"))
	h.must(h.b.StopSubmitting(h.ctx, b.ID, []int64{c}, "fewer documents than files")) // safe again
	if pending, _ := h.b.SubmittingBatches(h.ctx); len(pending) != 0 {
		h.t.Fatalf("a stuck batch is resumed: %+v", pending)
	}
	if bc, _ := h.b.BatchCounts(h.ctx); bc[store.BatchStuck] != 1 {
		h.t.Fatalf("batch counts = %v, want one stuck", bc)
	}
	stuck, err := h.b.SubmitStuck(h.ctx, 0)
	if err != nil || len(stuck) != 2 || stuck[0].ID != a || stuck[0].ErrorCode != vocab.CodeSubmitStuck ||
		stuck[0].ErrorMessage != "fewer documents than files" || stuck[0].State != store.StateSubmitting {
		h.t.Fatalf("stuck = %+v, %v", stuck, err)
	}
	if one, _ := h.b.SubmitStuck(h.ctx, 1); len(one) != 1 {
		h.t.Fatalf("SubmitStuck(1) = %d documents", len(one))
	}
	if st, _ := h.b.Status(h.ctx); st.SubmitStuck != 2 {
		h.t.Fatalf("status counts %d stuck, want 2", st.SubmitStuck)
	}
}

func oldestQueuedAndBatchCounts(h *harness) {
	if _, ok, err := h.b.OldestQueued(h.ctx); err != nil || ok {
		h.t.Fatalf("OldestQueued of an empty store = %v, %v", ok, err)
	}
	a := h.queued(1)
	h.clock.Advance(time.Minute)
	h.queued(2)
	if at, ok, err := h.b.OldestQueued(h.ctx); err != nil || !ok || !at.Equal(start) {
		h.t.Fatalf("OldestQueued = %v, %v, %v; want %v", at, ok, err, start)
	}
	h.batch(store.ModeBatch, a)
	if at, ok, _ := h.b.OldestQueued(h.ctx); !ok || !at.Equal(start.Add(time.Minute)) {
		h.t.Fatalf("OldestQueued once the first is in a batch = %v, %v", at, ok)
	}
	if bc, err := h.b.BatchCounts(h.ctx); err != nil || fmt.Sprint(bc) != fmt.Sprint(map[string]int{store.BatchSubmitting: 1}) {
		h.t.Fatalf("batch counts = %v, %v", bc, err)
	}
}
