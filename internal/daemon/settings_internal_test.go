package daemon

import (
	"testing"
	"time"

	"github.com/docuparse/docuparse-ingest/ingest"
	"github.com/docuparse/docuparse-ingest/internal/config"
)

// TestBatchLimits: the submitter's limits are the [batch] table's, at start
// and at reload alike.
func TestBatchLimits(t *testing.T) {
	b := config.Batch{MaxFiles: 7, MaxBytes: 3 * config.MB, MaxWait: config.Duration(9 * time.Second)}
	want := ingest.BatchLimits{MaxFiles: 7, MaxBytes: 3 * config.MB.Bytes(), MaxWait: 9 * time.Second}
	if got := batchLimits(b); got != want {
		t.Errorf("batchLimits(%+v) = %+v, want %+v", b, got, want)
	}
}
