package store

import (
	"context"
	"path/filepath"
	"testing"
)

// TestHotStatementsArePreparedAtOpen: every statement the grouped
// transactions run per event or document is prepared once at Open, so a
// change of the schema or of a query that breaks one is caught here rather
// than silently run as text, prepared again each time.
func TestHotStatementsArePreparedAtOpen(t *testing.T) {
	st, err := Open(context.Background(), filepath.Join(t.TempDir(), "state.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, q := range hotQueries {
		if st.prepared[q] == nil {
			t.Errorf("not prepared: %s", q)
		}
	}
}
