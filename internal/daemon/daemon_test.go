package daemon_test

import (
	"context"
	"github.com/docuparse/docuparse-ingest/internal/testwait"
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

type harness struct {
	dir, inbox, staging string
	sim                 *e2e.Sim
	cfg                 *config.Config
	tr                  *e2e.Tracker
}

func newHarness(t *testing.T, simCfg sim.Config, apiExtra string) *harness {
	t.Helper()
	h := &harness{dir: t.TempDir(), tr: e2e.NewTracker()}
	h.inbox = filepath.Join(h.dir, "inbox")
	h.staging = filepath.Join(h.dir, "staging")
	for _, d := range []string{h.inbox, h.staging} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	h.sim = e2e.StartSim(t, simCfg)
	cfg, err := config.Parse(strings.NewReader(h.sim.Config(h.dir, h.inbox, apiExtra)), "e2e.toml", e2e.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	h.cfg = cfg
	return h
}

// start runs a daemon on the harness; it is stopped at test end if the
// test does not stop it first.
func (h *harness) start(t *testing.T) *daemon.Daemon {
	t.Helper()
	d, err := daemon.New(context.Background(), h.cfg, daemon.Options{OnTransition: h.tr.Observe, SubmitBackoff: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if addr := d.ReceiverAddr(); addr != "" {
		h.sim.SetWebhookURL("http://" + addr + h.cfg.Receiver.Path)
	} else {
		h.sim.SetWebhookURL("")
	}
	if err := d.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Stop)
	return d
}

func TestEveryDroppedFileEndsWithExactlyOneRowAndOneResult(t *testing.T) {
	for _, tc := range []struct {
		name     string
		apiExtra string
	}{
		{"with batch upload", "batch_upload = true"},
		{"with one upload per file", "batch_upload = false"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, sim.Config{WebhookDuplicateRate: 0.2, WebhookReorder: 20 * time.Millisecond, Seed: 7}, tc.apiExtra)
			d := h.start(t)
			files := e2e.DropAll(t, h.inbox, h.staging, samples.Generate(200, 42))
			h.tr.WaitFor(t, "all 200 files exported", 90*time.Second, h.tr.AllEnded(files))
			e2e.CheckOutputs(t, h.cfg.OutputDir, files, h.sim.Server)
			if tc.apiExtra == "batch_upload = true" {
				checkBatches(t, d)
			}
		})
	}
}

func TestStopMidRunThenRestartLosesAndDuplicatesNothing(t *testing.T) {
	t.Parallel()
	h := newHarness(t, sim.Config{ProcessingDelay: 300 * time.Millisecond, TimeScale: 0.0005, Seed: 3}, "")
	d := h.start(t)
	files := e2e.DropAll(t, h.inbox, h.staging, samples.Generate(100, 9))
	h.tr.WaitFor(t, "some submissions", 60*time.Second, func() bool { return h.tr.Count(store.StateSubmitted) >= 25 })
	d.Stop() // mid-run: documents queued, submitting, submitted and done
	h.start(t)
	h.tr.WaitFor(t, "all files exported after restart", 90*time.Second, h.tr.AllEnded(files))
	e2e.CheckOutputs(t, h.cfg.OutputDir, files, h.sim.Server)
}

func TestSameContentIsADuplicateRowNotASecondUpload(t *testing.T) {
	t.Parallel()
	h := newHarness(t, sim.Config{}, "")
	h.start(t)
	f := samples.Demo()[0]
	first := filepath.Join(h.inbox, f.Name)
	if err := os.WriteFile(first, f.Content, 0o644); err != nil {
		t.Fatal(err)
	}
	h.tr.WaitFor(t, "original exported", 30*time.Second, func() bool { return h.tr.Ended(first) })
	copyPath := filepath.Join(h.inbox, "copy of "+f.Name)
	if err := os.WriteFile(copyPath, f.Content, 0o644); err != nil {
		t.Fatal(err)
	}
	h.tr.WaitFor(t, "copy exported", 30*time.Second, func() bool { return h.tr.Ended(copyPath) })
	rows := e2e.ReadCSV(t, h.cfg.OutputDir, "documents-*.csv")
	if len(rows) != 2 || rows[1]["status"] != "duplicate" || rows[1]["document_id"] != rows[0]["document_id"] || rows[1]["total"] != "" {
		t.Fatalf("rows = %v, want the copy as a duplicate naming the original and no totals", rows)
	}
	if got := h.sim.Stats().DocumentsCreated; got != 1 {
		t.Fatalf("simulator created %d documents, want 1", got)
	}
}

func TestLostWebhooksAreRecoveredByPolling(t *testing.T) {
	for _, tc := range []struct {
		name     string
		simCfg   sim.Config
		receiver bool
		apiExtra string
	}{
		{"with 30% of webhooks dropped", sim.Config{WebhookDropRate: 0.3, Seed: 5}, true, "batch_upload = false"},
		{"with the receiver off", sim.Config{}, false, "batch_upload = false"},
		{"with the receiver off and batch upload", sim.Config{ProcessingDelay: 500 * time.Millisecond}, false, "batch_upload = true"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, tc.simCfg, tc.apiExtra)
			h.cfg.Reconcile.WebhookGrace = config.Duration(time.Second)
			h.cfg.Reconcile.PollInterval = config.Duration(200 * time.Millisecond)
			h.cfg.Receiver.Enabled = tc.receiver
			h.start(t)
			files := e2e.DropAll(t, h.inbox, h.staging, samples.Generate(60, 21))
			h.tr.WaitFor(t, "all files exported", 90*time.Second, h.tr.AllEnded(files))
			e2e.CheckOutputs(t, h.cfg.OutputDir, files, h.sim.Server)
			polled := 0
			for _, r := range e2e.ReadCSV(t, h.cfg.OutputDir, "documents-*.csv") {
				if r["result_via"] == "poll" {
					polled++
				}
			}
			st := h.sim.Stats()
			want := st.WebhooksDropped
			if !tc.receiver {
				want = len(files)
			}
			// Every lost webhook's result comes by polling. A delivered one may
			// too: on a loaded machine it can arrive after webhook_grace, when
			// the poll has already recorded the result (it is then a duplicate).
			if polled < want || (tc.receiver && polled == len(files)) {
				t.Fatalf("%d of %d results came by polling, want the %d whose webhooks were lost, and (receiver on) not all", polled, len(files), want)
			}
			if want == 0 {
				t.Fatal("the fault injection dropped nothing; the test proves nothing")
			}
			calls := 0
			for endpoint, byStatus := range st.Requests {
				if strings.HasPrefix(endpoint, "GET") {
					for _, n := range byStatus {
						calls += n
					}
				}
			}
			t.Logf("%s: %d GET calls for %d documents (%.2f per document)", tc.name, calls, len(files), float64(calls)/float64(len(files)))
			if calls > 3*len(files) {
				t.Fatalf("%d polling calls for %d documents: backoff is not working", calls, len(files))
			}
		})
	}
}

// checkBatches waits until every batch's batch.completed summary has been
// checked against the daemon's own counts, and requires them all to match.
func checkBatches(t *testing.T, d *daemon.Daemon) {
	t.Helper()
	ctx := context.Background()
	var checks []store.BatchCheck
	testwait.For(t, "every submitted batch to be checked", func() bool {
		var err error
		if checks, err = d.Store().BatchChecks(ctx, false); err != nil {
			t.Fatal(err)
		}
		counts, err := d.Store().BatchCounts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return len(checks) == counts[store.BatchSubmitted]
	})
	for _, c := range checks {
		if c.Check != store.CheckMatch {
			t.Errorf("batch %s: %s", c.APIBatchID, c.Check)
		}
	}
}
