package mirror

import (
	"context"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/store"
	"github.com/docuparse/docuparse-ingest/report"
)

// Store is what the mirror needs from the state store: the intention to
// upload each output file (IntendMirror) written before the upload and its
// result (MirrorDone, MirrorConflict, MirrorDrop) after it, so each file
// reaches output_url exactly once through crashes. *store.Store implements
// it (checked in internal/store/storetest).
type Store interface {
	IntendMirror(ctx context.Context, o store.MirrorObject) (bool, error)
	MirrorKnown(ctx context.Context, keys []string) (map[string]bool, error)
	MirrorVersions(ctx context.Context, localPath string) ([]store.MirrorObject, error)
	MirrorPending(ctx context.Context, limit int) ([]store.MirrorObject, error)
	MirrorPendingCount(ctx context.Context) (int, error)
	MirrorDone(ctx context.Context, key string) error
	MirrorConflict(ctx context.Context, key, why string) error
	MirrorDrop(ctx context.Context, key string) error
	// CSVState and ExportPendingBetween tell whether a day's CSV is closed:
	// committed, with no export still pending for that day.
	CSVState(ctx context.Context, name string) (store.CSVFile, bool, error)
	ExportPendingBetween(ctx context.Context, from, to time.Time) (int, error)
	// report.Last reads through it which day's report was last written.
	report.MetaReader
}
