package ingest

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/store"
	"github.com/docuparse/docuparse-ingest/internal/testwait"
)

// Batch mode. The crashed run's request reached the API (3 files); the next
// run found b.pdf deleted and was killed before the re-send with the same
// key was recorded. After the restart the resumed batch holds only a and c;
// the API replays the original 3-document answer, which must be matched
// against every file of the batch and recorded (once it looped forever).
func TestAResumedBatchWhoseFileVanishedIsRecordedFromTheReplayedAnswer(t *testing.T) {
	r := newSubRig(t, true, subRigOpts{})
	ids := r.queue(t, "a.pdf", "b.pdf", "c.pdf")
	b, err := r.st.CreateBatch(t.Context(), store.ModeBatch, ids)
	if err != nil {
		t.Fatal(err)
	}
	cl := r.client(t, subAPIKey, 2)
	sendAsCrashedRun(t, cl, b, map[string]string{}) // reached the API, answer lost
	mustRemove(t, r.st.get(t, ids[1]).Path)
	// What run 2 did before kill -9: finishUnopenable(b.pdf).
	if err := r.st.Finish(t.Context(), []int64{ids[1]}, store.StateVanished, "", "file removed before upload"); err != nil {
		t.Fatal(err)
	}
	r.reopen(t)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("a.pdf=%s c.pdf=%s; %d submit requests; log:\n%s",
				r.st.get(t, ids[0]).State, r.st.get(t, ids[2]).State, len(r.requests()),
				grepLines(r.logs.String(), "matches no file"))
		}
	})
	r.start(t, r.submitter(t, cl, nil))
	r.waitIn(t, store.StateSubmitted, ids[0], ids[2])
}

// Single-upload mode. The first POST /extract reached the API (answer
// lost); the file is then deleted before the retry. The key is replayed
// and the document recorded submitted, since the API has it (once it was
// recorded vanished, its result an orphan forever and no row written).
func TestAFileDeletedAfterItsUploadReachedTheAPIIsRecordedSubmitted(t *testing.T) {
	r := newSubRig(t, false, subRigOpts{})
	ids := r.queue(t, "a.pdf")
	b, err := r.st.CreateBatch(t.Context(), store.ModeSingle, ids)
	if err != nil {
		t.Fatal(err)
	}
	cl := r.client(t, subAPIKey, 2)
	first := map[string]string{}
	sendAsCrashedRun(t, cl, b, first)
	mustRemove(t, r.st.get(t, ids[0]).Path)
	r.reopen(t)
	r.start(t, r.submitter(t, cl, nil))
	testwait.OnSignal(t, r.wake, "a terminal or submitted state", func() bool {
		s := r.st.get(t, ids[0]).State
		return s == store.StateSubmitted || s == store.StateVanished
	})
	if d := r.st.get(t, ids[0]); d.State != store.StateSubmitted {
		t.Fatalf("document is %s (%q); the API created it as %v — its result can never be recorded", d.State, d.ErrorMessage, first)
	}
}

// A file that vanished before upload and is put back unchanged (same size
// and mtime: mv away and back, cp -p) is taken in again.
func TestAVanishedFilePutBackUnchangedIsTakenInAgain(t *testing.T) {
	r := newSubRig(t, true, subRigOpts{})
	ids := r.queue(t, "a.pdf")
	p := r.st.get(t, ids[0]).Path
	c := statCandidate(t, "inbox", p)
	tmp := p + ".away"
	if err := os.Rename(p, tmp); err != nil {
		t.Fatal(err)
	}
	r.start(t, r.submitter(t, r.client(t, subAPIKey, 2), nil))
	r.waitIn(t, store.StateVanished, ids[0])
	if err := os.Rename(tmp, p); err != nil { // back, same size and mtime
		t.Fatal(err)
	}
	if err := r.intake.Take(t.Context(), statCandidate(t, "inbox", p)); err != nil {
		t.Fatal(err)
	}
	_ = c
	if docs := r.st.all(t); len(docs) != 2 {
		t.Fatalf("%d documents after the file came back; want a new queued one (the file is never processed)", len(docs))
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
			if len(out) >= 2 {
				break
			}
		}
	}
	return strings.Join(out, "\n")
}

// Batch mode, a batch of one file: the request reached the API, the file
// is deleted before the re-send; with no file left the key alone is
// replayed and the document recorded.
func TestABatchOfOneWhoseFileWasDeletedAfterUploadIsRecordedSubmitted(t *testing.T) {
	r := newSubRig(t, true, subRigOpts{})
	ids := r.queue(t, "a.pdf")
	b, err := r.st.CreateBatch(t.Context(), store.ModeBatch, ids)
	if err != nil {
		t.Fatal(err)
	}
	cl := r.client(t, subAPIKey, 2)
	sendAsCrashedRun(t, cl, b, map[string]string{})
	mustRemove(t, r.st.get(t, ids[0]).Path)
	r.reopen(t)
	r.start(t, r.submitter(t, cl, nil))
	testwait.OnSignal(t, r.wake, "a terminal or submitted state", func() bool {
		s := r.st.get(t, ids[0]).State
		return s == store.StateSubmitted || s == store.StateVanished
	})
	if d := r.st.get(t, ids[0]); d.State != store.StateSubmitted {
		t.Fatalf("document is %s; the API created it (sim created %d docs)", d.State, r.sim.Stats().DocumentsCreated)
	}
}

// Dedupe on. b.pdf has a.pdf's content and becomes its duplicate while
// a.pdf is only queued. a.pdf is then deleted before upload (vanished):
// b.pdf takes its place and is submitted, instead of a "duplicate" row
// naming no document.
func TestADuplicateOfAVanishedOriginalIsSubmittedInItsPlace(t *testing.T) {
	r := newSubRig(t, true, subRigOpts{})
	r.intake = NewIntake(IntakeConfig{Store: r.st.Store, Sources: map[string]SourcePolicy{"inbox": {Dedupe: true}}}, nil)
	ids := r.queue(t, "a.pdf")
	cb := writeInput(t, r.dir+"/b.pdf", fileContent("a.pdf")) // same bytes
	if err := r.intake.Take(t.Context(), cb); err != nil {
		t.Fatal(err)
	}
	docs := r.st.all(t)
	bID := docs[len(docs)-1].ID
	if docs[len(docs)-1].State != store.StateDuplicate {
		t.Fatalf("b.pdf is %s, want duplicate", docs[len(docs)-1].State)
	}
	mustRemove(t, r.st.get(t, ids[0]).Path)
	r.start(t, r.submitter(t, r.client(t, subAPIKey, 2), nil))
	r.waitIn(t, store.StateVanished, ids[0])
	// a.pdf's end and b.pdf's promotion are one transaction: once a.pdf is
	// vanished, b.pdf is no longer a duplicate (or never will be).
	if d := r.st.get(t, bID); d.State != store.StateQueued && d.State != store.StateSubmitting && d.State != store.StateSubmitted {
		t.Fatalf("b.pdf (still on disk) is %s (duplicate of %d) once a.pdf vanished, want it queued in a.pdf's place", d.State, d.DuplicateOf)
	}
	r.waitIn(t, store.StateSubmitted, bID)
	if n := r.sim.Stats().DocumentsCreated; n != 1 {
		t.Fatalf("the API created %d documents for the one content, want 1", n)
	}
}

// A locally refused file (here: too large) that is only touched keeps its
// one rejected document (one CSV row).
func TestATouchedRejectedFileKeepsItsOneRow(t *testing.T) {
	r := newSubRig(t, true, subRigOpts{})
	r.intake = NewIntake(IntakeConfig{Store: r.st.Store, MaxFileSize: 10}, nil)
	c := writeInput(t, r.dir+"/big.pdf", fileContent("big.pdf"))
	if err := r.intake.Take(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	later := time.Now().Add(time.Minute)
	if err := os.Chtimes(c.Path, later, later); err != nil {
		t.Fatal(err)
	}
	if err := r.intake.Take(t.Context(), statCandidate(t, "inbox", c.Path)); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, d := range r.st.all(t) {
		if d.State == store.StateRejected {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d rejected rows for one unchanged file", n)
	}
}
