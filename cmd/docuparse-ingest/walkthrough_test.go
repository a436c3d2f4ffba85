package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/config"
	"github.com/docuparse/docuparse-ingest/internal/daemon"
	"github.com/docuparse/docuparse-ingest/internal/e2e"
	"github.com/docuparse/docuparse-ingest/internal/health"
	"github.com/docuparse/docuparse-ingest/internal/samples"
	"github.com/docuparse/docuparse-ingest/internal/sim"
	"github.com/docuparse/docuparse-ingest/internal/store"
)

// walk is the operator walk-through: a real daemon against the simulator,
// its admin listener, and the real status command.
type walk struct {
	*lifecycleRig
	d       *daemon.Daemon
	tr      *e2e.Tracker
	admin   string
	dropped int
}

// until polls cond (every 20 ms, for at most a minute) until it holds.
func until(t *testing.T, what string, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(time.Minute)
	for !cond() {
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// readyz returns /readyz's status code and body.
func (w *walk) readyz(t *testing.T) (int, string) {
	t.Helper()
	resp, err := http.Get("http://" + w.admin + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// status runs the real status command, as JSON and as text.
func (w *walk) status(t *testing.T) (statusJSON, string) {
	t.Helper()
	out, errOut, err := run(t, nil, "", "status", "--config", w.cfgPath, "--json")
	if err != nil {
		t.Fatalf("status --json: %v\n%s", err, errOut)
	}
	var s statusJSON
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatalf("status --json: %v\n%s", err, out)
	}
	text, errOut, err := run(t, nil, "", "status", "--config", w.cfgPath)
	if err != nil {
		t.Fatalf("status: %v\n%s", err, errOut)
	}
	return s, text
}

// drop drops one more sample into the inbox.
func (w *walk) drop(t *testing.T) {
	t.Helper()
	f := samples.Demo()[0]
	w.dropped++
	f.Name = strings.Replace(f.Name, ".", "-"+string(rune('a'+w.dropped))+".", 1)
	f.Content = append(append([]byte(nil), f.Content...), byte(w.dropped))
	e2e.DropAll(t, w.inbox, w.staging, []samples.File{f})
}

// exported waits until n documents are exported.
func (w *walk) exported(t *testing.T, n int) {
	t.Helper()
	w.tr.WaitFor(t, "documents exported", time.Minute, func() bool { return w.tr.Count(store.StateExported) >= n })
}

// expectProblem waits until /readyz is 503 naming check and saying want,
// then checks that status (text and JSON) and /metrics show the problem.
func (w *walk) expectProblem(t *testing.T, check, what, want string) {
	t.Helper()
	var body string
	until(t, "/readyz failing "+check, func() bool {
		code, b := w.readyz(t)
		body = b
		return code == http.StatusServiceUnavailable && strings.Contains(b, check+": ") && strings.Contains(b, want)
	})
	if !strings.Contains(body, "fix: ") {
		t.Errorf("/readyz does not say the fix:\n%s", body)
	}
	s, text := w.status(t)
	var p *health.Problem
	for i := range s.Problems {
		if s.Problems[i].What == what {
			p = &s.Problems[i]
		}
	}
	if p == nil || p.Since.IsZero() || p.Fix == "" || !strings.Contains(p.Detail, want) {
		t.Errorf("status --json problems = %+v, want %s since a time, with %q and a fix", s.Problems, what, want)
	}
	if !strings.Contains(text, what+" since ") || !strings.Contains(text, "fix: ") {
		t.Errorf("status does not show %s and its fix:\n%s", what, text)
	}
	if m := scrape(t, "http://"+w.admin); m[`docuparse_problem{what="`+what+`"}`] != 1 {
		t.Errorf("docuparse_problem{what=%q} = %v, want 1", what, m[`docuparse_problem{what="`+what+`"}`])
	}
}

// expectFine waits until /readyz is 200 again, and checks that status and
// /metrics show no problem.
func (w *walk) expectFine(t *testing.T) {
	t.Helper()
	until(t, "/readyz ready", func() bool { code, _ := w.readyz(t); return code == http.StatusOK })
	s, text := w.status(t)
	if len(s.Problems) != 0 || !strings.Contains(text, "problems: none") {
		t.Errorf("status shows problems after the fix: %+v\n%s", s.Problems, text)
	}
	m := scrape(t, "http://"+w.admin)
	for _, what := range []string{health.APIUnreachable, health.APIKey, health.Export} {
		if v := m[`docuparse_problem{what="`+what+`"}`]; v != 0 {
			t.Errorf("docuparse_problem{what=%q} = %v after the fix", what, v)
		}
	}
}

func startWalk(t *testing.T) *walk {
	t.Helper()
	w := &walk{lifecycleRig: newLifecycleRig(t, sim.Config{}), tr: e2e.NewTracker()}
	w.writeConfig(t, strings.Replace(w.sim.Config(w.dir, w.inbox, ""), "[admin]\nlisten = \"\"", "[admin]\nlisten = \"127.0.0.1:0\"", 1))
	cfg, err := config.Load(w.cfgPath, e2e.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	w.d, err = daemon.New(context.Background(), cfg, daemon.Options{OnTransition: w.tr.Observe,
		SubmitBackoff: 50 * time.Millisecond, AuthRetry: 50 * time.Millisecond, ExportHoldRetry: 50 * time.Millisecond, APIUnreachableAfter: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.d.Stop)
	if err := w.d.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	w.admin = w.d.AdminAddr()
	w.sim.SetWebhookURL("http://" + w.d.ReceiverAddr() + "/webhooks/docuparse")
	return w
}

// The operator walk-through of issue 11: each failure an on-call engineer
// must be told about shows in /readyz, status and /metrics, saying which
// and what to do, and each clears once fixed.
func TestOperatorWalkThroughStatusReadyzAndMetricsTellTheTruth(t *testing.T) {
	w := startWalk(t)

	// Files flow: ready, no problem, the success times set.
	files := e2e.DropAll(t, w.inbox, w.staging, samples.Demo())
	w.exported(t, len(files))
	w.expectFine(t)
	m := scrape(t, "http://"+w.admin)
	if m["docuparse_submit_last_success_timestamp_seconds"] == 0 || m["docuparse_export_last_success_timestamp_seconds"] == 0 {
		t.Errorf("last successful submit %v, export %v: want both set", m["docuparse_submit_last_success_timestamp_seconds"],
			m["docuparse_export_last_success_timestamp_seconds"])
	}
	done := len(files)

	// The API goes away.
	if err := w.sim.SetFaults(sim.Faults{Down: true}); err != nil {
		t.Fatal(err)
	}
	w.drop(t)
	w.expectProblem(t, "api", health.APIUnreachable, "every API request has failed")
	if err := w.sim.SetFaults(sim.Faults{}); err != nil {
		t.Fatal(err)
	}
	done++
	w.exported(t, done)
	w.expectFine(t)

	// The API key is revoked.
	if err := w.sim.SetFaults(sim.Faults{RevokeKey: true}); err != nil {
		t.Fatal(err)
	}
	w.drop(t)
	w.expectProblem(t, "api_key", health.APIKey, "HTTP 401")
	if s, _ := w.status(t); !strings.Contains(s.Problems[0].Fix, "DOCUPARSE_API_KEY") {
		t.Errorf("the api_key fix does not name DOCUPARSE_API_KEY: %q", s.Problems[0].Fix)
	}
	if err := w.sim.SetFaults(sim.Faults{}); err != nil {
		t.Fatal(err)
	}
	done++
	w.exported(t, done)
	w.expectFine(t)

	// The output folder becomes unwritable: its csv folder is a file.
	csvDir := filepath.Join(w.dir, "out", "csv")
	if err := os.Rename(csvDir, csvDir+".aside"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(csvDir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	before := scrape(t, "http://"+w.admin)["docuparse_export_errors_total"]
	w.drop(t)
	w.expectProblem(t, "export", health.Export, "held from export")
	if after := scrape(t, "http://"+w.admin)["docuparse_export_errors_total"]; after <= before {
		t.Errorf("docuparse_export_errors_total %v → %v: want it counted", before, after)
	}
	if err := os.Remove(csvDir); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(csvDir+".aside", csvDir); err != nil {
		t.Fatal(err)
	}
	done++
	w.exported(t, done)
	w.expectFine(t)

	// A shutdown while the key is refused does not wait for the uploads
	// that cannot succeed, and leaves no problem behind for status.
	if err := w.sim.SetFaults(sim.Faults{RevokeKey: true}); err != nil {
		t.Fatal(err)
	}
	w.drop(t)
	w.expectProblem(t, "api_key", health.APIKey, "HTTP 401")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	w.d.Shutdown(ctx)
	if ctx.Err() != nil {
		t.Error("the drain waited out its timeout for uploads refused for their key")
	}
	if s, _ := w.status(t); len(s.Problems) != 0 {
		t.Errorf("status after the daemon stopped: problems %+v", s.Problems)
	}
}
