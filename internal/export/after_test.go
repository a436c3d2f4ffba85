package export

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/docuparse/docuparse-ingest/internal/docuparse"
	"github.com/docuparse/docuparse-ingest/internal/store"
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
		{"delete", func(r *rig) SourceAfter { return SourceAfter{Action: AfterDelete, Root: r.inbox} }, "", ""},
		{"move without a folder for rejected files", func(r *rig) SourceAfter {
			return SourceAfter{Action: AfterMove, Root: r.inbox, MoveTo: filepath.Join(r.inbox, "..", "done")}
		}, "", "done"},
		{"move with a folder for rejected files", func(r *rig) SourceAfter {
			return SourceAfter{Action: AfterMove, Root: r.inbox, MoveTo: filepath.Join(r.inbox, "..", "done"),
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
