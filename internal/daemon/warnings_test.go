package daemon_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/docuparse/docuparse-ingest/internal/daemon"
	"github.com/docuparse/docuparse-ingest/internal/sim"
	"github.com/docuparse/docuparse-ingest/internal/testlog"
)

// TestStartLogsAWarningForEachRiskySetting: an admin server on every
// interface and unsigned webhooks start (they are valid), and the start-up
// log names each key and its risk at WARN, once.
func TestStartLogsAWarningForEachRiskySetting(t *testing.T) {
	h := newHarness(t, sim.Config{}, "")
	h.cfg.Admin.Listen = "0.0.0.0:0"
	h.cfg.Receiver.AllowUnsigned = true
	log, buf := testlog.Logger(slog.LevelInfo)
	d, err := daemon.New(context.Background(), h.cfg, daemon.Options{Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	d.Stop()
	out := buf.String()
	for _, want := range []string{"admin.listen", "receiver.insecure_skip_verify"} {
		n := 0
		for _, line := range strings.Split(out, "\n") {
			if strings.Contains(line, "WARN") && strings.Contains(line, want+":") {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%d WARN lines name %s, want 1:\n%s", n, want, out)
		}
	}
	if !strings.Contains(out, "no authentication") || !strings.Contains(out, "forged results") {
		t.Errorf("the warnings do not say the risk:\n%s", out)
	}
}
