package export

import (
	"context"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/store"
)

// Store is what the exporter needs from the state store. A pass writes the
// intention (BeginCSV: a CSV's size before rows are appended) before its
// side effect and the result (MarkExported, with each CSV's new size) after
// it, so a pass killed at any line is finished exactly once by the next.
// *store.Store implements it (checked in internal/store/storetest).
type Store interface {
	CSVReader
	// ExportCandidates returns documents whose outcome is not exported yet.
	ExportCandidates(ctx context.Context, limit int) ([]store.Document, error)
	// BeginCSV records that a CSV is about to grow (its committed size).
	BeginCSV(ctx context.Context, name string) error
	// MarkExported records documents exported and the CSVs' new sizes in
	// one transaction.
	MarkExported(ctx context.Context, ids []int64, sizes map[string]store.CSVFile) error
	// HoldExport holds documents whose output could not be written, with
	// backoff between first and most.
	HoldExport(ctx context.Context, holds []store.ExportHold, first, most time.Duration) ([]store.ExportHold, error)
	// RetriedAs returns the document a retry of id created (0 if none).
	RetriedAs(ctx context.Context, id int64) (int64, error)
}

// CSVReader reads what the store recorded about one CSV file.
type CSVReader interface {
	CSVState(ctx context.Context, name string) (store.CSVFile, bool, error)
}
