package config

import (
	"path/filepath"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/output"
)

// Settings derived from more than one key, computed here once for the
// daemon and the commands that run beside it.
//
// config may import output: output is a leaf that knows nothing of the
// configuration (it imports only the API's wire types), so the import stays
// one-way. Settings of the parts that work on the store (ingest's batch
// limits, say) are assembled by internal/daemon instead, so that config
// never depends on the store.

// StateFile is the state database's name inside state_dir.
const StateFile = "state.db"

// StatePath is the state database's path: StateFile in state_dir.
func (c *Config) StatePath() string { return filepath.Join(c.StateDir, StateFile) }

// Layout is the output layout: output_dir, with days counted in the
// report's time zone (report.timezone), as the exporter, the reporter and
// the mirror all count them.
func (c *Config) Layout() output.Layout {
	return output.Layout{Root: c.OutputDir, Location: c.Report.Location()}
}

// PollGrace is how long a submitted document waits for its webhook before
// the poller asks the API: reconcile.webhook_grace, or 0 when the receiver
// is disabled (poll-only mode: no webhook will come).
func (c *Config) PollGrace() time.Duration {
	if !c.Receiver.Enabled {
		return 0
	}
	return c.Reconcile.WebhookGrace.D()
}
