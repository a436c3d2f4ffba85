package storetest

import (
	"time"

	"github.com/docuparse/docuparse-ingest/internal/store"
)

var exportCases = []testCase{
	{"ExportMarksDocumentsAndCommitsCSVSizes", exportMarksAndCommits},
	{"MarkExportedTakesOnlyDocumentsWithAnOutcome", markExportedOnlyEnded},
	{"HoldExportBacksOffAndReportsANewHoldOnce", holdExport},
	{"ExportCandidatesNameARetrysPredecessor", exportCandidatesRetry},
	{"ADuplicateWaitsForItsOriginalsIDOrRefusal", duplicateWaitsForOriginal},
}

// Moved from internal/store TestExportMarksDocumentsAndCommitsCSVSizes.
func exportMarksAndCommits(h *harness) {
	a := h.intake(file(1, "a1"))
	dup := h.intake(file(2, "a1"))
	if _, err := h.b.Reject(h.ctx, file(3, ""), "FILE_TOO_LARGE", "too big"); err != nil {
		h.t.Fatal(err)
	}
	c, _ := h.b.ExportCandidates(h.ctx, 10)
	if len(c) != 1 || c[0].State != store.StateRejected {
		h.t.Fatalf("candidates = %+v; the duplicate must wait for its original's id", c)
	}
	batch := h.batch(store.ModeBatch, a.ID)
	h.must(h.b.RecordSubmitted(h.ctx, batch.ID, "b1", nil, []store.Submitted{{DocID: a.ID, DocumentID: "doc_a"}}))
	c, _ = h.b.ExportCandidates(h.ctx, 10)
	if len(c) != 2 || c[0].ID != dup.ID || c[0].OriginalDocumentID != "doc_a" || c[0].OriginalPath != "/in/f1.pdf" || c[0].OriginalOutcome != "" {
		h.t.Fatalf("candidates = %+v", c)
	}
	if one, _ := h.b.ExportCandidates(h.ctx, 1); len(one) != 1 || one[0].ID != dup.ID {
		h.t.Fatalf("ExportCandidates(1) = %+v", one)
	}
	const x, y = "csv/documents-x.csv", "csv/documents-y.csv"
	h.must(h.b.MarkExported(h.ctx, []int64{c[0].ID, c[1].ID}, map[string]store.CSVFile{x: {Size: 120, TailSHA256: "abc"}}))
	if f, ok, _ := h.b.CSVState(h.ctx, x); !ok || f != (store.CSVFile{Size: 120, TailSHA256: "abc"}) {
		h.t.Fatalf("committed = %+v, %v", f, ok)
	}
	if n, err := h.b.CSVCommitted(h.ctx, x); err != nil || n != 120 {
		h.t.Fatalf("CSVCommitted = %d, %v", n, err)
	}
	// A record made before a file's first append does not overwrite one.
	h.must(h.b.BeginCSV(h.ctx, x))
	h.must(h.b.BeginCSV(h.ctx, y))
	if f, _, _ := h.b.CSVState(h.ctx, x); f.Size != 120 {
		h.t.Fatalf("BeginCSV replaced a record: %+v", f)
	}
	if f, ok, _ := h.b.CSVState(h.ctx, y); !ok || f != (store.CSVFile{}) {
		h.t.Fatalf("BeginCSV: %+v, %v", f, ok)
	}
	if _, ok, _ := h.b.CSVState(h.ctx, "csv/documents-z.csv"); ok {
		h.t.Fatal("a file never begun has a record")
	}
	if n, err := h.b.CSVCommitted(h.ctx, "csv/documents-z.csv"); err != nil || n != 0 {
		h.t.Fatalf("CSVCommitted of a file never begun = %d, %v", n, err)
	}
	if c, _ = h.b.ExportCandidates(h.ctx, 10); len(c) != 0 {
		h.t.Fatalf("still candidates: %+v", c)
	}
	if d := h.get(dup.ID); d.State != store.StateExported || d.Outcome != store.StateDuplicate || !d.ExportedAt.Equal(start) {
		h.t.Fatalf("dup = %+v", d)
	}
	// Sizes alone (a pass that exported nothing new) are committed too.
	h.must(h.b.MarkExported(h.ctx, nil, map[string]store.CSVFile{y: {Size: 7, TailSHA256: "def"}}))
	if n, _ := h.b.CSVCommitted(h.ctx, y); n != 7 {
		h.t.Fatalf("committed %d, want 7", n)
	}
	h.must(h.b.MarkExported(h.ctx, nil, nil))
}

func markExportedOnlyEnded(h *harness) {
	ids := map[string]int64{}
	for i, s := range []string{"queued", "submitting", "submitted", "completed", "failed", "rejected", "duplicate", "vanished"} {
		ids[s] = h.docIn(10*(i+1), s)
	}
	all := make([]int64, 0, len(ids))
	for _, id := range ids {
		all = append(all, id)
	}
	h.must(h.b.MarkExported(h.ctx, all, nil))
	for s, id := range ids {
		want := store.State(s)
		if s == "completed" || s == "failed" || s == "rejected" || s == "duplicate" {
			want = store.StateExported
		}
		if d := h.get(id); d.State != want {
			h.t.Errorf("%s document after MarkExported: %s, want %s", s, d.State, want)
		}
	}
	if n := toExported(h); n != 4 {
		h.t.Fatalf("%d transitions to exported, want 4", n)
	}
	// Exported once: marking again changes and announces nothing.
	h.must(h.b.MarkExported(h.ctx, all, nil))
	if n := toExported(h); n != 4 {
		h.t.Fatalf("%d transitions to exported after marking twice, want 4", n)
	}
}

// toExported counts the transitions to exported announced so far.
func toExported(h *harness) int {
	n := 0
	for _, tr := range h.transitions() {
		if tr.To == store.StateExported {
			n++
		}
	}
	return n
}

func holdExport(h *harness) {
	const first, most = 30 * time.Second, 2 * time.Minute
	a, c := h.docIn(1, "rejected"), h.docIn(2, "rejected")
	q := h.queued(3)
	if _, err := h.b.HoldExport(h.ctx, nil, 0, most); err == nil {
		h.t.Fatal("a zero backoff was taken")
	}
	if _, err := h.b.HoldExport(h.ctx, nil, most, first); err == nil {
		h.t.Fatal("a backoff whose most is below its first was taken")
	}
	fresh, err := h.b.HoldExport(h.ctx, []store.ExportHold{{ID: a, Reason: "symlink at out/"}, {ID: q, Reason: "not ended"}}, first, most)
	h.must(err)
	if len(fresh) != 1 || fresh[0].ID != a {
		h.t.Fatalf("new holds = %+v, want %d only (a queued document is not held)", fresh, a)
	}
	if cand, _ := h.b.ExportCandidates(h.ctx, 10); len(cand) != 1 || cand[0].ID != c {
		h.t.Fatalf("candidates while held = %+v, want %d only", cand, c)
	}
	held, err := h.b.ExportHeld(h.ctx, 0)
	if err != nil || len(held) != 1 || held[0].ID != a || held[0].ExportError != "symlink at out/" || held[0].ExportAttempts != 1 ||
		!held[0].NextExportAt.Equal(start.Add(first)) || held[0].State != store.StateRejected {
		h.t.Fatalf("held = %+v, %v", held, err)
	}
	// Held again: not new, and the wait doubles up to most.
	for i, wait := range []time.Duration{2 * first, most, most} {
		fresh, err := h.b.HoldExport(h.ctx, []store.ExportHold{{ID: a, Reason: "symlink at out/"}}, first, most)
		h.must(err)
		if len(fresh) != 0 {
			h.t.Fatalf("hold %d reported new: %+v", i+2, fresh)
		}
		if d := h.get(a); !d.NextExportAt.Equal(start.Add(wait)) || d.ExportAttempts != i+2 {
			h.t.Fatalf("hold %d: next %v, attempts %d; want %v", i+2, d.NextExportAt, d.ExportAttempts, start.Add(wait))
		}
	}
	if st, _ := h.b.Status(h.ctx); st.ExportHeld != 1 {
		h.t.Fatalf("status counts %d held", st.ExportHeld)
	}
	h.clock.Advance(most)
	if cand, _ := h.b.ExportCandidates(h.ctx, 10); len(cand) != 2 || cand[0].ID != a {
		h.t.Fatalf("candidates once due = %+v", cand)
	}
	// Exported: no longer held.
	h.must(h.b.MarkExported(h.ctx, []int64{a, c}, nil))
	if held, _ := h.b.ExportHeld(h.ctx, 0); len(held) != 0 {
		h.t.Fatalf("held after export = %+v", held)
	}
	if fresh, _ := h.b.HoldExport(h.ctx, []store.ExportHold{{ID: a, Reason: "late"}}, first, most); len(fresh) != 0 {
		h.t.Fatalf("an exported document was held: %+v", fresh)
	}
}

func exportCandidatesRetry(h *harness) {
	orig := h.docIn(1, "failed")
	retry, err := h.b.Retry(h.ctx, orig, store.RetryOptions{})
	h.must(err)
	h.must(h.b.MarkExported(h.ctx, []int64{orig}, nil))
	b := h.batch(store.ModeSingle, retry)
	h.submit(b, "", retry)
	h.apply(completed(retry))
	c, err := h.b.ExportCandidates(h.ctx, 10)
	h.must(err)
	o := h.get(orig)
	if len(c) != 1 || c[0].ID != retry || c[0].RetryOf != orig || c[0].RetryOfReference != o.ClientReference || c[0].RetryOfDocumentID != docID(orig) {
		h.t.Fatalf("candidates = %+v", c)
	}
}

// A duplicate is exported once its original has an API id or was refused,
// naming it; until then it waits.
func duplicateWaitsForOriginal(h *harness) {
	orig := h.queued(1)
	dup := h.intake(file(2, sha(1))).ID
	h.batch(store.ModeBatch, orig)
	if c, _ := h.b.ExportCandidates(h.ctx, 10); len(c) != 0 {
		h.t.Fatalf("candidates while the original is submitting = %+v", c)
	}
	h.must(h.b.Finish(h.ctx, []int64{orig}, store.StateRejected, "FILE_TOO_LARGE", "too big"))
	c, err := h.b.ExportCandidates(h.ctx, 10)
	h.must(err)
	if len(c) != 2 || c[0].ID != orig || c[1].ID != dup || c[1].OriginalOutcome != store.StateRejected || c[1].OriginalPath != "/in/f1.pdf" ||
		c[1].OriginalDocumentID != "" || c[1].DuplicateOf != orig {
		h.t.Fatalf("candidates once the original was refused = %+v", c)
	}
	if pending, _ := h.b.SubmittingBatches(h.ctx); len(pending) != 0 {
		h.t.Fatalf("the batch of a refused file is still submitting: %+v", pending)
	}
}
