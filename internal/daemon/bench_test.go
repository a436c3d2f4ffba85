package daemon_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/config"
	"github.com/docuparse/docuparse-ingest/internal/daemon"
	"github.com/docuparse/docuparse-ingest/internal/e2e"
	"github.com/docuparse/docuparse-ingest/internal/samples"
	"github.com/docuparse/docuparse-ingest/internal/sim"
	"github.com/docuparse/docuparse-ingest/internal/store"
)

// BenchmarkEndToEnd measures documents per second through the whole
// pipeline — settle, hash, batch, upload, webhook, apply, export — with a
// simulator that answers at once. Each iteration is a fresh daemon, store
// and inbox receiving docs files written in place.
//
//	go test -run '^$' -bench EndToEnd -benchtime 5x ./internal/daemon/
func BenchmarkEndToEnd(b *testing.B) {
	for _, mode := range []string{"batch_upload = true", "batch_upload = false"} {
		b.Run(strings.ReplaceAll(mode, " ", ""), func(b *testing.B) {
			const docs = 500
			files := samples.Generate(docs, 1)
			var total time.Duration
			for i := 0; i < b.N; i++ {
				total += runOnce(b, files, mode)
			}
			b.ReportMetric(float64(docs*b.N)/total.Seconds(), "docs/s")
			b.ReportMetric(0, "ns/op")
		})
	}
}

func runOnce(b *testing.B, files []samples.File, mode string) time.Duration {
	b.Helper()
	dir := b.TempDir()
	inbox := filepath.Join(dir, "inbox")
	if err := os.MkdirAll(inbox, 0o755); err != nil {
		b.Fatal(err)
	}
	s := e2e.StartSim(b, sim.Config{})
	text := s.Config(dir, inbox, mode+"\nconcurrency = 8")
	text = strings.Replace(text, "concurrency = 4\n", "", 1)
	text = strings.Replace(text, `settle = "400ms"`, `settle = "20ms"`, 1)
	text = strings.Replace(text, `max_wait  = "200ms"`, `max_wait  = "50ms"`, 1)
	text = strings.Replace(text, `level  = "debug"`, `level  = "error"`, 1)
	cfg, err := config.Parse(strings.NewReader(text), "bench.toml", e2e.Getenv)
	if err != nil {
		b.Fatal(err)
	}
	tr := e2e.NewTracker()
	d, err := daemon.New(context.Background(), cfg, daemon.Options{OnTransition: tr.Observe})
	if err != nil {
		b.Fatal(err)
	}
	s.SetWebhookURL("http://" + d.ReceiverAddr() + cfg.Receiver.Path)
	if err := d.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	defer d.Stop()
	start := time.Now()
	for i, f := range files {
		if err := os.WriteFile(filepath.Join(inbox, fmt.Sprintf("%04d-%s", i, f.Name)), f.Content, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	tr.WaitFor(b, "every document exported", 2*time.Minute, func() bool { return tr.Count(store.StateExported) == len(files) })
	return time.Since(start)
}
