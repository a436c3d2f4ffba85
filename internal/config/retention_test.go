package config

import (
	"testing"
	"time"
)

// [state] retention: 0 (the default) keeps everything; otherwise a Go
// duration like every other duration key, of at least a week and no
// shorter than the replay window; every refusal names the key.
func TestStateRetention(t *testing.T) {
	runHardening(t, []hardeningCase{
		{name: "90 days in hours is accepted",
			in: fragment{top: `state.retention = "2160h"`}},
		{name: "as a [state] table too",
			in: fragment{extra: "[state]\nretention = \"720h\""}},
		{name: "0 keeps everything",
			in: fragment{top: `state.retention = "0s"`}},
		{name: "a week is accepted",
			in: fragment{top: `state.retention = "168h"`}},
		{name: "days are not a duration unit here, as for every other key",
			in: fragment{top: `state.retention = "90d"`}, key: "state.retention", msg: `invalid duration "90d"`},
		{name: "a bare number is refused",
			in: fragment{top: `state.retention = 90`}, key: "state.retention"},
		{name: "less than a week is refused",
			in: fragment{top: `state.retention = "48h"`}, key: "state.retention", msg: "must be 0 (keep everything) or at least 168h"},
		{name: "a negative retention is refused",
			in: fragment{top: `state.retention = "-1h"`}, key: "state.retention", msg: "must be 0 (keep everything)"},
		{name: "a retention shorter than the replay window is refused",
			in:  fragment{top: "state.retention = \"200h\"\nreceiver.max_event_age = \"240h\""},
			key: "state.retention", msg: "must be at least receiver.max_event_age (240h0m0s)"},
		{name: "a retention table holding a value is refused",
			in: fragment{top: `state = "90d"`}, key: "state"},
	})
}

// The default is to keep everything.
func TestStateRetentionDefaultsToKeepingEverything(t *testing.T) {
	c := mustParse(t, minimal, withSecrets())
	if c.State.Retention != 0 {
		t.Errorf("state.retention = %s, want 0", c.State.Retention)
	}
	c = mustParse(t, minimal+"\n[state]\nretention = \"2160h\"\n", withSecrets())
	if c.State.Retention.D() != 90*24*time.Hour {
		t.Errorf("state.retention = %s, want 2160h", c.State.Retention)
	}
}
