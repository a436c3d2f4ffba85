package daemon

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/docuparse/docuparse-ingest/internal/config"
	"github.com/docuparse/docuparse-ingest/internal/e2e"
	"github.com/docuparse/docuparse-ingest/internal/sim"
)

// recorded wraps a service and records its Start and Stop calls.
type recorded struct {
	service
	slot int
	mu   *sync.Mutex
	log  *[]string
}

func (r *recorded) note(what string) {
	r.mu.Lock()
	*r.log = append(*r.log, fmt.Sprintf("%s %d", what, r.slot))
	r.mu.Unlock()
}

func (r *recorded) Start(ctx context.Context) error { r.note("start"); return r.service.Start(ctx) }
func (r *recorded) Stop()                           { r.note("stop"); r.service.Stop() }

// newServicesDaemon builds a daemon with every optional part but the
// mirror: the webhook receiver and the admin listener.
func newServicesDaemon(t *testing.T) *Daemon {
	t.Helper()
	cfg := servicesConfig(t)
	cfg.Admin.Listen = "127.0.0.1:0"
	d, err := New(context.Background(), cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// servicesConfig returns the configuration of a daemon on a fresh inbox
// and the simulator.
func servicesConfig(t *testing.T) *config.Config {
	t.Helper()
	dir := t.TempDir()
	inbox := filepath.Join(dir, "inbox")
	if err := os.MkdirAll(inbox, 0o755); err != nil {
		t.Fatal(err)
	}
	s := e2e.StartSim(t, sim.Config{})
	cfg, err := config.Parse(strings.NewReader(s.Config(dir, inbox, "")), "services.toml", e2e.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// The daemon starts its services in slot order and stops them in reverse,
// each once however often Stop is called; and each service's own Stop is
// safe a second time.
func TestServicesStartInOrderAndStopInReverseOnce(t *testing.T) {
	d := newServicesDaemon(t)
	var mu sync.Mutex
	var log []string
	var want []string
	for i, s := range d.services {
		if s == nil {
			if i != slotMirror && i != slotPruner { // no output_url, no state.retention
				t.Errorf("slot %d is empty", i)
			}
			continue
		}
		d.services[i] = &recorded{service: s, slot: i, mu: &mu, log: &log}
		want = append(want, fmt.Sprintf("start %d", i))
	}
	for i := len(d.services) - 1; i >= 0; i-- {
		if d.services[i] != nil {
			want = append(want, fmt.Sprintf("stop %d", i))
		}
	}
	if err := d.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	d.Stop()
	d.Stop()
	mu.Lock()
	got := slices.Clone(log)
	mu.Unlock()
	if !slices.Equal(got, want) {
		t.Fatalf("calls = %v\nwant    %v", got, want)
	}
	for _, s := range d.services {
		if s != nil {
			s.(*recorded).service.Stop() // must return, and not panic
		}
	}
}

// A daemon built and never started stops cleanly: no last pass, the lock
// released, so another daemon can take the same state_dir.
func TestAServicesDaemonNeverStartedStopsAndReleasesItsState(t *testing.T) {
	d := newServicesDaemon(t)
	d.Stop()
	d2, err := New(context.Background(), d.cfg, Options{})
	if err != nil {
		t.Fatalf("a second daemon on the same state_dir after Stop: %v", err)
	}
	d2.Stop()
}

// The rules the start order keeps (services.go): in each pair, first
// starts before then, so it stops after it.
func TestTheStartOrderKeepsTheStopRules(t *testing.T) {
	for _, r := range []struct {
		first, then int
		rule        string
	}{
		{slotState, slotCounters, "the store closes after the last counter flush"},
		{slotState, slotListings, "the state closes last"},
		{slotCounters, slotReceiver, "the counters flush after the receiver has counted its last refusal"},
		{slotHealth, slotAdmin, "the problems file is removed after the last /readyz"},
		{slotMirror, slotExporter, "the mirror stops after the exporter's last pass"},
		{slotMirror, slotReporter, "the mirror stops after the last report"},
		{slotExporter, slotApplier, "the exporter's last pass follows the applier's"},
		{slotApplier, slotReceiver, "the applier's last pass follows the receiver's drain"},
		{slotApplier, slotPoller, "the applier's last pass follows the poller"},
		{slotApplier, slotSubmitter, "orphans queued again by the submitter's last answer are applied in the applier's last pass"},
		{slotExporter, slotSubmitter, "the exporter's last pass follows the submitter's ends"},
		{slotSubmitter, slotIntake, "intake stops before the submitter drains"},
		{slotIntake, slotSources, "the sources stop before intake"},
	} {
		if r.first >= r.then {
			t.Errorf("slot %d is not before slot %d: %s", r.first, r.then, r.rule)
		}
	}
}

// A daemon that cannot start names the configuration key at fault, once:
// an admin.listen address in use, an output_dir below a file.
func TestAStartFailureNamesTheKeyOnce(t *testing.T) {
	t.Run("admin.listen in use", func(t *testing.T) {
		busy, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer busy.Close()
		cfg := servicesConfig(t)
		cfg.Admin.Listen = busy.Addr().String()
		d, err := New(context.Background(), cfg, Options{})
		if err == nil {
			d.Stop()
			t.Fatal("a daemon started on an admin address in use")
		}
		if msg := err.Error(); strings.Count(msg, "admin.listen") != 1 || strings.Count(msg, "admin listener") > 1 || !strings.Contains(msg, busy.Addr().String()) {
			t.Errorf("error = %q: want admin.listen named once, the address, and no repeated prefix", msg)
		}
	})
	t.Run("output_dir below a file", func(t *testing.T) {
		cfg := servicesConfig(t)
		file := filepath.Join(t.TempDir(), "a-file")
		if err := os.WriteFile(file, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		cfg.OutputDir = filepath.Join(file, "out")
		d, err := New(context.Background(), cfg, Options{})
		if err == nil {
			d.Stop()
			t.Fatal("a daemon started with output_dir below a file")
		}
		if msg := err.Error(); !strings.HasPrefix(msg, "output_dir ") || strings.Count(msg, cfg.OutputDir) != 1 {
			t.Errorf("error = %q: want it to start with output_dir and name the path once", msg)
		}
	})
}
