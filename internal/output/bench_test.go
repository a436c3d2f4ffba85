package output

import (
	"fmt"
	"path/filepath"
	"testing"
)

// BenchmarkDocumentRecordAppend1000 measures building 1000 documents-CSV
// rows and appending them to a day file in one AppendRecords call, the
// exporter's hot path for a large batch.
func BenchmarkDocumentRecordAppend1000(b *testing.B) {
	docs := make([]Document, 1000)
	for i := range docs {
		d := completedDoc()
		d.DocumentID = fmt.Sprintf("doc_bench%05d", i)
		d.FileName = fmt.Sprintf("invoice-%05d.pdf", i)
		docs[i] = d
	}
	path := filepath.Join(b.TempDir(), "documents.csv")
	// Every iteration appends after the header; the previous iteration's
	// rows count as unrecorded and are cut off, so the file stays small.
	committed, err := AppendRecords(path, 0, DocumentsHeader, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		recs := make([][]string, 0, len(docs))
		for _, d := range docs {
			rec, err := DocumentRecord(d)
			if err != nil {
				b.Fatal(err)
			}
			recs = append(recs, rec)
		}
		if _, err := AppendRecords(path, committed, DocumentsHeader, recs); err != nil {
			b.Fatal(err)
		}
	}
}
