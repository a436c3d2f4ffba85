package daemon

import (
	"github.com/docuparse/docuparse-ingest/ingest"
	"github.com/docuparse/docuparse-ingest/internal/config"
)

// batchLimits is the submitter's batch limits of a configuration's [batch]
// table, at start and at each reload. It lives here rather than as a
// config method because config must not depend on ingest (and through it
// on the store); the daemon is where both meet. The settings config can
// derive from its own keys are config's methods (Layout, PollGrace,
// StatePath).
func batchLimits(b config.Batch) ingest.BatchLimits {
	return ingest.BatchLimits{
		MaxFiles: b.MaxFiles,
		MaxBytes: b.MaxBytes.Bytes(),
		MaxWait:  b.MaxWait.D(),
	}
}
