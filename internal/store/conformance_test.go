package store_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/docuparse/docuparse-ingest/internal/store"
	"github.com/docuparse/docuparse-ingest/internal/store/storetest"
)

// The SQLite store implements every method the conformance suite
// exercises.
var _ storetest.Backend = (*store.Store)(nil)

// TestConformance runs the store conformance suite against SQLite, one
// database file in a temporary folder per subtest.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Opener {
		path := filepath.Join(t.TempDir(), "state.db")
		return func(opts store.Options) (storetest.Backend, error) {
			return store.Open(context.Background(), path, opts)
		}
	})
}
