package storetest

import (
	"fmt"
	"strings"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/docuparse"
	"github.com/docuparse/docuparse-ingest/internal/store"
)

// The crash-recovery invariants: each step writes its intention before its
// side effect, so a restart (Close, then open the same store again) finds
// every intention and loses or doubles nothing.
var recoveryCases = []testCase{
	{"ABatchNotMarkedSentIsResumedWithItsKey", batchSurvivesReopen},
	{"ABatchSentIsResumedAsSent", sentBatchSurvivesReopen},
	{"ACSVBegunButNotCommittedIsStillKnown", csvSurvivesReopen},
	{"JournaledEventsSurviveAndApplyOnce", eventsSurviveReopen},
	{"AnOrphanIsAdoptedAfterARestart", orphanSurvivesReopen},
	{"IntakeAfterARestartDoublesNothing", intakeSurvivesReopen},
	{"HoldsStuckBatchesMirrorIntentionsAndMetaSurvive", restSurvivesReopen},
}

// Moved from internal/store TestStateSurvivesReopen: a batch created (its
// key stored) and not yet sent is found again with the same key.
func batchSurvivesReopen(h *harness) {
	a, c := h.queued(1), h.queued(2)
	batch := h.batch(store.ModeBatch, a, c)
	keyBefore := h.b.NewIdempotencyKey()
	refBefore := h.get(a).ClientReference
	h.reopen()
	pending, err := h.b.SubmittingBatches(h.ctx)
	h.must(err)
	if len(pending) != 1 || pending[0].ID != batch.ID || pending[0].IdempotencyKey != batch.IdempotencyKey || pending[0].Sent ||
		len(pending[0].Documents) != 2 || pending[0].Mode != store.ModeBatch || pending[0].FileCount != 2 {
		h.t.Fatalf("after reopen: %+v", pending)
	}
	// The installation keeps its identity: references and keys made after
	// the restart carry the same installation prefix as before.
	if ref := h.get(h.queued(3)).ClientReference; prefix(ref) != prefix(refBefore) || ref == refBefore {
		h.t.Fatalf("client references %q before and %q after a restart", refBefore, ref)
	}
	if key := h.b.NewIdempotencyKey(); prefix(key) != prefix(keyBefore) || key == keyBefore {
		h.t.Fatalf("idempotency keys %q before and %q after a restart", keyBefore, key)
	}
	// Resumed and answered: recorded once.
	h.submit(&pending[0], "batch_1", a, c)
	h.reopen()
	if pending, _ := h.b.SubmittingBatches(h.ctx); len(pending) != 0 {
		h.t.Fatalf("a batch answered is resumed again: %+v", pending)
	}
	if n := h.count(store.StateSubmitted); n != 2 {
		h.t.Fatalf("%d submitted, want 2", n)
	}
}

// prefix is s up to its last "-": the installation's part of a reference
// or key.
func prefix(s string) string { return s[:max(strings.LastIndex(s, "-"), 0)] }

func sentBatchSurvivesReopen(h *harness) {
	b := h.batch(store.ModeSingle, h.queued(1))
	h.must(h.b.MarkSent(h.ctx, b.ID))
	h.must(h.b.RecordAttempt(h.ctx, b.ID, "timeout"))
	h.reopen()
	pending, _ := h.b.SubmittingBatches(h.ctx)
	if len(pending) != 1 || !pending[0].Sent || pending[0].Attempts != 1 || pending[0].IdempotencyKey != b.IdempotencyKey {
		h.t.Fatalf("after reopen: %+v; a batch the API may have must be asked for by its key", pending)
	}
}

// A CSV file begun (recorded before its first append) and not committed is
// still the daemon's after a restart, so its leftover is cut, not refused;
// committed lengths are kept.
func csvSurvivesReopen(h *harness) {
	const begun, committed = "csv/documents-2026-11-27.csv", "csv/documents-2026-11-26.csv"
	h.must(h.b.BeginCSV(h.ctx, begun))
	id := h.docIn(1, "rejected")
	h.must(h.b.MarkExported(h.ctx, []int64{id}, map[string]store.CSVFile{committed: {Size: 4321, TailSHA256: "ab"}}))
	h.reopen()
	if f, ok, err := h.b.CSVState(h.ctx, begun); err != nil || !ok || f != (store.CSVFile{}) {
		h.t.Fatalf("begun file after reopen = %+v, %v, %v; want known at length 0", f, ok, err)
	}
	if f, ok, err := h.b.CSVState(h.ctx, committed); err != nil || !ok || f != (store.CSVFile{Size: 4321, TailSHA256: "ab"}) {
		h.t.Fatalf("committed file after reopen = %+v, %v, %v", f, ok, err)
	}
	if c, _ := h.b.ExportCandidates(h.ctx, 10); len(c) != 0 {
		h.t.Fatalf("an exported document is a candidate again: %+v", c)
	}
}

// Events journaled (acknowledged with 200) survive a restart, a repeat of
// one is still recognised, and each is applied exactly once.
func eventsSurviveReopen(h *harness) {
	a, c := h.submitted(1), h.submitted(2)
	completedEv := docuparse.Event{Event: docuparse.EventDocumentCompleted, DocumentID: docID(a), Data: []byte(`{"n":1}`)}
	h.journal("ka", completedEv)
	h.journal("kc", docuparse.Event{Event: docuparse.EventDocumentFailed, DocumentID: docID(c)})
	h.reopen()
	if c := h.eventCounts(); c[store.EventPending] != 2 {
		h.t.Fatalf("events after reopen = %v, want 2 pending", c)
	}
	if h.journal("ka", completedEv) {
		h.t.Fatal("a repeat of an event journaled before the restart was stored again")
	}
	if n := applyPending(h); n != 2 {
		h.t.Fatalf("applied %d after the restart, want 2", n)
	}
	h.reopen()
	if n := applyPending(h); n != 0 {
		h.t.Fatalf("applied %d after a second restart, want none", n)
	}
	if got := fmt.Sprint(h.eventCounts()); got != fmt.Sprint(map[string]int{store.EventApplied: 2}) {
		h.t.Fatalf("events = %s, want both applied once", got)
	}
	h.wantState(a, store.StateCompleted)
	h.wantState(c, store.StateFailed)
	if at, _ := h.b.LastEventAt(h.ctx); !at.Equal(start) {
		h.t.Fatalf("LastEventAt after reopen = %v", at)
	}
}

func orphanSurvivesReopen(h *harness) {
	a := h.queued(1)
	b := h.batch(store.ModeSingle, a)
	h.journal("early", docuparse.Event{Event: docuparse.EventDocumentCompleted, DocumentID: docID(a), Data: []byte(`{}`)})
	applyPending(h)
	h.reopen()
	h.submit(b, "", a)
	applyPending(h)
	h.wantState(a, store.StateCompleted)
	if c := h.eventCounts(); c[store.EventApplied] != 1 || c[store.EventOrphan] != 0 {
		h.t.Fatalf("events = %v, want the orphan applied", c)
	}
}

// Files taken in before a restart are known after it: a rescan takes none
// of them in again.
func intakeSurvivesReopen(h *harness) {
	var files []store.NewFile
	for i := range 20 {
		f := file(i, sha(i))
		f.FileID = store.FileID{Dev: 1, Inode: uint64(1000 + i), ChangeTime: time.Unix(1700000000, int64(i))}
		files = append(files, f)
		h.intake(f)
	}
	h.reopen()
	for _, f := range files {
		if ok, err := h.b.Known(h.ctx, f.Source, f.Path, f.Size, f.ModTime, f.FileID); err != nil || !ok {
			h.t.Fatalf("%s not known after a restart: %v, %v", f.Path, ok, err)
		}
		if r := h.intake(f); !r.Known {
			h.t.Fatalf("%s taken in again after a restart: %+v", f.Path, r)
		}
	}
	if n := h.count(store.StateQueued); n != 20 {
		h.t.Fatalf("%d queued after a restart and a rescan, want 20", n)
	}
}

func restSurvivesReopen(h *harness) {
	held := h.docIn(1, "rejected")
	if _, err := h.b.HoldExport(h.ctx, []store.ExportHold{{ID: held, Reason: "symlink"}}, time.Minute, time.Hour); err != nil {
		h.t.Fatal(err)
	}
	h.docIn(2, "stuck")
	if _, err := h.b.IntendMirror(h.ctx, store.MirrorObject{Key: "k", Kind: "result", LocalPath: "k", Size: 1, SHA256: "s"}); err != nil {
		h.t.Fatal(err)
	}
	h.must(h.b.SetMeta(h.ctx, "report_last", "2026-11-26"))
	h.must(h.b.AddCounters(h.ctx, "2026-11-27", map[string]int64{"x": 1}))
	h.reopen()
	if d, _ := h.b.ExportHeld(h.ctx, 0); len(d) != 1 || d[0].ID != held || d[0].ExportError != "symlink" {
		h.t.Fatalf("held after reopen = %+v", d)
	}
	if fresh, _ := h.b.HoldExport(h.ctx, []store.ExportHold{{ID: held, Reason: "symlink"}}, time.Minute, time.Hour); len(fresh) != 0 {
		h.t.Fatalf("a hold from before the restart is new again: %+v", fresh)
	}
	if s, _ := h.b.SubmitStuck(h.ctx, 0); len(s) != 1 {
		h.t.Fatalf("stuck after reopen = %+v", s)
	}
	if p, _ := h.b.SubmittingBatches(h.ctx); len(p) != 0 {
		h.t.Fatalf("a stuck batch is resumed after a restart: %+v", p)
	}
	if n, _ := h.b.MirrorPendingCount(h.ctx); n != 1 {
		h.t.Fatalf("mirror backlog after reopen = %d", n)
	}
	if v, ok, _ := h.b.Meta(h.ctx, "report_last"); !ok || v != "2026-11-26" {
		h.t.Fatalf("meta after reopen = %q, %v", v, ok)
	}
	if c, _ := h.b.Counters(h.ctx, "2026-11-27"); c["x"] != 1 {
		h.t.Fatalf("counters after reopen = %v", c)
	}
}
