package export

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/docuparse/docuparse-ingest/internal/safedir"
	"github.com/docuparse/docuparse-ingest/internal/store"
	"github.com/docuparse/docuparse-ingest/internal/vocab"
)

// A document of a source no longer configured (a reload removed or moved
// it) is acted on through a pin of its file's own directory: that pin must
// follow no symbolic link on the way either, or a subfolder swapped for a
// link would let the after-action delete or move a file outside the inbox.
func TestAfterActionsForAnUnconfiguredSourceFollowNoSymlink(t *testing.T) {
	for _, action := range []string{vocab.AfterDelete, vocab.AfterMove} {
		t.Run(action, func(t *testing.T) {
			dir := t.TempDir()
			inbox, precious := filepath.Join(dir, "inbox"), filepath.Join(dir, "precious")
			for _, d := range []string{inbox, precious} {
				if err := os.MkdirAll(d, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			victim := filepath.Join(precious, "victim.pdf")
			if err := os.WriteFile(victim, []byte("keep me"), 0o644); err != nil {
				t.Fatal(err)
			}
			fi, _ := os.Stat(victim)
			if err := os.Symlink(precious, filepath.Join(inbox, "sub")); err != nil {
				t.Fatal(err)
			}
			d := store.Document{Source: "gone", Path: filepath.Join(inbox, "sub", "victim.pdf"), SizeBytes: fi.Size(), ModTime: fi.ModTime()}
			err := applyAfter(safedir.NewSet(nil), SourceAfter{Action: action, MoveTo: filepath.Join(dir, "done")}, d)
			if err == nil {
				t.Fatal("the after-action went through a symlinked folder")
			}
			if got, err := os.ReadFile(victim); err != nil || string(got) != "keep me" {
				t.Fatalf("the file outside the inbox was touched: %q, %v", got, err)
			}
		})
	}
}
