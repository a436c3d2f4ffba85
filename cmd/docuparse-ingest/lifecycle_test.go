package main

import (
	"context"
	"fmt"
	"github.com/docuparse/docuparse-ingest/internal/testwait"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/docuparse/docuparse-ingest/internal/config"
	"github.com/docuparse/docuparse-ingest/internal/e2e"
	"github.com/docuparse/docuparse-ingest/internal/samples"
	"github.com/docuparse/docuparse-ingest/internal/sim"
	"github.com/docuparse/docuparse-ingest/internal/store"
)

// notifySocket is a fake systemd notification socket.
type notifySocket struct {
	path string
	conn *net.UnixConn
	msgs chan string
}

func newNotifySocket(t *testing.T) *notifySocket {
	t.Helper()
	dir, err := os.MkdirTemp("", "sd") // short: socket paths are limited to ~100 bytes
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	ns := &notifySocket{path: filepath.Join(dir, "notify"), msgs: make(chan string, 64)}
	ns.conn, err = net.ListenUnixgram("unixgram", &net.UnixAddr{Name: ns.path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ns.conn.Close() })
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := ns.conn.Read(buf)
			if err != nil {
				close(ns.msgs)
				return
			}
			ns.msgs <- string(buf[:n])
		}
	}()
	return ns
}

// expect waits for a notification containing want.
func (ns *notifySocket) expect(t *testing.T, want string) {
	t.Helper()
	deadline := time.After(60 * time.Second)
	for {
		select {
		case m := <-ns.msgs:
			if strings.Contains(m, want) {
				return
			}
		case <-deadline:
			t.Fatalf("no %q notification", want)
		}
	}
}

type lifecycleRig struct {
	dir, inbox, staging, cfgPath string
	sim                          *e2e.Sim
}

func newLifecycleRig(t *testing.T, simCfg sim.Config) *lifecycleRig {
	t.Helper()
	r := &lifecycleRig{dir: t.TempDir()}
	r.inbox, r.staging = filepath.Join(r.dir, "inbox"), filepath.Join(r.dir, "staging")
	for _, d := range []string{r.inbox, r.staging} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	r.sim = e2e.StartSim(t, simCfg)
	r.cfgPath = filepath.Join(r.dir, "config.toml")
	r.writeConfig(t, r.sim.Config(r.dir, r.inbox, ""))
	return r
}

func (r *lifecycleRig) writeConfig(t *testing.T, text string) {
	t.Helper()
	if err := os.WriteFile(r.cfgPath, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}

func (r *lifecycleRig) start(t *testing.T, env ...string) *proc {
	t.Helper()
	p := startBinary(t, r.cfgPath, env...)
	r.sim.SetWebhookURL("http://" + p.receiverAddr(t) + "/webhooks/docuparse")
	return p
}

// waitDone waits until every file has ended (exported or vanished),
// checking the store whenever the daemon logs.
func (r *lifecycleRig) waitDone(t *testing.T, p *proc, n int) {
	t.Helper()
	st, err := store.Open(context.Background(), filepath.Join(r.dir, "state", config.StateFile), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	deadline := time.Now().Add(90 * time.Second)
	for {
		status, err := st.Status(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if status.Counts[store.StateExported]+status.Counts[store.StateVanished] == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not done: %v", status.Counts)
		}
		select {
		case <-p.lines:
		case <-time.After(time.Second):
		case err := <-p.exited:
			t.Fatalf("daemon exited: %v", err)
		}
	}
}

func (p *proc) signalAndWait(t *testing.T, sig syscall.Signal) error {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.exited:
		return err
	case <-time.After(60 * time.Second):
		t.Fatalf("daemon did not exit after %v", sig)
	}
	return nil
}

func TestReadyAndStoppingAreSentToSystemd(t *testing.T) {
	r := newLifecycleRig(t, sim.Config{})
	ns := newNotifySocket(t)
	p := r.start(t, "NOTIFY_SOCKET="+ns.path)
	ns.expect(t, "READY=1")
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	ns.expect(t, "STOPPING=1")
	if err := <-p.exited; err != nil {
		t.Fatalf("exit after SIGTERM: %v", err)
	}
}

func TestSIGTERMDuringAnUploadLosesAndDuplicatesNothing(t *testing.T) {
	for _, tc := range []struct {
		name    string
		signals []syscall.Signal
	}{
		{"one SIGTERM lets the upload finish", []syscall.Signal{syscall.SIGTERM}},
		{"a second SIGTERM stops at once", []syscall.Signal{syscall.SIGTERM, syscall.SIGTERM}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newLifecycleRig(t, sim.Config{SubmitDelay: 1500 * time.Millisecond, TimeScale: 0.0005})
			p := r.start(t)
			files := e2e.DropAll(t, r.inbox, r.staging, samples.Generate(30, 13))
			p.waitLog(t, 1, func(m map[string]any) bool { return m["msg"] == "batch created" })
			for _, sig := range tc.signals {
				if err := p.cmd.Process.Signal(sig); err != nil {
					t.Fatal(err)
				}
				p.waitLog(t, 1, func(m map[string]any) bool {
					msg, _ := m["msg"].(string)
					return strings.HasPrefix(msg, "shutting down") || strings.HasPrefix(msg, "second signal")
				})
			}
			if err := <-p.exited; err != nil {
				t.Fatalf("exit: %v", err)
			}
			p2 := r.start(t)
			r.waitDone(t, p2, len(files))
			if err := p2.signalAndWait(t, syscall.SIGTERM); err != nil {
				t.Fatalf("exit: %v", err)
			}
			e2e.CheckOutputs(t, filepath.Join(r.dir, "out"), files, r.sim.Server)
		})
	}
}

func TestSIGHUPAppliesAGoodConfigAndRefusesABadOne(t *testing.T) {
	r := newLifecycleRig(t, sim.Config{})
	p := r.start(t)
	second := filepath.Join(r.dir, "second")
	if err := os.MkdirAll(second, 0o755); err != nil {
		t.Fatal(err)
	}
	good := r.sim.Config(r.dir, r.inbox, "") + `
[[source]]
name   = "second"
path   = "` + second + `"
settle = "400ms"
`
	r.writeConfig(t, good)
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	p.waitLog(t, 1, func(m map[string]any) bool { return m["msg"] == "configuration reloaded" })
	f := samples.Demo()[0]
	if err := os.WriteFile(filepath.Join(second, f.Name), f.Content, 0o644); err != nil {
		t.Fatal(err)
	}
	r.waitDone(t, p, 1)

	r.writeConfig(t, strings.Replace(good, `max_wait  = "200ms"`, `max_wait  = "soon"`, 1))
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	p.waitLog(t, 1, func(m map[string]any) bool {
		msg, _ := m["msg"].(string)
		errText, _ := m["err"].(string)
		return strings.HasPrefix(msg, "reload refused") && strings.Contains(errText, "batch.max_wait")
	})
	// A reload validates like a start: the inbox again, through a symbolic
	// link, is refused naming both sources.
	alias := filepath.Join(r.dir, "alias")
	if err := os.Symlink(r.inbox, alias); err != nil {
		t.Fatal(err)
	}
	r.writeConfig(t, good+"[[source]]\nname = \"alias\"\npath = \""+alias+"\"\n")
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	p.waitLog(t, 1, func(m map[string]any) bool {
		msg, _ := m["msg"].(string)
		errText, _ := m["err"].(string)
		return strings.HasPrefix(msg, "reload refused") && strings.Contains(errText, "source[2].path") && strings.Contains(errText, "same folder as source[0].path")
	})
	// Still running on the old configuration: both folders still watched.
	g := samples.Demo()[1]
	if err := os.WriteFile(filepath.Join(r.inbox, g.Name), g.Content, 0o644); err != nil {
		t.Fatal(err)
	}
	r.waitDone(t, p, 2)
	if err := p.signalAndWait(t, syscall.SIGTERM); err != nil {
		t.Fatalf("exit: %v", err)
	}
}

// scrape reads /metrics and returns each sample's value by its metric name
// and sorted labels, e.g. `docuparse_documents{state="exported"}`.
func scrape(t *testing.T, base string) map[string]float64 {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/metrics: %s", resp.Status)
	}
	parser := expfmt.NewTextParser(model.LegacyValidation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("/metrics does not parse: %v", err)
	}
	out := map[string]float64{}
	for name, mf := range families {
		for _, m := range mf.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
			}
			key := name
			if len(labels) > 0 {
				key += "{" + strings.Join(labels, ",") + "}"
			}
			switch {
			case m.GetCounter() != nil:
				out[key] = m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				out[key] = m.GetGauge().GetValue()
			case m.GetHistogram() != nil:
				out[key+"_count"] = float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return out
}

func TestMetricsParseAndMoveAsDocumentsFlow(t *testing.T) {
	r := newLifecycleRig(t, sim.Config{})
	r.writeConfig(t, strings.Replace(r.sim.Config(r.dir, r.inbox, ""), "[admin]\nlisten = \"\"", "[admin]\nlisten = \"127.0.0.1:0\"", 1))
	p := startBinary(t, r.cfgPath)
	var adminAddr string
	p.waitLog(t, 1, func(m map[string]any) bool {
		if m["msg"] == "admin listening" {
			adminAddr, _ = m["addr"].(string)
			return true
		}
		return false
	})
	// The admin listener starts before the sources are watched, and
	// /readyz is rightly 503 until they are: the daemon is "running" once
	// its folders' watchers started, and each folder is watched once its
	// first listing is done ("source listed"), which runs on the
	// watcher's goroutine, in either order. Probe after both.
	p.waitLog(t, 2, func(m map[string]any) bool {
		return m["msg"] == "docuparse-ingest running" || m["msg"] == "source listed"
	})
	r.sim.SetWebhookURL("http://" + p.receiverAddr(t) + "/webhooks/docuparse")
	base := "http://" + adminAddr
	for _, path := range []string{"/healthz", "/readyz"} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %s", path, resp.Status)
		}
	}
	before := scrape(t, base)
	if before[`docuparse_documents{state="exported"}`] != 0 || before[`docuparse_store_up`] != 1 {
		t.Fatalf("before: exported %v, store_up %v", before[`docuparse_documents{state="exported"}`], before[`docuparse_store_up`])
	}
	files := e2e.DropAll(t, r.inbox, r.staging, samples.Demo())
	r.waitDone(t, p, len(files))
	// The counters move right after the store commits: scrape until the
	// last transition is counted.
	var after map[string]float64
	testwait.For(t, "the last transition to be counted", func() bool {
		after = scrape(t, base)
		return after[`docuparse_document_transitions_total{to="exported"}`] >= float64(len(files)) &&
			after[`docuparse_outputs_written_total{kind="documents_csv_rows"}`] >= float64(len(files))
	})
	for key, want := range map[string]float64{
		`docuparse_documents{state="exported"}`:                            float64(len(files)),
		`docuparse_document_transitions_total{to="exported"}`:              float64(len(files)),
		`docuparse_webhook_deliveries_total{outcome="ok"}`:                 float64(len(files)),
		`docuparse_api_requests_total{code="202",endpoint="submit_batch"}`: 1,
	} {
		if after[key] < want {
			t.Errorf("%s = %v, want at least %v", key, after[key], want)
		}
	}
	if after[`docuparse_outputs_written_total{kind="documents_csv_rows"}`] != float64(len(files)) {
		t.Errorf("rows written = %v, want %d", after[`docuparse_outputs_written_total{kind="documents_csv_rows"}`], len(files))
	}
	if err := p.signalAndWait(t, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
}

func TestSIGHUPDuringTheDrainDoesNotCutItShort(t *testing.T) {
	r := newLifecycleRig(t, sim.Config{SubmitDelay: 1500 * time.Millisecond, TimeScale: 0.0005})
	p := r.start(t)
	e2e.DropAll(t, r.inbox, r.staging, samples.Generate(10, 17))
	p.waitLog(t, 1, func(m map[string]any) bool { return m["msg"] == "batch created" })
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	p.waitLog(t, 1, func(m map[string]any) bool { return strings.HasPrefix(m["msg"].(string), "shutting down") })
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	p.waitLog(t, 1, func(m map[string]any) bool {
		if m["msg"] == "uploads drained" {
			if m["complete"] != true {
				t.Errorf("a SIGHUP during the drain cut it short: %v", m)
			}
			return true
		}
		return false
	})
	if err := <-p.exited; err != nil {
		t.Fatalf("exit: %v", err)
	}
}
