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

// descriptorsOn counts this process's open descriptors that refer to dir.
func descriptorsOn(t *testing.T, dir string) int {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("no /proc/self/fd: %v", err)
	}
	n := 0
	for _, e := range entries {
		if target, err := os.Readlink(filepath.Join("/proc/self/fd", e.Name())); err == nil && target == dir {
			n++
		}
	}
	return n
}

// A reload that removes a source releases its folder's pin: the daemon
// keeps no descriptor on a folder it no longer watches (each reload that
// dropped or renamed a source used to keep one for the life of the
// process).
func TestAReloadReleasesThePinOfARemovedSource(t *testing.T) {
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
	if _, err := d.Reload(&withSecond); err != nil {
		t.Fatal(err)
	}
	if n := descriptorsOn(t, second); n == 0 {
		t.Fatalf("no descriptor on %s while it is a source", second)
	}
	if _, err := d.Reload(h.cfg); err != nil {
		t.Fatal(err)
	}
	if n := descriptorsOn(t, second); n != 0 {
		t.Fatalf("%d descriptors still on %s after the reload removed its source", n, second)
	}
	if n := descriptorsOn(t, h.inbox); n == 0 {
		t.Fatalf("the pin of %s, still a source, was released", h.inbox)
	}
}
