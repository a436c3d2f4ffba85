package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/config"
	"github.com/docuparse/docuparse-ingest/internal/daemon"
	"github.com/docuparse/docuparse-ingest/internal/docuparse"
	"github.com/docuparse/docuparse-ingest/internal/procs"
	"github.com/docuparse/docuparse-ingest/internal/safetext"
	"github.com/docuparse/docuparse-ingest/internal/samples"
	"github.com/docuparse/docuparse-ingest/internal/sim"
	"github.com/docuparse/docuparse-ingest/internal/statelock"
	"github.com/docuparse/docuparse-ingest/internal/store"
)

// demoMarker marks a folder as made by the demo, so a later demo may wipe
// it and nothing else is ever deleted.
const demoMarker = ".docuparse-demo"

const demoConfig = `# Written by 'docuparse-ingest demo'. The API is an in-process simulator;
# the secrets are random and live only as long as the demo.
state_dir  = "state"
output_dir = "out"

[api]
base_url     = %q
batch_upload = true
concurrency  = 4
rate_limit   = 0

[batch]
max_files = 50
max_wait  = "1s"

[receiver]
listen = "127.0.0.1:0"
path   = "/webhooks/docuparse"

[report]
timezone = "Local"

[admin]
listen = ""

[[source]]
name   = "inbox"
path   = %q
settle = "300ms"
rescan = "10s"
`

func (m *Main) runDemo(ctx context.Context, args []string) error {
	fs := m.newFlags("demo")
	dir := fs.String("dir", "docuparse-demo", "folder to create the demo in (an earlier demo's folder starts afresh: its results are removed)")
	once := fs.Bool("once", false, "exit when the sample documents are done")
	delay := fs.Duration("processing-delay", 400*time.Millisecond, "simulated extraction time per document")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	root, lock, wiped, err := prepareDemoDir(*dir)
	if err != nil {
		return err
	}
	defer lock.Release() // also released by the daemon when it stops; safe twice
	if wiped {
		fmt.Fprintf(m.Stdout, "Starting afresh: removed the earlier demo's inbox, results and state in %s\n", safetext.Visible(root))
	}
	logFile, err := os.Create(filepath.Join(root, "daemon.log"))
	if err != nil {
		return err
	}
	defer logFile.Close()
	log := slog.New(slog.NewTextHandler(logFile, &slog.HandlerOptions{Level: slog.LevelDebug}))

	apiKey, secret := "dex_demo_"+randomHex(12), "whsec_demo_"+randomHex(16)
	simulator, baseURL, stopSim, err := startDemoSim(sim.Config{APIKey: apiKey, WebhookSecret: []byte(secret), ProcessingDelay: *delay,
		Logger: log.With("component", "simulator")})
	if err != nil {
		return err
	}
	defer stopSim()
	cfg, err := writeDemoConfig(root, baseURL, apiKey, secret)
	if err != nil {
		return err
	}

	files := samples.Demo()
	p := &demoPrinter{w: m.Stdout, samples: map[string]bool{}, done: make(chan struct{})}
	for _, f := range files {
		p.samples[filepath.Join(cfg.Sources[0].Path, f.Name)] = true
	}
	p.left = len(files)
	procs.ReserveWriterProc()
	d, err := daemon.New(ctx, cfg, daemon.Options{Logger: log, OnTransition: p.transition, StateLock: lock})
	if err != nil {
		return err
	}
	p.store = d.Store()
	simulator.SetWebhookURL("http://" + d.ReceiverAddr() + cfg.Receiver.Path)
	if err := d.Start(ctx); err != nil {
		d.Stop()
		return err
	}
	defer d.Stop()

	fmt.Fprintf(m.Stdout, "docuparse-ingest demo in %s\n", root)
	fmt.Fprintf(m.Stdout, "  simulated DocuParse API  %s\n", cfg.API.BaseURL)
	fmt.Fprintf(m.Stdout, "  webhook receiver         http://%s%s\n", d.ReceiverAddr(), cfg.Receiver.Path)
	fmt.Fprintf(m.Stdout, "  dropping %d sample documents into %s\n\n", len(files), cfg.Sources[0].Path)
	if err := dropFiles(cfg.Sources[0].Path, files); err != nil {
		return err
	}
	return m.demoWait(ctx, p, cfg, logFile.Name(), *once)
}

// demoWait waits for the samples, prints where the results are and, unless
// once, keeps watching until ctx ends; an interrupt says the demo stopped.
func (m *Main) demoWait(ctx context.Context, p *demoPrinter, cfg *config.Config, logName string, once bool) error {
	select {
	case <-p.done:
	case <-ctx.Done():
		fmt.Fprintf(m.Stdout, "\nStopped before every sample was done; the results so far are in %s.\n", cfg.OutputDir)
		return nil
	}
	out := cfg.OutputDir
	fmt.Fprintf(m.Stdout, "\nAll %d samples accounted for. Results:\n", len(samples.Demo()))
	fmt.Fprintf(m.Stdout, "  JSON per document  %s\n", filepath.Join(out, "results"))
	fmt.Fprintf(m.Stdout, "  CSV                %s\n", filepath.Join(out, "csv"))
	fmt.Fprintf(m.Stdout, "  daemon log         %s\n", logName)
	if once {
		return nil
	}
	fmt.Fprintf(m.Stdout, "\nStill watching: drop a PDF or CSV into %s to process it. Ctrl-C to stop.\n", cfg.Sources[0].Path)
	<-ctx.Done()
	fmt.Fprintf(m.Stdout, "\nStopped. The results stay in %s until the next demo in this folder.\n", out)
	return nil
}

// startDemoSim serves the simulator on a loopback port and returns it, its
// base URL and a function that stops it.
func startDemoSim(c sim.Config) (*sim.Server, string, func(), error) {
	simulator, err := sim.New(c)
	if err != nil {
		return nil, "", nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", nil, fmt.Errorf("simulator: %w", err)
	}
	simCtx, stopSim := context.WithCancel(context.Background())
	simDone := make(chan error, 1)
	go func() { simDone <- simulator.Serve(simCtx, ln) }()
	simulator.Start(simCtx)
	return simulator, "http://" + ln.Addr().String() + "/api/v1", func() {
		simulator.Stop()
		stopSim()
		<-simDone
	}, nil
}

// writeDemoConfig writes the demo's config.toml into root and loads it with
// the demo's secrets.
func writeDemoConfig(root, baseURL, apiKey, secret string) (*config.Config, error) {
	cfgPath := filepath.Join(root, "config.toml")
	cfgText := fmt.Sprintf(demoConfig, baseURL, filepath.Join(root, "inbox"))
	if err := os.WriteFile(cfgPath, []byte(cfgText), 0o600); err != nil {
		return nil, err
	}
	return config.Load(cfgPath, func(k string) string {
		switch k {
		case config.EnvAPIKey:
			return apiKey
		case config.EnvWebhookSecret:
			return secret
		}
		return ""
	})
}

// prepareDemoDir returns the absolute demo folder, fresh: created, or
// emptied if an earlier demo made it (wiped), and the lock on its state
// folder. Any
// other non-empty folder is left untouched and refused, and so is a folder
// whose demo is still running (it holds the lock): a second demo must not
// wipe the first one's state and outputs.
func prepareDemoDir(dir string) (root string, lock *statelock.Lock, wiped bool, err error) {
	root, err = filepath.Abs(dir)
	if err != nil {
		return "", nil, false, err
	}
	entries, err := os.ReadDir(root)
	switch {
	case errors.Is(err, os.ErrNotExist), err == nil && len(entries) == 0:
	case err != nil:
		return "", nil, false, err
	default:
		if _, err := os.Stat(filepath.Join(root, demoMarker)); err != nil {
			return "", nil, false, fmt.Errorf("%s exists and was not made by the demo; choose another --dir", root)
		}
		wiped = true
	}
	state := filepath.Join(root, "state")
	if err := os.MkdirAll(state, 0o755); err != nil {
		return "", nil, false, err
	}
	lock, err = statelock.Acquire(state)
	if err != nil {
		return "", nil, false, err
	}
	// Everything an earlier demo left goes, except the lock file this
	// demo now holds.
	err = removeAllExcept(root, "state")
	if err == nil {
		err = removeAllExcept(state, statelock.FileName)
	}
	for _, sub := range []string{"inbox", "out"} {
		if err == nil {
			err = os.MkdirAll(filepath.Join(root, sub), 0o755)
		}
	}
	if err == nil {
		err = os.WriteFile(filepath.Join(root, demoMarker), []byte("made by docuparse-ingest demo\n"), 0o644)
	}
	if err != nil {
		_ = lock.Release()
		return "", nil, false, err
	}
	return root, lock, wiped, nil
}

// removeAllExcept removes everything in dir but the entry named keep.
func removeAllExcept(dir, keep string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.Name() == keep {
			continue
		}
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			return err
		}
	}
	return nil
}

// dropFiles writes each file under a hidden temporary name and renames it
// into place, the way a careful scanner or mail rule delivers.
func dropFiles(inbox string, files []samples.File) error {
	for _, f := range files {
		tmp := filepath.Join(inbox, ".incoming-"+randomHex(4))
		if err := os.WriteFile(tmp, f.Content, 0o644); err != nil {
			return err
		}
		if err := os.Rename(tmp, filepath.Join(inbox, f.Name)); err != nil {
			return err
		}
	}
	return nil
}

// demoPrinter prints one line per document transition and closes done once
// every sample is exported (or ended without a row).
type demoPrinter struct {
	w       io.Writer
	store   *store.Store
	mu      sync.Mutex
	samples map[string]bool
	left    int
	done    chan struct{}
}

func (p *demoPrinter) transition(t store.Transition) {
	p.mu.Lock()
	defer p.mu.Unlock()
	name := filepath.Base(t.Path)
	detail := ""
	switch t.To {
	case store.StateSubmitting:
		return
	case store.StateSubmitted:
		detail = t.DocumentID
	case store.StateCompleted:
		detail = p.summary(t.DocID)
	case store.StateDuplicate:
		detail = p.original(t.DuplicateOf)
	case store.StateFailed, store.StateRejected, store.StateVanished:
		detail = t.Reason
	case store.StateExported:
		detail = "row written"
	case store.StateQueued:
		t.To = "discovered"
	}
	fmt.Fprintf(p.w, "  %-10s  %-44s %s\n", t.To, clipName(safetext.Visible(name), 44), safetext.Visible(detail))
	terminal := t.To == store.StateExported || t.To == store.StateVanished
	if terminal && p.samples[t.Path] {
		delete(p.samples, t.Path)
		p.left--
		if p.left == 0 {
			close(p.done)
		}
	}
}

func (p *demoPrinter) summary(id int64) string {
	d, err := p.store.Get(context.Background(), id)
	if err != nil || len(d.Result) == 0 {
		return ""
	}
	var data docuparse.Data
	if json.Unmarshal(d.Result, &data) != nil {
		return ""
	}
	return strings.TrimSpace(fmt.Sprintf("%s %s %s", data.Merchant, data.Total, data.Currency))
}

// original names the file a duplicate has the same content as.
func (p *demoPrinter) original(id int64) string {
	d, err := p.store.Get(context.Background(), id)
	if err != nil {
		return ""
	}
	return "same content as " + filepath.Base(d.Path)
}

func clipName(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
