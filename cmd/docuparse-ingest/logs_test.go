package main

import (
	"strings"
	"syscall"
	"testing"

	"github.com/docuparse/docuparse-ingest/internal/sim"
)

// TestSIGHUPThatChangesNothingIsAnInfoLine: a reload of the same file (or
// one changing only what a reload applies) succeeded and says so at INFO,
// not as a warning about changes that need a restart.
func TestSIGHUPThatChangesNothingIsAnInfoLine(t *testing.T) {
	r := newLifecycleRig(t, sim.Config{})
	p := r.start(t)
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	p.waitLog(t, 1, func(m map[string]any) bool {
		msg, _ := m["msg"].(string)
		if strings.Contains(msg, "reload") {
			got = m
			return true
		}
		return false
	})
	if got["level"] != "INFO" || got["msg"] != "configuration reloaded" {
		t.Errorf("reload of an unchanged configuration logged %v", got)
	}
	if err := p.signalAndWait(t, syscall.SIGTERM); err != nil {
		t.Fatalf("exit: %v", err)
	}
}
