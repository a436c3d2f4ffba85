package metrics

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/docuparse/docuparse-ingest/internal/store"
)

// Once exported, documents still count by how they ended in
// docuparse_documents_outcome, read from the store (true across restarts),
// while docuparse_documents{state} counts them as exported.
func TestStoreCollectorCountsExportedDocumentsByOutcome(t *testing.T) {
	s := openStore(t, filepath.Join(t.TempDir(), "state.db"))
	fill(t, s)
	ctx := context.Background()
	docs, err := s.ExportCandidates(ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]int64, len(docs))
	for i, d := range docs {
		ids[i] = d.ID
	}
	if err := s.MarkExported(ctx, ids, nil); err != nil {
		t.Fatal(err)
	}
	_, url := newMetrics(t, Options{Status: s.Status})
	compare(t, url, `
# HELP docuparse_documents_outcome Documents in the state store by how they ended, exported since or not (every outcome listed, zero included).
# TYPE docuparse_documents_outcome gauge
docuparse_documents_outcome{outcome="completed"} 2
docuparse_documents_outcome{outcome="failed"} 1
docuparse_documents_outcome{outcome="rejected"} 1
docuparse_documents_outcome{outcome="duplicate"} 1
docuparse_documents_outcome{outcome="vanished"} 1
`, "docuparse_documents_outcome")
	fams := scrape(t, url)
	if m, _ := sample(fams, "docuparse_documents", "state="+string(store.StateExported)); m.GetGauge().GetValue() != 5 {
		t.Errorf("docuparse_documents{state=exported} = %v, want 5", m.GetGauge().GetValue())
	}
}
