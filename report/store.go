package report

import (
	"context"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/store"
)

// Store is what the report needs of the daemon's store: the day's data in
// one snapshot, when the first file was discovered, and a few notes in
// the store's key-value table (the schedule's progress and the last
// report written). The SQLite store (*store.Store) implements it; another
// backend must too.
type Store interface {
	// ReportData reads what the report of window w needs in one
	// read-only snapshot: a document taken in meanwhile is in every part
	// of it or in none.
	ReportData(ctx context.Context, w store.ReportWindow) (*store.ReportData, error)
	// FirstDiscovered returns when the first document was discovered, and
	// false when there is none.
	FirstDiscovered(ctx context.Context) (time.Time, bool, error)
	MetaReader
	// SetMeta sets the value of key in the store's key-value table.
	SetMeta(ctx context.Context, key, value string) error
}

// MetaReader reads the store's key-value table; Last needs only this.
type MetaReader interface {
	// Meta returns the value of key in the store's key-value table, and
	// false when the key was never set.
	Meta(ctx context.Context, key string) (string, bool, error)
}
