package daemon_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/config"
	"github.com/docuparse/docuparse-ingest/internal/e2e"
	"github.com/docuparse/docuparse-ingest/internal/samples"
	"github.com/docuparse/docuparse-ingest/internal/sim"
)

// A symlink dropped in the inbox that points outside it (at the service's
// credentials, say) is never read or uploaded: it becomes a rejected row.
// A symlink to a file inside the inbox is just another path to it.
func TestASymlinkOutOfTheInboxIsRefusedNotUploaded(t *testing.T) {
	t.Parallel()
	h := newHarness(t, sim.Config{}, "")
	outside := filepath.Join(h.dir, "outside-secret")
	if err := os.MkdirAll(outside, 0o700); err != nil {
		t.Fatal(err)
	}
	f := samples.Demo()[0]
	target := filepath.Join(outside, "private.bin")
	if err := os.WriteFile(target, f.Content, 0o600); err != nil {
		t.Fatal(err)
	}
	h.start(t)
	link := filepath.Join(h.inbox, "innocent.pdf")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	h.tr.WaitFor(t, "the link's row", 30*time.Second, func() bool { return h.tr.Ended(link) })
	if n := h.sim.Stats().DocumentsCreated; n != 0 {
		t.Fatalf("the API received %d document(s) through a symlink out of the inbox", n)
	}
	rows := e2e.ReadCSV(t, h.cfg.OutputDir, "documents-*.csv")
	if len(rows) != 1 || rows[0]["status"] != "rejected" || rows[0]["error_code"] != "UNREADABLE" || !strings.Contains(rows[0]["error_message"], "symbolic link") {
		t.Fatalf("rows = %v, want one rejected UNREADABLE row saying the path is a symbolic link", rows)
	}
	// The row tells nothing about the file the link points at: its size is
	// the link's own.
	if got, want := rows[0]["size_bytes"], strconv.Itoa(len(target)); got != want {
		t.Fatalf("the rejected link's row has size_bytes %s, want the link's own %s (the target has %d)", got, want, len(f.Content))
	}
}

// Reload replaces the watchers while /readyz reads them (run with -race).
func TestReloadAndReadinessChecksDoNotRace(t *testing.T) {
	t.Parallel()
	h := newHarness(t, sim.Config{}, "")
	d := h.start(t)
	second := filepath.Join(h.dir, "second")
	if err := os.MkdirAll(second, 0o755); err != nil {
		t.Fatal(err)
	}
	withSecond := *h.cfg
	src := h.cfg.Sources[0]
	src.Name, src.Path = "second", second
	withSecond.Sources = append(append([]config.Source(nil), h.cfg.Sources...), src)
	stop := make(chan struct{})
	checked := make(chan struct{})
	go func() {
		defer close(checked)
		for {
			select {
			case <-stop:
				return
			default:
				_ = d.CheckSources(context.Background())
			}
		}
	}()
	for i := 0; i < 10; i++ {
		next := h.cfg
		if i%2 == 0 {
			next = &withSecond
		}
		if _, err := d.Reload(next); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	<-checked
}
