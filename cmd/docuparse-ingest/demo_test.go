package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/docuparse/docuparse-ingest/internal/samples"
)

// TestDemoNamesADuplicatesOriginalAndSaysStopped runs the demo the way a
// user does: wait for the samples, copy one into the inbox, then Ctrl-C.
// The copy's line names the original; the interrupt says the demo stopped.
func TestDemoNamesADuplicatesOriginalAndSaysStopped(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo")
	out := &signalWriter{}
	watching := out.when("Still watching")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		m := &Main{Stdin: strings.NewReader(""), Stdout: out, Stderr: out, Getenv: func(string) string { return "" }}
		done <- m.Run(ctx, []string{"demo", "--dir", dir, "--processing-delay", "10ms"})
	}()
	select {
	case <-watching:
	case err := <-done:
		t.Fatalf("demo ended: %v\n%s", err, out.String())
	}
	f := samples.Demo()[0]
	copied := out.when("copy.pdf")
	if err := os.WriteFile(filepath.Join(dir, "inbox", "copy.pdf"), f.Content, 0o644); err != nil {
		t.Fatal(err)
	}
	<-copied
	exported := out.when("exported    copy.pdf")
	<-exported
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("demo: %v", err)
	}
	text := out.String()
	var dupLine string
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, "duplicate") && strings.Contains(l, "copy.pdf") {
			dupLine = l
		}
	}
	if !strings.Contains(dupLine, "same content as "+f.Name) {
		t.Errorf("the copy's line does not name the original %q: %q\n%s", f.Name, dupLine, text)
	}
	if !strings.Contains(text, "Stopped.") {
		t.Errorf("an interrupted demo does not say it stopped:\n%s", text)
	}
}

// TestDemoSaysItStartsAfresh: a second demo in the same folder says that
// it removes the earlier demo's results, and where it does.
func TestDemoSaysItStartsAfresh(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo")
	out, _, err := run(t, nil, "", "demo", "--once", "--dir", dir, "--processing-delay", "10ms")
	if err != nil || strings.Contains(out, "afresh") {
		t.Fatalf("first demo: %v\n%s", err, out)
	}
	out, _, err = run(t, nil, "", "demo", "--once", "--dir", dir, "--processing-delay", "10ms")
	if err != nil || !strings.Contains(out, "Starting afresh: removed the earlier demo's inbox, results and state in "+dir) {
		t.Fatalf("second demo: %v\n%s", err, out)
	}
}

// signalWriter collects output, safe for concurrent use, and closes the
// channels of when as soon as their text has been written.
type signalWriter struct {
	mu    sync.Mutex
	buf   strings.Builder
	waits map[string]chan struct{}
}

func (w *signalWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	for s, c := range w.waits {
		if strings.Contains(w.buf.String(), s) {
			close(c)
			delete(w.waits, s)
		}
	}
	return len(p), nil
}

// when returns a channel closed once s has been written.
func (w *signalWriter) when(s string) <-chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	c := make(chan struct{})
	if strings.Contains(w.buf.String(), s) {
		close(c)
		return c
	}
	if w.waits == nil {
		w.waits = map[string]chan struct{}{}
	}
	w.waits[s] = c
	return c
}

func (w *signalWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}
