package storetest

import (
	"errors"
	"fmt"
	"reflect"

	"github.com/docuparse/docuparse-ingest/internal/docuparse"
	"github.com/docuparse/docuparse-ingest/internal/store"
	"github.com/docuparse/docuparse-ingest/internal/vocab"
)

var stateMachineCases = []testCase{
	{"EveryPathToExportedIsAnnouncedInOrder", pathsToExported},
	{"TransitionsIntoAnOutcomeNameTheSource", transitionsNameTheSource},
	{"FinishTakesOnlyQueuedOrSubmittingDocuments", finishRefusals},
	{"AResultNeedsADocumentWaitingForIt", resultRefusals},
	{"RequeueTakesOnlySubmittingDocuments", requeueRefusals},
	{"ADuplicateTakesItsOriginalsPlaceOnlyWhenItWasNeverExtracted", duplicatePromotion},
	{"AnAnswerForAFileMarkedVanishedMeanwhileIsRecorded", vanishedThenAnswered},
}

// The allowed paths, each announced one transition at a time.
func pathsToExported(h *harness) {
	for i, tc := range []struct {
		situation string
		want      string
	}{
		{"exported completed", "[queued submitting submitted completed exported]"},
		{"exported failed", "[queued submitting submitted failed exported]"},
		{"exported rejected", "[rejected exported]"},
		{"vanished", "[queued vanished]"},
	} {
		id := h.docIn(i+1, tc.situation)
		if got := fmt.Sprint(h.path(id)); got != tc.want {
			h.t.Errorf("%s: transitions %s, want %s", tc.situation, got, tc.want)
		}
	}
	// Refused whole, queued again, submitted in a new batch.
	id := h.queued(10)
	b := h.batch(store.ModeBatch, id)
	h.must(h.b.Requeue(h.ctx, b.ID, false, "BATCH_TOO_LARGE"))
	h.submit(h.batch(store.ModeBatch, id), "batch_10", id)
	h.must(h.b.Finish(h.ctx, []int64{id}, store.StateVanished, "", "too late")) // submitted: not a local outcome any more
	if got := fmt.Sprint(h.path(id)); got != "[queued submitting queued submitting submitted]" {
		h.t.Errorf("requeued: transitions %s", got)
	}
	// A duplicate of an original with an API id is exported.
	dup := h.intake(file(11, sha(1))) // content of the first document
	if dup.State != store.StateDuplicate {
		h.t.Fatalf("copy = %+v, want a duplicate", dup)
	}
	h.must(h.b.MarkExported(h.ctx, []int64{dup.ID}, nil))
	if d := h.get(dup.ID); fmt.Sprint(h.path(dup.ID)) != "[duplicate exported]" || d.Outcome != store.StateDuplicate {
		h.t.Errorf("duplicate: transitions %v, outcome %s", h.path(dup.ID), d.Outcome)
	}
	for _, tr := range h.transitions() {
		if tr.To == store.StateSubmitted && tr.DocumentID == "" {
			h.t.Errorf("transition %+v does not name the API id", tr)
		}
	}
}

// Moved from internal/store TestTransitionsIntoAnOutcomeNameTheSource:
// every transition into an outcome names the document's source, for the
// ended-documents counter.
func transitionsNameTheSource(h *harness) {
	orig := h.intake(file(1, "aa"))
	h.intake(file(2, "aa")) // duplicate
	if _, err := h.b.Reject(h.ctx, file(3, "cc"), docuparse.CodeUnsupportedMedia, "refused"); err != nil {
		h.t.Fatal(err)
	}
	gone := h.intake(file(4, "dd"))
	h.must(h.b.Finish(h.ctx, []int64{gone.ID}, store.StateVanished, "", "file gone"))
	batch := h.batch(store.ModeSingle, orig.ID)
	h.must(h.b.RecordSubmitted(h.ctx, batch.ID, "", nil, []store.Submitted{{DocID: orig.ID, DocumentID: "doc_1"}}))
	if _, err := h.b.ApplyResult(h.ctx, store.Result{DocumentID: "doc_1", Status: docuparse.StatusFailed, ErrorCode: docuparse.CodeExtractionFailed, Via: store.ViaPoll}); err != nil {
		h.t.Fatal(err)
	}
	ended := map[store.State]int{}
	for _, tr := range h.transitions() {
		if tr.Source != source {
			h.t.Errorf("transition %+v does not name its source", tr)
		}
		if store.IsOutcome(tr.To) {
			ended[tr.To]++
		}
	}
	if ended[store.StateDuplicate] != 1 || ended[store.StateRejected] != 1 || ended[store.StateVanished] != 1 || ended[store.StateFailed] != 1 {
		h.t.Errorf("outcomes entered = %v", ended)
	}
}

// unchanged fails the subtest if any of the documents ids differs from
// before or a transition was announced since seen.
func (h *harness) unchanged(what string, before map[int64]*store.Document, seen int) {
	h.t.Helper()
	for id, d := range before {
		if after := h.get(id); !reflect.DeepEqual(after, d) {
			h.t.Errorf("%s changed document %d:\nbefore %+v\nafter  %+v", what, id, d, after)
		}
	}
	if trs := h.transitions(); len(trs) != seen {
		h.t.Errorf("%s announced %+v", what, trs[seen:])
	}
}

// snapshot returns the documents ids as they are now.
func (h *harness) snapshot(ids ...int64) map[int64]*store.Document {
	h.t.Helper()
	out := make(map[int64]*store.Document, len(ids))
	for _, id := range ids {
		out[id] = h.get(id)
	}
	return out
}

// Finish (a local outcome) is for documents not yet submitted: one the API
// has, or one that ended, is left as it is.
func finishRefusals(h *harness) {
	var ids []int64
	for i, s := range []string{"submitted", "completed", "failed", "rejected", "duplicate", "vanished", "exported completed"} {
		ids = append(ids, h.docIn(10*(i+1), s))
	}
	before, seen := h.snapshot(ids...), len(h.transitions())
	h.must(h.b.Finish(h.ctx, ids, store.StateVanished, "", "gone"))
	h.must(h.b.Finish(h.ctx, ids, store.StateRejected, vocab.CodeUnreadable, "unreadable"))
	h.must(h.b.Finish(h.ctx, nil, store.StateRejected, "X", "nothing"))
	h.unchanged("Finish of documents past submission", before, seen)
	for _, to := range []store.State{store.StateCompleted, store.StateFailed, store.StateExported, store.StateQueued, store.StateDuplicate} {
		if err := h.b.Finish(h.ctx, ids, to, "", ""); err == nil {
			h.t.Errorf("Finish to %s accepted", to)
		}
	}
	h.unchanged("Finish to a state that is not a local outcome", before, seen)
	// From submitting it is allowed, and closes the batch.
	q := h.queued(100)
	h.batch(store.ModeBatch, q)
	h.must(h.b.Finish(h.ctx, []int64{q}, store.StateRejected, docuparse.CodeFileTooLarge, "too large"))
	if d := h.get(q); d.State != store.StateRejected || d.Outcome != store.StateRejected || d.ErrorCode != docuparse.CodeFileTooLarge {
		h.t.Fatalf("finished from submitting = %+v", d)
	}
	if pending, _ := h.b.SubmittingBatches(h.ctx); len(pending) != 0 {
		h.t.Fatalf("a batch with nothing left waiting is still submitting: %+v", pending)
	}
}

// A result is applied only to a document submitted and waiting for it:
// one not submitted yet has no API id, one that ended keeps its outcome.
func resultRefusals(h *harness) {
	q, s := h.queued(1), h.docIn(2, "submitting")
	before, seen := h.snapshot(q, s), len(h.transitions())
	for _, id := range []int64{q, s} {
		if _, err := h.b.ApplyResult(h.ctx, completed(id)); !errors.Is(err, store.ErrNotFound) {
			h.t.Errorf("a result for document %d not submitted: %v, want ErrNotFound", id, err)
		}
	}
	h.unchanged("a result for documents not submitted", before, seen)
	// Ended: the first outcome wins, whatever comes after.
	c, f := h.docIn(3, "completed"), h.docIn(4, "exported failed")
	before, seen = h.snapshot(c, f), len(h.transitions())
	for _, tc := range []struct {
		r    store.Result
		want string
	}{
		{completed(c), store.Duplicate},
		{failed(c), store.Conflict},
		{failed(f), store.Duplicate},
		{completed(f), store.Conflict},
	} {
		if got, err := h.b.ApplyResult(h.ctx, tc.r); err != nil || got != tc.want {
			h.t.Errorf("%s for %s = %q, %v; want %s", tc.r.Status, tc.r.DocumentID, got, err, tc.want)
		}
	}
	h.unchanged("a result for documents that ended", before, seen)
	// Recording a submission again for a document that ended changes nothing.
	h.must(h.b.RecordSubmitted(h.ctx, h.get(c).BatchID, "batch_3", nil, []store.Submitted{{DocID: c, DocumentID: docID(c)}}))
	h.unchanged("a submission recorded again", before, seen)
}

// Requeue and RequeueUnsent put back only documents still submitting.
func requeueRefusals(h *harness) {
	a, c := h.queued(1), h.queued(2)
	b := h.batch(store.ModeBatch, a, c)
	h.submit(b, "batch_1", a)
	before, seen := h.snapshot(a, c), len(h.transitions())
	h.must(h.b.RequeueUnsent(h.ctx, b.ID, []int64{a}, "not listed"))
	h.unchanged("requeueing a submitted document", before, seen)
	h.must(h.b.Requeue(h.ctx, b.ID, false, "refused"))
	if got := fmt.Sprint(h.path(a)); got != "[queued submitting submitted]" {
		h.t.Fatalf("transitions of the submitted document = %s", got)
	}
	h.wantState(a, store.StateSubmitted)
	h.wantState(c, store.StateQueued)
	if got := fmt.Sprint(h.path(c)); got != "[queued submitting queued]" {
		h.t.Fatalf("transitions of the requeued document = %s", got)
	}
}

// A duplicate is promoted to queued when its original ends without its
// content being extracted — vanished, unreadable, hard-linked, or failed
// for an id the API had given another file — and not otherwise.
func duplicatePromotion(h *harness) {
	for i, tc := range []struct {
		name     string
		end      func(id int64)
		promoted bool
	}{
		{"vanished", func(id int64) { h.must(h.b.Finish(h.ctx, []int64{id}, store.StateVanished, "", "gone")) }, true},
		{"unreadable", func(id int64) {
			h.must(h.b.Finish(h.ctx, []int64{id}, store.StateRejected, vocab.CodeUnreadable, "EACCES"))
		}, true},
		{"hard-linked", func(id int64) {
			h.must(h.b.Finish(h.ctx, []int64{id}, store.StateRejected, vocab.CodeHardlinked, "2 links"))
		}, true},
		{"refused by the API", func(id int64) {
			h.must(h.b.Finish(h.ctx, []int64{id}, store.StateRejected, docuparse.CodeUnsupportedMedia, "no"))
		}, false},
		{"failed", func(id int64) {
			h.submit(h.batch(store.ModeSingle, id), "", id)
			h.apply(failed(id))
		}, false},
	} {
		n := 10 * (i + 1)
		orig := h.queued(n)
		first, second := h.intake(file(n+1, sha(n))), h.intake(file(n+2, sha(n)))
		if first.State != store.StateDuplicate || second.DuplicateOf != orig {
			h.t.Fatalf("%s: copies = %+v, %+v", tc.name, first, second)
		}
		tc.end(orig)
		if !tc.promoted {
			h.wantState(first.ID, store.StateDuplicate)
			continue
		}
		heir := h.get(first.ID)
		if heir.State != store.StateQueued || heir.DuplicateOf != 0 || heir.Outcome != "" {
			h.t.Fatalf("%s: the oldest duplicate = %+v, want queued", tc.name, heir)
		}
		if d := h.get(second.ID); d.State != store.StateDuplicate || d.DuplicateOf != first.ID {
			h.t.Fatalf("%s: the other duplicate = %+v, want a duplicate of %d", tc.name, d, first.ID)
		}
		if got := fmt.Sprint(h.path(first.ID)); got != "[duplicate queued]" {
			h.t.Fatalf("%s: transitions of the heir = %s", tc.name, got)
		}
	}
}

// A file marked vanished while its request was out was uploaded all the
// same: the API's answer is the truth and the document is submitted.
func vanishedThenAnswered(h *harness) {
	id := h.queued(1)
	b := h.batch(store.ModeBatch, id)
	h.must(h.b.Finish(h.ctx, []int64{id}, store.StateVanished, "", "gone during the upload"))
	h.submit(b, "batch_1", id)
	if d := h.get(id); d.State != store.StateSubmitted || d.Outcome != "" || d.DocumentID != docID(id) {
		h.t.Fatalf("answered after vanishing = %+v, want submitted", d)
	}
	if got := fmt.Sprint(h.path(id)); got != "[queued submitting vanished submitted]" {
		h.t.Fatalf("transitions = %s", got)
	}
	h.apply(completed(id))
}
