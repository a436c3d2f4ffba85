package report

import (
	"bytes"
	"encoding/csv"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/store"
)

// TestReportCSVQuotesCellsASemicolonSpreadsheetWouldSplit: a file name with
// ';' must not give a German or French spreadsheet (which splits on ';') a
// cell starting with '='. Every non-empty cell is quoted, so a reader
// splitting on ';' that honours the quotes keeps the name in one piece.
func TestReportCSVQuotesCellsASemicolonSpreadsheetWouldSplit(t *testing.T) {
	name := "x;=cmd|' /C calc'!A0;.pdf"
	at := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
	r := &Report{Day: "2026-11-27", Files: []FileLine{
		{Path: "/in/" + name, FileName: name, Bucket: BucketPending, State: store.StateQueued, DiscoveredAt: at},
		{Path: "/in/-1;@SUM(A1)", FileName: "=1+1", DocumentID: "doc_1", Bucket: BucketFailed, State: store.StateFailed,
			ErrorCode: "E;-2+3", ResultVia: "poll", DiscoveredAt: at, CompletedAt: at.Add(time.Minute)},
	}}
	cs, err := r.CSV()
	if err != nil {
		t.Fatal(err)
	}
	want := `"path","file_name","document_id","bucket","state","error_code","result_via","discovered_at","completed_at","id","retry_of","counted_as"
"/in/x;=cmd|' /C calc'!A0;.pdf","x;=cmd|' /C calc'!A0;.pdf",,"pending","queued",,,"2026-11-27T08:00:00Z",,,,
"/in/-1;@SUM(A1)","'=1+1","doc_1","failed","failed","E;-2+3","poll","2026-11-27T08:00:00Z","2026-11-27T08:01:00Z",,,
`
	if string(cs) != want {
		t.Errorf("CSV:\n%s\nwant:\n%s", cs, want)
	}

	// Read back as RFC 4180: the cells as neutralised.
	rows, err := csv.NewReader(bytes.NewReader(cs)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if got := rows[1][:2]; !reflect.DeepEqual(got, []string{"/in/" + name, name}) {
		t.Errorf("row 1 reads back as %q", got)
	}

	// Split on ';' by a lenient reader (a quoted field ends at a quote
	// followed by ';' or the line's end): no cell starts a formula.
	sr := csv.NewReader(bytes.NewReader(cs))
	sr.Comma, sr.LazyQuotes, sr.FieldsPerRecord = ';', true, -1
	split, err := sr.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range split {
		for _, cell := range row {
			if c := strings.TrimLeft(cell, " "); c != "" && strings.ContainsRune("=+-@\t\r", rune(c[0])) {
				t.Errorf("split on ';', cell %q would run as a formula", cell)
			}
		}
	}
}
