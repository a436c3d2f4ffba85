package export

import (
	"fmt"
	"testing"

	"github.com/docuparse/docuparse-ingest/internal/output"
)

// TestAPassMakesItsJSONFilesDurableTogether: a pass's result files are
// made durable together — at most one fsync per document plus a few per
// pass (the results folder, the two CSV files and their folder) — rather
// than a file fsync and a folder fsync for every document; and every file
// is there, complete, when the pass returns.
func TestAPassMakesItsJSONFilesDurableTogether(t *testing.T) {
	r := newRig(t)
	e := r.exporter(nil)
	first := r.sample() // the first pass creates the folders and CSV files
	r.completed(t, "first-"+first.Name, first)
	r.runOnce(t, e, 1)
	const n = 40
	for i := range n {
		f := r.sample()
		r.completed(t, fmt.Sprintf("%02d-%s", i, f.Name), f)
	}
	before := output.Syncs()
	r.runOnce(t, e, n)
	if got, most := output.Syncs()-before, int64(n+4); got > most {
		t.Errorf("one pass of %d documents made %d fsyncs, want at most %d", n, got, most)
	}
	if rows := readCSV(t, r.documentsCSV(), output.DocumentsHeader); len(rows) != n+1 {
		t.Fatalf("%d rows, want %d", len(rows), n+1)
	}
	for _, rec := range readCSV(t, r.documentsCSV(), output.DocumentsHeader) {
		readJSON(t, r.resultPath(col(rec, "document_id")))
	}
}
