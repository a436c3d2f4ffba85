package daemon_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/samples"
	"github.com/docuparse/docuparse-ingest/internal/sim"
)

// TestEveryFileTheDaemonWritesHonoursTheServiceUmask runs the daemon under
// the unit's UMask=0027 and checks every file and folder it made in
// state_dir and output_dir: none may be writable by the group or readable
// by others. The umask is the process's, so this test is not parallel
// (Go runs no parallel test while a sequential one runs).
func TestEveryFileTheDaemonWritesHonoursTheServiceUmask(t *testing.T) {
	old := syscall.Umask(0o027)
	t.Cleanup(func() { syscall.Umask(old) })
	h := newHarness(t, sim.Config{}, "")
	d := h.start(t)
	f := samples.Demo()[0]
	p := filepath.Join(h.inbox, f.Name)
	if err := os.WriteFile(p, f.Content, 0o600); err != nil {
		t.Fatal(err)
	}
	h.tr.WaitFor(t, "the file exported", 30*time.Second, func() bool { return h.tr.Ended(p) })
	d.Stop()
	seen := 0
	for _, root := range []string{h.cfg.StateDir, h.cfg.OutputDir} {
		err := filepath.WalkDir(root, func(path string, e fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			fi, err := os.Lstat(path)
			if err != nil {
				return err
			}
			seen++
			want := fs.FileMode(0o640)
			if fi.IsDir() {
				want = 0o750
			}
			if fi.Mode().Perm()&^want != 0 {
				t.Errorf("%s has mode %v: the umask 0027 allows at most %v", path, fi.Mode().Perm(), want)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if seen < 6 {
		t.Fatalf("only %d paths checked under %s and %s: the daemon wrote less than expected", seen, h.cfg.StateDir, h.cfg.OutputDir)
	}
}
