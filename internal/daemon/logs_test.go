package daemon_test

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/daemon"
	"github.com/docuparse/docuparse-ingest/internal/samples"
	"github.com/docuparse/docuparse-ingest/internal/sim"
	"github.com/docuparse/docuparse-ingest/internal/testlog"
)

// TestLogsSayEachThingOnceOnOneLine runs the daemon on a file that is
// exported, a copy of it (a duplicate) and a file too large (rejected),
// logging at debug level: no line carries a key twice (logger.With chains
// included), and each document event is one line carrying all its fields.
func TestLogsSayEachThingOnceOnOneLine(t *testing.T) {
	h := newHarness(t, sim.Config{}, "")
	h.cfg.API.MaxFileSize = 64 << 10
	strict := &dupHandler{mu: &sync.Mutex{}, dups: new([]string)}
	log, buf := testlog.Logger(slog.LevelDebug)
	strict.next = log.Handler()
	d, err := daemon.New(context.Background(), h.cfg, daemon.Options{Logger: slog.New(strict), OnTransition: h.tr.Observe,
		SubmitBackoff: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	h.sim.SetWebhookURL("http://" + d.ReceiverAddr() + h.cfg.Receiver.Path)
	if err := d.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Stop)
	f := samples.Demo()[0]
	first, copyPath, big := filepath.Join(h.inbox, f.Name), filepath.Join(h.inbox, "copy of "+f.Name), filepath.Join(h.inbox, "big.pdf")
	write := func(path string, b []byte) {
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(first, f.Content)
	h.tr.WaitFor(t, "original exported", 30*time.Second, func() bool { return h.tr.Ended(first) })
	write(copyPath, f.Content)
	write(big, append([]byte("%PDF-1.4\n"), make([]byte, 128<<10)...))
	h.tr.WaitFor(t, "copy and big file exported", 30*time.Second, func() bool { return h.tr.Ended(copyPath) && h.tr.Ended(big) })
	d.Stop()

	if dups := strict.found(); len(dups) > 0 {
		t.Errorf("lines with a key twice:\n%s", strings.Join(dups, "\n"))
	}
	lines := strings.Split(buf.String(), "\n")
	msg := regexp.MustCompile(`msg="([^"]*)"`)
	for _, c := range []struct {
		path, event string
		want        []string
	}{
		{first, "queued", []string{"level=DEBUG", "source=inbox", "sha256="}},
		{copyPath, "duplicate", []string{"level=INFO", "source=inbox", "duplicate_of=1"}},
		{big, "rejected", []string{"level=WARN", "source=inbox", "reason=FILE_TOO_LARGE", `message="file is`}},
	} {
		var got []string
		for _, l := range lines {
			if m := msg.FindStringSubmatch(l); m != nil && strings.Contains(m[1], c.event) && strings.Contains(l, filepath.Base(c.path)) {
				got = append(got, l)
			}
		}
		if len(got) != 1 {
			t.Errorf("%d lines for %s of %s, want 1:\n%s", len(got), c.event, c.path, strings.Join(got, "\n"))
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(got[0], w) {
				t.Errorf("%s lacks %s: %s", c.event, w, got[0])
			}
		}
	}
	if strings.Contains(buf.String(), `from=""`) {
		t.Error(`a line says from="" (no previous state): leave the key out`)
	}
}

// dupHandler passes records on to next and notes each one that carries a
// key twice, counting the attributes added by Logger.With.
type dupHandler struct {
	next  slog.Handler
	attrs []string // keys added by With, in order
	mu    *sync.Mutex
	dups  *[]string
}

func (h *dupHandler) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

func (h *dupHandler) Handle(ctx context.Context, r slog.Record) error {
	seen := map[string]bool{}
	dup := ""
	for _, k := range h.attrs {
		if seen[k] {
			dup = k
		}
		seen[k] = true
	}
	r.Attrs(func(a slog.Attr) bool {
		if seen[a.Key] {
			dup = a.Key
		}
		seen[a.Key] = true
		return true
	})
	if dup != "" {
		h.mu.Lock()
		*h.dups = append(*h.dups, dup+" twice in: "+r.Message)
		h.mu.Unlock()
	}
	return h.next.Handle(ctx, r)
}

func (h *dupHandler) WithAttrs(as []slog.Attr) slog.Handler {
	c := *h
	c.attrs = append(append([]string{}, h.attrs...), keys(as)...)
	c.next = h.next.WithAttrs(as)
	return &c
}

func (h *dupHandler) WithGroup(name string) slog.Handler {
	c := *h
	c.next = h.next.WithGroup(name)
	c.attrs = nil // keys inside a group cannot clash with those outside
	return &c
}

func (h *dupHandler) found() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string{}, *h.dups...)
}

func keys(as []slog.Attr) []string {
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = a.Key
	}
	return out
}

// TestRoutineProgressIsSummarisedAtInfo: at info level a document's
// routine steps (queued, submitting, submitted, completed, exported) are
// not one line each — they are at debug — while each batch and each export
// pass says at info what it did, so a large folder does not cost five log
// lines per document.
func TestRoutineProgressIsSummarisedAtInfo(t *testing.T) {
	h := newHarness(t, sim.Config{}, "")
	d, buf := h.startLogged(t)
	var paths []string
	for _, f := range samples.Demo()[:2] {
		p := filepath.Join(h.inbox, f.Name)
		if err := os.WriteFile(p, f.Content, 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	h.tr.WaitFor(t, "both exported", 30*time.Second, func() bool { return h.tr.Ended(paths[0]) && h.tr.Ended(paths[1]) })
	d.Stop() // the pass that exported them has logged
	routine := regexp.MustCompile(`msg="document (queued|submitting|submitted|completed|exported)"`)
	summary := false
	for _, l := range strings.Split(buf.String(), "\n") {
		if routine.MatchString(l) {
			t.Errorf("a routine step at info: %s", l)
		}
		summary = summary || strings.Contains(l, `msg="documents exported"`) && strings.Contains(l, "level=INFO")
	}
	if !summary {
		t.Errorf("no export pass summary at info:\n%s", buf.String())
	}
}
