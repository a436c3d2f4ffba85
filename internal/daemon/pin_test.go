package daemon_test

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/docuparse/docuparse-ingest/internal/daemon"
	"github.com/docuparse/docuparse-ingest/internal/samples"
	"github.com/docuparse/docuparse-ingest/internal/sim"
	"github.com/docuparse/docuparse-ingest/internal/store"
	"github.com/docuparse/docuparse-ingest/internal/testlog"
	"github.com/docuparse/docuparse-ingest/internal/testwait"
	"github.com/docuparse/docuparse-ingest/internal/vocab"
)

// startLogged runs a daemon on the harness with its log in a buffer.
func (h *harness) startLogged(t *testing.T) (*daemon.Daemon, *testlog.Buffer) {
	t.Helper()
	log, buf := testlog.Logger(slog.LevelInfo)
	d, err := daemon.New(context.Background(), h.cfg, daemon.Options{Logger: log, OnTransition: h.tr.Observe, SubmitBackoff: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	h.sim.SetWebhookURL("http://" + d.ReceiverAddr() + h.cfg.Receiver.Path)
	if err := d.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Stop)
	return d, buf
}

// Attack 1a: an inbox user plants done/sub → out/csv and drops a file in
// inbox/sub/. With after = "move" the file must not land in out/csv (as a
// forged CSV of the daemon's); it stays in the inbox and the move is refused.
func TestAMoveNeverFollowsASymlinkPlantedUnderMoveTo(t *testing.T) {
	t.Parallel()
	h := newHarness(t, sim.Config{}, "")
	src := &h.cfg.Sources[0]
	src.After, src.MoveTo, src.Recursive = vocab.AfterMove, filepath.Join(h.dir, "done"), true
	csvDir := filepath.Join(h.cfg.OutputDir, "csv")
	for _, d := range []string{csvDir, src.MoveTo, filepath.Join(h.inbox, "sub")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(csvDir, filepath.Join(src.MoveTo, "sub")); err != nil {
		t.Fatal(err)
	}
	h.start(t)
	f := samples.Demo()[1] // a CSV
	evil := filepath.Join(h.inbox, "sub", "documents-2026-05-01-late.csv")
	if err := os.WriteFile(evil, f.Content, 0o644); err != nil {
		t.Fatal(err)
	}
	h.tr.WaitFor(t, "the planted file's row", 30*time.Second, func() bool { return h.tr.Ended(evil) })
	if _, err := os.Lstat(filepath.Join(csvDir, filepath.Base(evil))); err == nil {
		t.Fatal("the inbox user's file was moved into out/csv through done/sub")
	}
	if _, err := os.Stat(evil); err != nil {
		t.Fatalf("the file should stay in the inbox when its move is refused: %v", err)
	}
}

// Attack 1b: after start, an inbox user swaps the inbox folder for a
// symlink to a folder of the daemon's outputs. Nothing there is uploaded,
// moved or deleted; the source is refused with one ERROR line and is read
// again once the original folder is back.
func TestASwappedInboxIsRefusedNotReadMovedOrDeleted(t *testing.T) {
	t.Parallel()
	for _, after := range []string{vocab.AfterMove, vocab.AfterDelete} {
		t.Run(after, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, sim.Config{}, "")
			src := &h.cfg.Sources[0]
			src.After = after
			if after == vocab.AfterMove {
				src.MoveTo = filepath.Join(h.dir, "done")
			}
			reports := filepath.Join(h.cfg.OutputDir, "reports")
			if err := os.MkdirAll(reports, 0o755); err != nil {
				t.Fatal(err)
			}
			report := filepath.Join(reports, "reconciliation-2026-05-01.csv")
			if err := os.WriteFile(report, samples.Demo()[1].Content, 0o640); err != nil {
				t.Fatal(err)
			}
			d, logs := h.startLogged(t)
			demo := samples.Demo()
			first := filepath.Join(h.inbox, demo[0].Name)
			if err := os.WriteFile(first, demo[0].Content, 0o644); err != nil {
				t.Fatal(err)
			}
			h.tr.WaitFor(t, "the first file exported", 30*time.Second, func() bool { return h.tr.Ended(first) })

			// One atomic swap (renameat2 RENAME_EXCHANGE), so the daemon
			// sees one change: the folder becomes the link, the link's
			// name the folder.
			aside := h.inbox + ".old"
			if err := os.Symlink(reports, aside); err != nil {
				t.Fatal(err)
			}
			swap(t, h.inbox, aside)
			testwait.For(t, "the swapped source refused (or the report taken)", func() bool {
				_, err := os.Stat(report)
				return d.CheckSources(context.Background()) != nil || err != nil || h.sim.Stats().DocumentsCreated > 1
			})
			if n := h.sim.Stats().DocumentsCreated; n != 1 {
				t.Fatalf("the API received %d documents, want 1: the report was uploaded through the swapped inbox", n)
			}

			// The original folder comes back: the source is read again.
			swap(t, h.inbox, aside)
			second := filepath.Join(h.inbox, demo[2].Name)
			if err := os.WriteFile(second, demo[2].Content, 0o644); err != nil {
				t.Fatal(err)
			}
			h.tr.WaitFor(t, "a file dropped once the inbox is back", 30*time.Second, func() bool { return h.tr.Ended(second) })
			d.Stop()
			if got, err := os.ReadFile(report); err != nil || !bytes.Equal(got, demo[1].Content) {
				t.Fatalf("the report was moved or deleted through the swapped inbox: %v", err)
			}
			if n := h.sim.Stats().DocumentsCreated; n != 2 {
				t.Fatalf("the API received %d documents, want 2", n)
			}
			n := 0
			for _, line := range strings.Split(logs.String(), "\n") {
				if strings.Contains(line, "level=ERROR") && strings.Contains(line, "replaced") {
					n++
				}
			}
			if n != 1 {
				t.Fatalf("want one ERROR line saying the source folder was replaced, got %d:\n%s", n, logs.String())
			}
		})
	}
}

// swap exchanges what the paths a and b name, atomically.
func swap(t *testing.T, a, b string) {
	t.Helper()
	if err := unix.Renameat2(unix.AT_FDCWD, a, unix.AT_FDCWD, b, unix.RENAME_EXCHANGE); err != nil {
		t.Fatalf("swap %s and %s: %v", a, b, err)
	}
}

// Attack 2: a different file copied over a taken-in one with the same size
// and modification time (cp -p, rsync -t, unzip) is read again: it is a
// new document, not skipped as known.
func TestADifferentFileWithTheSameSizeAndMtimeIsReadAgain(t *testing.T) {
	t.Parallel()
	h := newHarness(t, sim.Config{}, "")
	h.start(t)
	f := samples.Demo()[0]
	path := filepath.Join(h.inbox, f.Name)
	if err := os.WriteFile(path, f.Content, 0o644); err != nil {
		t.Fatal(err)
	}
	h.tr.WaitFor(t, "the first content exported", 30*time.Second, func() bool { return h.tr.Ended(path) })
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	other := bytes.Replace(f.Content, []byte("INV-2026-0091"), []byte("INV-2026-0092"), 1)
	if bytes.Equal(other, f.Content) || len(other) != len(f.Content) {
		t.Fatal("the sample does not hold the invoice number this test changes")
	}
	if err := os.WriteFile(path, other, 0o644); err != nil { // cp -p: same inode, new bytes …
		t.Fatal(err)
	}
	if err := os.Chtimes(path, fi.ModTime(), fi.ModTime()); err != nil { // … and the old mtime
		t.Fatal(err)
	}
	h.tr.WaitFor(t, "the new content exported", 30*time.Second, func() bool { return h.tr.Reached(path, store.StateExported, 2) })
	if n := h.sim.Stats().DocumentsCreated; n != 2 {
		t.Fatalf("the API received %d documents, want 2", n)
	}
}
