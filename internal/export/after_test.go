package export

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/docuparse/docuparse-ingest/internal/docuparse"
	"github.com/docuparse/docuparse-ingest/internal/store"
	"github.com/docuparse/docuparse-ingest/internal/vocab"
)

// TestAfterActionsLeaveRejectedFilesAlone: a rejected file was never read
// (unreadable, too large, wrong type): it may be the only copy of an
// invoice, so delete never removes it and move takes it only to the folder
// configured for rejected files, if any. The completed, failed and
// duplicate files beside it get the after-action as before.
func TestAfterActionsLeaveRejectedFilesAlone(t *testing.T) {
	tests := []struct {
		name  string
		after func(r *rig) SourceAfter
		// rejectedAt is where the rejected files must end up, relative to
		// the rig's parent folder ("" = where they were); doneAt where the
		// others go ("" = nowhere).
		rejectedAt, doneAt string
	}{
		{"delete", func(r *rig) SourceAfter { return SourceAfter{Action: vocab.AfterDelete, Root: r.inbox} }, "", ""},
		{"move without a folder for rejected files", func(r *rig) SourceAfter {
			return SourceAfter{Action: vocab.AfterMove, Root: r.inbox, MoveTo: filepath.Join(r.inbox, "..", "done")}
		}, "", "done"},
		{"move with a folder for rejected files", func(r *rig) SourceAfter {
			return SourceAfter{Action: vocab.AfterMove, Root: r.inbox, MoveTo: filepath.Join(r.inbox, "..", "done"),
				MoveRejectedTo: filepath.Join(r.inbox, "..", "rejected")}
		}, "rejected", "done"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t)
			ctx := t.Context()
			good, other, big := r.sample(), r.sample(), r.sample()
			r.completed(t, "a/good.pdf", good)
			r.failed(t, "a/failed.pdf", other.Content)
			r.duplicate(t, "a/copy.pdf", good.Content)
			r.rejected(t, "a/notes.txt")
			// Too large for the API: refused after intake, and a copy of it
			// taken in meanwhile is a duplicate of a file never read.
			orig, err := r.st.Intake(ctx, r.write(t, "a/huge.pdf", big.Content, true))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := r.st.Intake(ctx, r.write(t, "a/huge copy.pdf", big.Content, true)); err != nil {
				t.Fatal(err)
			}
			if err := r.st.Finish(ctx, []int64{orig.ID}, store.StateRejected, docuparse.CodeFileTooLarge, "too large"); err != nil {
				t.Fatal(err)
			}
			r.runOnce(t, r.exporter(func(c *Config) { c.After = map[string]SourceAfter{"inbox": tt.after(r)} }), 6)

			parent := filepath.Dir(r.inbox)
			for _, name := range []string{"notes.txt", "huge.pdf", "huge copy.pdf"} {
				at := filepath.Join(r.inbox, "a", name)
				if tt.rejectedAt != "" {
					at = filepath.Join(parent, tt.rejectedAt, "a", name)
				}
				if _, err := os.Stat(at); err != nil {
					t.Errorf("rejected file %s is not at %s: %v", name, at, err)
				}
			}
			for _, name := range []string{"good.pdf", "failed.pdf", "copy.pdf"} {
				if _, err := os.Stat(filepath.Join(r.inbox, "a", name)); !os.IsNotExist(err) {
					t.Errorf("%s is still in the inbox (%v)", name, err)
				}
				if tt.doneAt == "" {
					continue
				}
				if _, err := os.Stat(filepath.Join(parent, tt.doneAt, "a", name)); err != nil {
					t.Errorf("%s was not moved: %v", name, err)
				}
			}
			if strings.Contains(r.logs.String(), "after-export action failed") {
				t.Errorf("an after-action failed:\n%s", r.logs.String())
			}
		})
	}
}

// A file the API answered with another file's document_id was never
// extracted under an id of its own: it is recorded failed with
// DOCUMENT_ID_CONFLICT and exported as such, but no after-action takes it
// away (not even to the folder for rejected files), so `retry` finds it
// where it was.
func TestAfterActionsLeaveAFileWhoseDocumentIDConflictedInPlace(t *testing.T) {
	for _, action := range []string{vocab.AfterDelete, vocab.AfterMove} {
		t.Run(action, func(t *testing.T) {
			r := newRig(t)
			ctx := t.Context()
			parent := filepath.Dir(r.inbox)
			_, docID := r.submit(t, "a.pdf", r.sample().Content)
			res, err := r.st.Intake(ctx, r.write(t, "b.pdf", r.sample().Content, false))
			if err != nil {
				t.Fatal(err)
			}
			b, err := r.st.CreateBatch(ctx, store.ModeSingle, []int64{res.ID})
			if err != nil {
				t.Fatal(err)
			}
			conflicts, err := r.st.RecordSubmission(ctx, b.ID, "", nil, []store.Submitted{{DocID: res.ID, DocumentID: docID}})
			if err != nil || len(conflicts) != 1 {
				t.Fatalf("recording b.pdf under a.pdf's id: %+v, %v; want one conflict", conflicts, err)
			}
			r.apply(t, store.Result{DocumentID: docID, Status: docuparse.StatusFailed, ErrorCode: docuparse.CodeExtractionFailed,
				ErrorMessage: "failed", Via: store.ViaWebhook})
			r.runOnce(t, r.exporter(func(c *Config) {
				c.After = map[string]SourceAfter{"inbox": {Action: action, Root: r.inbox,
					MoveTo: filepath.Join(parent, "done"), MoveRejectedTo: filepath.Join(parent, "rejected")}}
			}), 2)
			if _, err := os.Stat(filepath.Join(r.inbox, "b.pdf")); err != nil {
				t.Errorf("b.pdf was taken from the inbox: %v", err)
			}
			if _, err := os.Stat(filepath.Join(r.inbox, "a.pdf")); !os.IsNotExist(err) {
				t.Errorf("a.pdf got no after-action (%v)", err)
			}
			if d := r.get(t, res.ID); d.Outcome != store.StateFailed || d.ErrorCode != vocab.CodeDocumentIDConflict {
				t.Errorf("b.pdf exported as %s %s", d.Outcome, d.ErrorCode)
			}
		})
	}
}
