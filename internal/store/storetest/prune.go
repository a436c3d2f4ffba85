package storetest

import (
	"reflect"
	"strconv"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/docuparse"
	"github.com/docuparse/docuparse-ingest/internal/store"
)

var pruneCases = []testCase{
	{"PruneDropsTheDetailOfDocumentsExportedBeforeTheCutoff", pruneBeforeCutoff},
	{"PruneKeepsWhatDedupeKnownAndTheCountsRead", pruneKeepsTheRest},
	{"PruneTwiceAndAfterAReopenChangesNothing", pruneIdempotent},
	{"PruneGoesOnPastAChunk", pruneManyChunks},
	{"ALateRepeatOfAPrunedDocumentsResultIsADuplicate", pruneThenRepeat},
}

// pruneDay is the day the suite's passes count their pruned documents in.
const pruneDay = "2026-12-07"

// pruneSetup makes, on the suite's first day: a document completed by a
// journaled webhook and exported (old), one failed and exported (old),
// one completed but not exported; and ten days later one completed and
// exported (recent). It returns them in that order and the cutoff between.
func pruneSetup(h *harness) (old, oldFailed, notExported, recent int64, cutoff time.Time) {
	h.t.Helper()
	old = h.submitted(1)
	h.journalAndApply(docuparse.Event{Event: docuparse.EventDocumentCompleted, DocumentID: docID(old),
		Timestamp: "2026-11-27T09:00:00Z", Data: []byte(`{"total":"1.00"}`)})
	h.must(h.b.MarkExported(h.ctx, []int64{old}, nil))
	oldFailed = h.docIn(2, "exported failed")
	notExported = h.docIn(3, "completed")
	h.clock.Set(start.Add(10 * 24 * time.Hour))
	recent = h.docIn(4, "exported completed")
	return old, oldFailed, notExported, recent, start.Add(5 * 24 * time.Hour)
}

func pruneBeforeCutoff(h *harness) {
	old, _, notExported, recent, cutoff := pruneSetup(h)
	applied := h.eventCounts()[store.EventApplied]
	res, err := h.b.Prune(h.ctx, cutoff, pruneDay)
	h.must(err)
	if res.Documents != 2 || res.Events != 1 {
		h.t.Fatalf("prune = %+v, want the 2 documents exported before the cutoff and the 1 event applied to them", res)
	}
	if d := h.get(old); d.Result != nil {
		h.t.Errorf("pruned document still has its result %s", d.Result)
	}
	for _, id := range []int64{notExported, recent} {
		if d := h.get(id); d.Result == nil {
			h.t.Errorf("document %d (%s, exported %s) lost its result", id, d.State, d.ExportedAt)
		}
	}
	if got := h.eventCounts()[store.EventApplied]; got != applied-1 {
		h.t.Errorf("applied events %d, want %d", got, applied-1)
	}
	c, err := h.b.Counters(h.ctx, pruneDay)
	h.must(err)
	if c[store.CounterPruned] != 2 {
		h.t.Errorf("counters of %s = %v, want %s = 2", pruneDay, c, store.CounterPruned)
	}
	total, _, err := h.b.Meta(h.ctx, store.MetaPrunedTotal)
	h.must(err)
	before, ok, err := h.b.Meta(h.ctx, store.MetaPrunedBefore)
	h.must(err)
	if total != "2" || !ok || before == "" {
		h.t.Errorf("meta %s = %q, %s = %q, %v", store.MetaPrunedTotal, total, store.MetaPrunedBefore, before, ok)
	}
}

// What a pruned document keeps: its state, outcome, times, hash, API id
// and error; the file is still known, its content still deduplicated; the
// counts status and the report read do not change.
func pruneKeepsTheRest(h *harness) {
	old, oldFailed, _, _, cutoff := pruneSetup(h)
	keep := map[int64]*store.Document{old: h.get(old), oldFailed: h.get(oldFailed)}
	st, err := h.b.Status(h.ctx)
	h.must(err)
	_, err = h.b.Prune(h.ctx, cutoff, pruneDay)
	h.must(err)
	for id, was := range keep {
		d := h.get(id)
		was.Result, d.Result = nil, nil
		if !reflect.DeepEqual(d, was) {
			h.t.Errorf("document %d changed beyond its result:\n got %+v\nwant %+v", id, d, was)
		}
		known, err := h.b.Known(h.ctx, d.Source, d.Path, d.SizeBytes, d.ModTime, d.FileID)
		h.must(err)
		if !known {
			h.t.Errorf("document %d's file is no longer known", id)
		}
	}
	if d := h.get(oldFailed); d.ErrorCode != docuparse.CodeExtractionFailed {
		h.t.Errorf("pruned failed document's error = %q", d.ErrorCode)
	}
	dup := file(9, sha(1)) // the old completed document's content, at another path
	if r := h.intake(dup); r.State != store.StateDuplicate || r.DuplicateOf != old {
		h.t.Errorf("same content as a pruned document taken in as %+v, want a duplicate of %d", r, old)
	}
	after, err := h.b.Status(h.ctx)
	h.must(err)
	after.Counts[store.StateDuplicate]-- // the duplicate just taken in
	after.Outcomes[store.StateDuplicate]--
	for _, m := range []map[store.State]int{after.Counts, after.Outcomes} {
		for k, v := range m {
			if v == 0 {
				delete(m, k)
			}
		}
	}
	if !reflect.DeepEqual(after.Counts, st.Counts) || !reflect.DeepEqual(after.Outcomes, st.Outcomes) {
		h.t.Errorf("status after pruning %v %v, before %v %v", after.Counts, after.Outcomes, st.Counts, st.Outcomes)
	}
}

// A document is pruned and counted once, however often passes run, and a
// restart changes nothing.
func pruneIdempotent(h *harness) {
	_, _, _, _, cutoff := pruneSetup(h)
	_, err := h.b.Prune(h.ctx, cutoff, pruneDay)
	h.must(err)
	res, err := h.b.Prune(h.ctx, cutoff, pruneDay)
	h.must(err)
	h.reopen()
	res2, err := h.b.Prune(h.ctx, cutoff, pruneDay)
	h.must(err)
	if res != (store.PruneResult{}) || res2 != (store.PruneResult{}) {
		h.t.Errorf("passes after the first pruned %+v and, after a reopen, %+v; want nothing", res, res2)
	}
	c, err := h.b.Counters(h.ctx, pruneDay)
	h.must(err)
	if c[store.CounterPruned] != 2 {
		h.t.Errorf("%s = %d, want 2", store.CounterPruned, c[store.CounterPruned])
	}
	if _, err := h.b.Prune(h.ctx, cutoff, "27/11/2026"); err == nil {
		h.t.Errorf("a malformed day was accepted")
	}
}

// A backlog larger than one transaction's share is pruned whole by one
// pass.
func pruneManyChunks(h *harness) {
	const n = 2500
	files := make([]store.NewFile, n)
	for i := range files {
		files[i] = file(100+i, sha(100+i))
	}
	h.must(h.b.SeedExported(h.ctx, files, "EMPTY_FILE", "empty"))
	h.clock.Set(start.Add(10 * 24 * time.Hour))
	res, err := h.b.Prune(h.ctx, start.Add(time.Hour), pruneDay)
	h.must(err)
	total, _, err := h.b.Meta(h.ctx, store.MetaPrunedTotal)
	h.must(err)
	if res.Documents != n || total != strconv.Itoa(n) {
		h.t.Errorf("pruned %+v, total %q; want %d", res, total, n)
	}
}

// A pruned document has no result data left to compare with: a late
// repeat of its document.completed (another delivery of the same event,
// or one whose key the journal no longer holds) is a duplicate, as before
// the pruning, never a conflict; and a contradicting failure is still a
// conflict.
func pruneThenRepeat(h *harness) {
	old, _, _, _, cutoff := pruneSetup(h)
	_, err := h.b.Prune(h.ctx, cutoff, pruneDay)
	h.must(err)
	before := h.eventCounts()
	repeat := docuparse.Event{Event: docuparse.EventDocumentCompleted, DocumentID: docID(old),
		Timestamp: "2026-11-27T09:00:00Z", Data: []byte(`{"total":"1.00"}`)}
	h.journal("late-repeat", repeat)
	applyPending(h)
	failed := docuparse.Event{Event: docuparse.EventDocumentFailed, DocumentID: docID(old), Timestamp: "2026-11-27T09:00:00Z",
		Error: &docuparse.Error{Code: docuparse.CodeExtractionFailed, Message: "no"}}
	h.journal("late-contradiction", failed)
	applyPending(h)
	after := h.eventCounts()
	if after[store.EventDuplicate] != before[store.EventDuplicate]+1 || after[store.EventConflict] != before[store.EventConflict]+1 {
		h.t.Errorf("events %v after a repeat and a contradiction of a pruned document (before %v): want one more duplicate and one more conflict", after, before)
	}
	if d := h.get(old); d.State != store.StateExported || d.Outcome != store.StateCompleted {
		h.t.Errorf("pruned document is %s/%s, want exported/completed", d.State, d.Outcome)
	}
}
