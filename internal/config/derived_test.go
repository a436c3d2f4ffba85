package config

import (
	"path/filepath"
	"testing"
	"time"
)

// TestLayout: the output layout is output_dir with days counted in the
// report's time zone, for every part that writes or reads out/.
func TestLayout(t *testing.T) {
	c := mustParse(t, `output_dir = "/srv/out"
[report]
timezone = "Europe/Paris"
`+minimal, withSecrets())
	l := c.Layout()
	if l.Root != "/srv/out" {
		t.Errorf("Layout().Root = %q, want /srv/out", l.Root)
	}
	if l.Location == nil || l.Location.String() != "Europe/Paris" {
		t.Errorf("Layout().Location = %v, want Europe/Paris", l.Location)
	}
	// The day of an instant is the report's day, not UTC's.
	if got := l.Day(time.Date(2026, 11, 27, 23, 30, 0, 0, time.UTC)); got != "2026-11-28" {
		t.Errorf("Layout().Day(23:30 UTC) = %s, want 2026-11-28 in Paris", got)
	}
}

// TestPollGrace: a submitted document waits reconcile.webhook_grace for its
// webhook before it is polled, and not at all when no receiver listens.
func TestPollGrace(t *testing.T) {
	c := mustParse(t, "[reconcile]\nwebhook_grace = \"7m\"\n"+minimal, withSecrets())
	if got := c.PollGrace(); got != 7*time.Minute {
		t.Errorf("PollGrace() = %s, want 7m (reconcile.webhook_grace)", got)
	}
	c = mustParse(t, "[reconcile]\nwebhook_grace = \"7m\"\n[receiver]\nenabled = false\n"+minimal, env(map[string]string{EnvAPIKey: "k"}))
	if got := c.PollGrace(); got != 0 {
		t.Errorf("poll-only: PollGrace() = %s, want 0", got)
	}
}

// TestStatePath: the state database is StateFile in state_dir, for the
// daemon and for the commands that run beside it.
func TestStatePath(t *testing.T) {
	c := mustParse(t, "state_dir = \"/var/lib/x\"\n"+minimal, withSecrets())
	if got, want := c.StatePath(), filepath.Join("/var/lib/x", "state.db"); got != want {
		t.Errorf("StatePath() = %q, want %q", got, want)
	}
}
