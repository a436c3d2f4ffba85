package daemon_test

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/daemon"
	"github.com/docuparse/docuparse-ingest/internal/e2e"
	"github.com/docuparse/docuparse-ingest/internal/samples"
	"github.com/docuparse/docuparse-ingest/internal/sim"
	"github.com/docuparse/docuparse-ingest/internal/testlog"
)

// With fs.protected_hardlinks=0 an inbox user can hard-link a file of the
// service's (its configuration, its state) into the inbox: a regular file,
// which no symlink check stops. The daemon refuses it unread
// (HARDLINKED_FILE), never uploads it, and leaves it where it is.
func TestAHardLinkInTheInboxIsRefusedNotUploaded(t *testing.T) {
	t.Parallel()
	h := newHarness(t, sim.Config{}, "")
	h.cfg.Sources[0].After = "delete"
	secret := filepath.Join(h.dir, "private.bin")
	if err := os.WriteFile(secret, samples.Demo()[0].Content, 0o600); err != nil {
		t.Fatal(err)
	}
	h.start(t)
	link := filepath.Join(h.inbox, "x.pdf")
	if err := os.Link(secret, link); err != nil {
		t.Fatal(err)
	}
	h.tr.WaitFor(t, "the link's row", 30*time.Second, func() bool { return h.tr.Ended(link) })
	if n := h.sim.Stats().DocumentsCreated; n != 0 {
		t.Fatalf("the API received %d document(s) through a hard link", n)
	}
	rows := e2e.ReadCSV(t, h.cfg.OutputDir, "documents-*.csv")
	if len(rows) != 1 || rows[0]["status"] != "rejected" || rows[0]["error_code"] != "HARDLINKED_FILE" ||
		!strings.Contains(rows[0]["error_message"], "hard link") {
		t.Fatalf("rows = %v, want one rejected HARDLINKED_FILE row naming the hard link", rows)
	}
	if _, err := os.Stat(link); err != nil {
		t.Fatalf("the refused link was removed from the inbox: %v", err)
	}
}

// The daemon logs, at start, each of the kernel's link protections that
// is off: with fs.protected_hardlinks=0 any inbox user can link the
// service's own files into the inbox.
func TestStartWarnsWhenTheKernelsLinkProtectionsAreOff(t *testing.T) {
	h := newHarness(t, sim.Config{}, "")
	sysctl := t.TempDir()
	for name, v := range map[string]string{"protected_hardlinks": "0\n", "protected_symlinks": "1\n"} {
		if err := os.WriteFile(filepath.Join(sysctl, name), []byte(v), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	log, buf := testlog.Logger(slog.LevelInfo)
	d, err := daemon.New(context.Background(), h.cfg, daemon.Options{Logger: log, SysctlDir: sysctl})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	d.Stop()
	n := 0
	for _, line := range strings.Split(buf.String(), "\n") {
		if strings.Contains(line, "WARN") && strings.Contains(line, "fs.protected_hardlinks") {
			n++
		}
		if strings.Contains(line, "fs.protected_symlinks") {
			t.Errorf("a protection that is on was warned about: %s", line)
		}
	}
	if n != 1 {
		t.Errorf("%d WARN lines name fs.protected_hardlinks, want 1:\n%s", n, buf.String())
	}

	// Under the shipped unit (ProcSubset=pid) the files are hidden: no
	// warning then (check-config, outside the sandbox, is the check).
	log, buf = testlog.Logger(slog.LevelInfo)
	d, err = daemon.New(context.Background(), h.cfg, daemon.Options{Logger: log, SysctlDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	d.Stop()
	if strings.Contains(buf.String(), "fs.protected_") {
		t.Errorf("hidden sysctls were warned about:\n%s", buf.String())
	}
}
