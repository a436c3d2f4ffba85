package daemon_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/apiclient"
	"github.com/docuparse/docuparse-ingest/internal/config"
	"github.com/docuparse/docuparse-ingest/internal/daemon"
	"github.com/docuparse/docuparse-ingest/internal/docuparse"
	"github.com/docuparse/docuparse-ingest/internal/e2e"
	"github.com/docuparse/docuparse-ingest/internal/samples"
	"github.com/docuparse/docuparse-ingest/internal/sim"
	"github.com/docuparse/docuparse-ingest/internal/store"
)

// BenchmarkAPICalls compares what getting results costs: API calls per
// document, and the delay between the API finishing a document and its
// result being in hand (a CSV row for the daemon), for
//
//   - webhook: the daemon with its receiver (the article's architecture),
//   - poll-only: the daemon with the receiver off (reconcile.poll_interval 5 s),
//   - naive-5s: a plain client that submits each file and polls it every
//     5 s (the pattern the article argues against).
//
// The simulator takes 2 s per document. Each iteration sends 40 documents.
//
//	go test -run '^$' -bench APICalls -benchtime 2x ./internal/daemon/
func BenchmarkAPICalls(b *testing.B) {
	files := samples.Generate(40, 77)
	for _, mode := range []string{"webhook", "poll-only", "naive-5s"} {
		b.Run(mode, func(b *testing.B) {
			var calls, docs int
			var lat []time.Duration
			for i := 0; i < b.N; i++ {
				s := e2e.StartSim(b, sim.Config{ProcessingDelay: 2 * time.Second})
				var l []time.Duration
				if mode == "naive-5s" {
					l = naiveClient(b, s, files)
				} else {
					l = daemonRun(b, s, files, mode == "webhook")
				}
				lat = append(lat, l...)
				docs += len(files)
				// finishDelays' own GETs (one per document) are not charged.
				for _, byStatus := range s.Stats().Requests {
					for _, n := range byStatus {
						calls += n
					}
				}
				calls -= len(files)
			}
			slices.Sort(lat)
			b.ReportMetric(float64(calls)/float64(docs), "calls/doc")
			b.ReportMetric(float64(lat[len(lat)/2].Milliseconds()), "p50-ms")
			b.ReportMetric(float64(lat[len(lat)*99/100].Milliseconds()), "p99-ms")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// daemonRun runs files through a daemon and returns, per document, the time
// from the API finishing it to its CSV row being written.
func daemonRun(b *testing.B, s *e2e.Sim, files []samples.File, webhooks bool) []time.Duration {
	b.Helper()
	dir := b.TempDir()
	inbox := filepath.Join(dir, "inbox")
	if err := os.MkdirAll(inbox, 0o755); err != nil {
		b.Fatal(err)
	}
	text := strings.Replace(s.Config(dir, inbox, ""), `level  = "debug"`, `level  = "error"`, 1)
	text = strings.Replace(text, `settle = "400ms"`, `settle = "50ms"`, 1)
	cfg, err := config.Parse(strings.NewReader(text), "bench.toml", e2e.Getenv)
	if err != nil {
		b.Fatal(err)
	}
	cfg.Receiver.Enabled = webhooks
	cfg.Reconcile.PollInterval = config.Duration(5 * time.Second)
	var mu sync.Mutex
	exported := map[string]time.Time{} // document_id → when its row was written
	ended := make(chan struct{}, len(files))
	d, err := daemon.New(context.Background(), cfg, daemon.Options{OnTransition: func(t store.Transition) {
		if t.To == store.StateExported {
			mu.Lock()
			exported[t.DocumentID] = time.Now()
			mu.Unlock()
			ended <- struct{}{}
		}
	}})
	if err != nil {
		b.Fatal(err)
	}
	if webhooks {
		s.SetWebhookURL("http://" + d.ReceiverAddr() + cfg.Receiver.Path)
	}
	if err := d.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	for i, f := range files {
		if err := os.WriteFile(filepath.Join(inbox, fmt.Sprintf("%03d-%s", i, f.Name)), f.Content, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	timeout := time.After(2 * time.Minute)
	for range files {
		select {
		case <-ended:
		case <-timeout:
			b.Fatal("documents not exported in time")
		}
	}
	d.Stop()
	return finishDelays(b, s, exported)
}

// naiveClient submits each file with POST /extract and polls it every 5 s
// until it is done, returning the delay from the API finishing each
// document to the client learning of it.
func naiveClient(b *testing.B, s *e2e.Sim, files []samples.File) []time.Duration {
	b.Helper()
	client, err := apiclient.New(apiclient.Config{BaseURL: s.BaseURL, APIKey: e2e.APIKey})
	if err != nil {
		b.Fatal(err)
	}
	var mu sync.Mutex
	learned := map[string]time.Time{}
	var wg sync.WaitGroup
	for i, f := range files {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := context.Background()
			content := f.Content
			resp, err := client.Extract(ctx, fmt.Sprintf("naive-%d-%d", i, time.Now().UnixNano()), apiclient.Upload{
				Filename: f.Name, Size: int64(len(content)),
				Open: func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(string(content))), nil },
			}, "")
			if err != nil {
				b.Error(err)
				return
			}
			tick := time.NewTicker(5 * time.Second)
			defer tick.Stop()
			for range tick.C {
				doc, err := client.GetDocument(ctx, resp.DocumentID)
				if err != nil {
					b.Error(err)
					return
				}
				if doc.Status != docuparse.StatusProcessing {
					mu.Lock()
					learned[resp.DocumentID] = time.Now()
					mu.Unlock()
					return
				}
			}
		}()
	}
	wg.Wait()
	return finishDelays(b, s, learned)
}

// finishDelays returns, for each document, at minus the API's completed_at.
func finishDelays(b *testing.B, s *e2e.Sim, at map[string]time.Time) []time.Duration {
	b.Helper()
	client, err := apiclient.New(apiclient.Config{BaseURL: s.BaseURL, APIKey: e2e.APIKey})
	if err != nil {
		b.Fatal(err)
	}
	out := make([]time.Duration, 0, len(at))
	for id, t := range at {
		doc, err := client.GetDocument(context.Background(), id)
		if err != nil || doc.CompletedAt == nil {
			b.Fatalf("completion time of %s: %v", id, err)
		}
		out = append(out, t.Sub(*doc.CompletedAt))
	}
	return out
}
