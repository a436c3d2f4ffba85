package output

import (
	"bytes"
	"encoding/csv"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// checkGolden compares got with testdata/<name>, or rewrites it with -update.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run go test -update to create it): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it)\n got:\n%s\nwant:\n%s", name, got, want)
	}
}

// appendToFile writes header+records to a fresh file through AppendRecords
// and returns the file's bytes.
func appendToFile(t *testing.T, header []string, records [][]string) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), "out.csv")
	size, err := AppendRecords(path, 0, header, records)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(b)) != size {
		t.Fatalf("AppendRecords returned size %d, file has %d bytes", size, len(b))
	}
	return b
}

// parseCSV reads b back with encoding/csv, checking every row has width
// fields.
func parseCSV(t *testing.T, b []byte, width int) [][]string {
	t.Helper()
	r := csv.NewReader(bytes.NewReader(b))
	r.FieldsPerRecord = width
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatalf("golden CSV does not parse back: %v", err)
	}
	return rows
}

func TestGoldenFiles(t *testing.T) {
	for _, tc := range goldenCases {
		t.Run(tc.name, func(t *testing.T) {
			d := tc.doc()

			row, err := DocumentRecord(d)
			if err != nil {
				t.Fatal(err)
			}
			docCSV := appendToFile(t, DocumentsHeader, [][]string{row})
			checkGolden(t, tc.name+".documents.csv", docCSV)
			rows := parseCSV(t, docCSV, len(DocumentsHeader))
			if len(rows) != 2 {
				t.Fatalf("documents CSV has %d rows, want header + 1", len(rows))
			}

			items, err := LineItemRecords(d)
			if err != nil {
				t.Fatal(err)
			}
			if len(items) > 0 {
				liCSV := appendToFile(t, LineItemsHeader, items)
				checkGolden(t, tc.name+".line_items.csv", liCSV)
				if got := parseCSV(t, liCSV, len(LineItemsHeader)); len(got) != 1+len(items) {
					t.Fatalf("line items CSV has %d rows, want %d", len(got), 1+len(items))
				}
			}

			js, err := MarshalJSON(d)
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, tc.name+".json", js)
		})
	}
}

// TestGoldenDayFiles appends every case to one documents file and one line
// items file, one AppendRecords call per document as the exporter does.
func TestGoldenDayFiles(t *testing.T) {
	dir := t.TempDir()
	docPath, liPath := filepath.Join(dir, "documents.csv"), filepath.Join(dir, "line_items.csv")
	var docSize, liSize int64
	for _, tc := range goldenCases {
		d := tc.doc()
		row, err := DocumentRecord(d)
		if err != nil {
			t.Fatal(err)
		}
		if docSize, err = AppendRecords(docPath, docSize, DocumentsHeader, [][]string{row}); err != nil {
			t.Fatal(err)
		}
		items, err := LineItemRecords(d)
		if err != nil {
			t.Fatal(err)
		}
		if liSize, err = AppendRecords(liPath, liSize, LineItemsHeader, items); err != nil {
			t.Fatal(err)
		}
	}
	docs, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatal(err)
	}
	lis, err := os.ReadFile(liPath)
	if err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "day.documents.csv", docs)
	checkGolden(t, "day.line_items.csv", lis)
	if rows := parseCSV(t, docs, len(DocumentsHeader)); len(rows) != 1+len(goldenCases) {
		t.Errorf("day documents file has %d rows, want header + %d", len(rows), len(goldenCases))
	}
	parseCSV(t, lis, len(LineItemsHeader))
}
