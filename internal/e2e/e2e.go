// Package e2e owns the end-to-end test harness: a simulator on loopback,
// ways of dropping files the way real producers do (written in place,
// renamed in, trickled in chunks, created in new subfolders), and the
// checker of the product's promise — every file dropped in has exactly one
// CSV row and one JSON result matching the simulator's truth, and no content
// was submitted twice. Only tests and benchmarks import it.
package e2e

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/bucket"
	"github.com/docuparse/docuparse-ingest/internal/samples"
	"github.com/docuparse/docuparse-ingest/internal/sim"
)

// Secrets used by harness configurations.
const (
	APIKey        = "dex_e2e_test_key"
	WebhookSecret = "whsec_e2e_test_secret"
)

// Getenv supplies the harness secrets the way the environment would.
func Getenv(k string) string {
	switch k {
	case "DOCUPARSE_API_KEY":
		return APIKey
	case "DOCUPARSE_WEBHOOK_SECRET":
		return WebhookSecret
	}
	return ""
}

// Sim is a simulator serving on loopback for one test.
type Sim struct {
	*sim.Server
	BaseURL string
}

// StartSim starts a simulator with cfg (APIKey and WebhookSecret filled in)
// on a loopback port, stopped at the end of the test.
func StartSim(tb testing.TB, cfg sim.Config) *Sim {
	tb.Helper()
	cfg.APIKey = APIKey
	cfg.WebhookSecret = []byte(WebhookSecret)
	s, err := sim.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	ctx, cancel := context.WithCancel(context.Background())
	s.Start(ctx)
	tb.Cleanup(func() {
		s.Stop()
		cancel()
		_ = srv.Close()
	})
	return &Sim{Server: s, BaseURL: "http://" + ln.Addr().String() + "/api/v1"}
}

// Config returns a TOML configuration for a daemon against s that watches
// inbox and keeps its state and outputs under dir. Extra TOML is appended
// inside [api] via apiExtra (e.g. "batch_upload = false").
func (s *Sim) Config(dir, inbox, apiExtra string) string {
	return fmt.Sprintf(`state_dir  = %q
output_dir = %q

[api]
base_url    = %q
concurrency = 4
rate_limit  = 0
timeout     = "10s"
%s

[batch]
max_files = 25
max_wait  = "200ms"

[receiver]
listen = "127.0.0.1:0"

[report]
timezone = "UTC"

[admin]
listen = ""

[log]
format = "json"
level  = "debug"

[[source]]
name   = "inbox"
path   = %q
settle = "400ms"
rescan = "2s"
`, filepath.Join(dir, "state"), filepath.Join(dir, "out"), s.BaseURL, apiExtra, inbox)
}

// Drop modes: how a producer delivers a file.
type Drop int

// The ways files arrive.
const (
	InPlace   Drop = iota // written directly under its final name
	RenamedIn             // written elsewhere on the same file system, renamed in
	Trickled              // written in chunks over a while under its final name
	NewFolder             // written in place inside freshly created nested folders
)

// Dropped is a file the test put into the inbox.
type Dropped struct {
	samples.File
	Path string // where it ended up
}

// DropAll delivers files into inbox, cycling through the drop modes, and
// returns where each landed. Trickled files are finished before it returns.
func DropAll(tb testing.TB, inbox, staging string, files []samples.File) []Dropped {
	tb.Helper()
	out := make([]Dropped, 0, len(files))
	done := make(chan error, len(files))
	trickling := 0
	for i, f := range files {
		mode := Drop(i % 4)
		dir := inbox
		if mode == NewFolder {
			dir = filepath.Join(inbox, fmt.Sprintf("batch-%03d", i), "nested")
			if err := os.MkdirAll(dir, 0o755); err != nil {
				tb.Fatal(err)
			}
		}
		path := filepath.Join(dir, f.Name)
		out = append(out, Dropped{File: f, Path: path})
		var err error
		switch mode {
		case InPlace, NewFolder:
			err = os.WriteFile(path, f.Content, 0o644)
		case RenamedIn:
			tmp := filepath.Join(staging, fmt.Sprintf("%d.tmp", i))
			if err = os.WriteFile(tmp, f.Content, 0o644); err == nil {
				err = os.Rename(tmp, path)
			}
		case Trickled:
			trickling++
			go func() { done <- trickle(path, f.Content) }()
		}
		if err != nil {
			tb.Fatal(err)
		}
	}
	for range trickling {
		if err := <-done; err != nil {
			tb.Fatal(err)
		}
	}
	return out
}

// trickle writes content in four chunks with pauses, as a slow network
// copy does; the settle step must wait for the last one.
func trickle(path string, content []byte) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	step := (len(content) + 3) / 4
	for off := 0; off < len(content); off += step {
		end := min(off+step, len(content))
		if _, err := f.Write(content[off:end]); err != nil {
			f.Close()
			return err
		}
		// The pause is the scenario (a slow producer), not synchronisation.
		time.Sleep(40 * time.Millisecond)
	}
	return f.Close()
}

// BucketConfig is Config with a bucket source at url instead of the
// folder source, listed every 300ms with a settle of 400ms.
func (s *Sim) BucketConfig(dir, url, apiExtra string) string {
	c := s.Config(dir, "/unused", apiExtra)
	folder := c[strings.Index(c, "[[source]]"):]
	return strings.Replace(c, folder, fmt.Sprintf(`[[source]]
name   = "bucket"
url    = %q
settle = "400ms"
poll_interval = "300ms"
`, url), 1)
}

// DropObjects puts files into b under its prefix, every fourth one under
// nested "folders", and returns where each landed (Path is the object's
// path as the documents CSV shows it).
func DropObjects(tb testing.TB, b *bucket.Bucket, files []samples.File) []Dropped {
	tb.Helper()
	out := make([]Dropped, 0, len(files))
	for i, f := range files {
		key := b.Prefix + f.Name
		if i%4 == 3 {
			key = fmt.Sprintf("%sbatch-%03d/nested/%s", b.Prefix, i, f.Name)
		}
		if err := b.Blob().WriteAll(context.Background(), key, f.Content, nil); err != nil {
			tb.Fatalf("put %s: %v", key, err)
		}
		out = append(out, Dropped{File: f, Path: b.PathOf(key)})
	}
	return out
}
