package daemon_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/samples"
	"github.com/docuparse/docuparse-ingest/internal/sim"
	"github.com/docuparse/docuparse-ingest/internal/vocab"
)

// With after = "move", a file whose content was extracted goes to move_to
// and a rejected one (here a symlink out of the inbox, never read) goes to
// move_rejected_to; with after = "delete" the rejected one stays.
func TestAfterActionsMoveOrKeepRejectedFiles(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ after, rejectedDir string }{
		{vocab.AfterMove, "rejected"},
		{vocab.AfterDelete, ""},
	} {
		t.Run(tc.after, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, sim.Config{}, "")
			src := &h.cfg.Sources[0]
			src.After = tc.after
			if tc.after == vocab.AfterMove {
				src.MoveTo = filepath.Join(h.dir, "done")
				src.MoveRejectedTo = filepath.Join(h.dir, tc.rejectedDir)
			}
			target := filepath.Join(h.dir, "outside.pdf")
			f := samples.Demo()[0]
			if err := os.WriteFile(target, f.Content, 0o600); err != nil {
				t.Fatal(err)
			}
			h.start(t)
			good, link := filepath.Join(h.inbox, f.Name), filepath.Join(h.inbox, "link.pdf")
			if err := os.WriteFile(good, f.Content, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(target, link); err != nil {
				t.Fatal(err)
			}
			h.tr.WaitFor(t, "both rows", 30*time.Second, func() bool { return h.tr.Ended(good) && h.tr.Ended(link) })
			if _, err := os.Lstat(good); !os.IsNotExist(err) {
				t.Errorf("the extracted file is still in the inbox (%v)", err)
			}
			linkAt := link
			if tc.rejectedDir != "" {
				linkAt = filepath.Join(h.dir, tc.rejectedDir, "link.pdf")
			}
			if fi, err := os.Lstat(linkAt); err != nil || fi.Mode()&os.ModeSymlink == 0 {
				t.Errorf("the rejected file is not at %s: %v", linkAt, err)
			}
			if _, err := os.Stat(target); err != nil {
				t.Errorf("the link's target was touched: %v", err)
			}
		})
	}
}
