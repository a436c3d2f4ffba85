package ingest

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/store"
	"github.com/docuparse/docuparse-ingest/internal/testwait"
	"github.com/docuparse/docuparse-ingest/internal/vocab"
)

// An empty placeholder (a scanner or a download creates the file first and
// fills it later) is one document: intake waits for its content instead of
// rejecting it EMPTY_FILE and then taking it again as a second row.
func TestIntakeAnEmptyPlaceholderFilledLaterIsOneDocument(t *testing.T) {
	feed := make(chan Candidate)
	r := newIntakeRig(t, nil, 0, feed)
	r.in.Start(t.Context())
	t.Cleanup(r.in.Stop)

	p := filepath.Join(r.dir, "scan.pdf")
	feed <- writeInput(t, p, nil)
	feed <- writeInput(t, filepath.Join(r.dir, "other.pdf"), []byte("%PDF-1.4 other")) // a barrier: taken after the empty one
	testwait.OnSignal(t, r.st.wake, "other.pdf recorded", func() bool { return len(r.st.all(t)) == 1 })

	content := []byte("%PDF-1.4 the scan, written at last")
	feed <- writeInput(t, p, content)
	testwait.OnSignal(t, r.st.wake, "scan.pdf recorded", func() bool { return len(r.st.all(t)) == 2 })
	for _, d := range r.st.all(t) {
		if d.State != store.StateQueued {
			t.Errorf("%s recorded %s %s, want queued", d.FileName, d.State, d.ErrorCode)
		}
		if d.Path == p && d.SHA256 != sha256Hex(content) {
			t.Errorf("scan.pdf recorded with sha256 %s, want its content's", d.SHA256)
		}
	}
}

// A file that stays empty is rejected once, after its source's empty wait,
// and a later sighting of it (a rescan, a restart) adds nothing; an empty
// file removed during its wait leaves no row.
func TestIntakeAFileThatStaysEmptyIsRejectedOnceAfterItsWait(t *testing.T) {
	feed := make(chan Candidate)
	r := newIntakeRig(t, nil, 0, feed)
	r.in.SetSources(map[string]SourcePolicy{"inbox": {EmptyWait: 50 * time.Millisecond}})
	r.in.Start(t.Context())
	t.Cleanup(r.in.Stop)

	stays := writeInput(t, filepath.Join(r.dir, "stays.pdf"), nil)
	removed := writeInput(t, filepath.Join(r.dir, "removed.pdf"), nil)
	// The wait counts from the file's modification time (a restart does
	// not start it over): seen as just written, removed.pdf waits its
	// whole EmptyWait however slow the machine, and is gone before the
	// wait ends — removed here already, since intake reads nothing of it
	// until then.
	removed.ModTime = time.Now().Add(time.Hour)
	mustRemove(t, removed.Path)
	feed <- stays
	feed <- removed
	testwait.OnSignal(t, r.st.wake, "stays.pdf rejected", func() bool { return len(r.st.all(t)) == 1 })
	feed <- stays
	feed <- writeInput(t, filepath.Join(r.dir, "barrier.pdf"), []byte("%PDF-1.4 barrier"))
	testwait.OnSignal(t, r.st.wake, "barrier.pdf recorded", func() bool { return len(r.st.all(t)) == 2 })

	docs := r.st.all(t)
	if d := docs[0]; d.Path != stays.Path || d.State != store.StateRejected || d.ErrorCode != vocab.CodeEmptyFile {
		t.Errorf("first row: %s %s %s, want stays.pdf rejected %s", d.FileName, d.State, d.ErrorCode, vocab.CodeEmptyFile)
	}
	if d := docs[1]; d.Path == removed.Path || d.Path == stays.Path {
		t.Errorf("second row is %s, want barrier.pdf only", d.FileName)
	}
}

// An empty file moved into the inbox keeps its old modification time, but
// the move sets its change time: it gets its whole empty wait from there,
// rather than being rejected at once as empty "for years".
func TestIntakeAnOldEmptyFileMovedInGetsItsWholeWait(t *testing.T) {
	feed := make(chan Candidate)
	r := newIntakeRig(t, nil, 0, feed)
	r.in.Start(t.Context())
	t.Cleanup(r.in.Stop)

	p := filepath.Join(r.dir, "moved.pdf")
	writeInput(t, p, nil)
	old := time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := os.Chtimes(p, old, old); err != nil { // sets the change time to now, as a move does
		t.Fatal(err)
	}
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	c := statCandidate(t, "inbox", p)
	c.FileID = sigOf(fi).id
	feed <- c
	feed <- writeInput(t, filepath.Join(r.dir, "barrier.pdf"), []byte("%PDF-1.4 barrier"))
	testwait.OnSignal(t, r.st.wake, "barrier.pdf recorded", func() bool { return len(r.st.all(t)) >= 1 })
	for _, d := range r.st.all(t) {
		if d.Path == p {
			t.Errorf("moved.pdf recorded %s %s at once, want it waiting for its content", d.State, d.ErrorCode)
		}
	}
}
