package output

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestLineItemsContext: the context columns follow the fixed ones, so a
// line items file can be read alone.
func TestLineItemsContext(t *testing.T) {
	want := append(append([]string(nil), LineItemsHeader...), "file_name", "merchant", "currency")
	if !equalStrings(LineItemsContextHeader, want) {
		t.Fatalf("LineItemsContextHeader = %q, want %q", LineItemsContextHeader, want)
	}
	recs, err := LineItemRecordsWithContext(unicodeDoc())
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 || len(recs[0]) != len(LineItemsContextHeader) {
		t.Fatalf("records = %q", recs)
	}
	got := recs[0][len(LineItemsHeader):]
	if got[0] != unicodeDoc().FileName || got[1] != "Café Zürich <Bäckerei> & Söhne 🍰" || got[2] != "EUR" {
		t.Errorf("context cells = %q", got)
	}
	base, _ := LineItemRecords(unicodeDoc())
	if !equalStrings(recs[0][:len(LineItemsHeader)], base[0]) {
		t.Errorf("fixed columns differ: %q vs %q", recs[0][:len(LineItemsHeader)], base[0])
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestBOMWrittenOnlyAtStartOfNewFile: with BOM set a new file starts with
// the UTF-8 byte-order mark, once; later appends add none; the name reads
// back intact. Without it no BOM is written.
func TestBOMWrittenOnlyAtStartOfNewFile(t *testing.T) {
	for _, bom := range []bool{true, false} {
		l := Layout{Root: t.TempDir()}
		path := l.DocumentsCSV("2026-12-03")
		f := Format{Header: DocumentsHeader, BOM: bom}
		var c Committed
		for i := 0; i < 2; i++ {
			row, err := DocumentRecord(cafeDoc())
			if err != nil {
				t.Fatal(err)
			}
			if c, err = l.AppendCSV(path, c, f, [][]string{row}); err != nil {
				t.Fatal(err)
			}
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := bytes.HasPrefix(b, []byte(BOM)); got != bom {
			t.Fatalf("bom=%v: file starts with BOM: %v", bom, got)
		}
		if n := bytes.Count(b, []byte(BOM)); n != map[bool]int{true: 1, false: 0}[bom] {
			t.Fatalf("bom=%v: %d BOMs in the file", bom, n)
		}
		rows := readCSV(t, b, len(DocumentsHeader))
		if len(rows) != 3 || rows[0][0] != "document_id" || rows[1][11] != "Café Lumière" || rows[2][3] != "Café Lumière.pdf" {
			t.Fatalf("bom=%v: rows read back: %q", bom, rows)
		}
	}
}

func cafeDoc() Document {
	d := completedDoc()
	d.FileName = "Café Lumière.pdf"
	d.Data = json.RawMessage(`{"merchant":"Café Lumière","currency":"EUR","total":"4.20","line_items":[]}`)
	return d
}

// readCSV reads b with encoding/csv after its BOM, as a spreadsheet does.
func readCSV(t *testing.T, b []byte, width int) [][]string {
	t.Helper()
	r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(b, []byte(BOM))))
	r.FieldsPerRecord = width
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatalf("CSV does not read back: %v", err)
	}
	return rows
}

// TestBOMTornFirstAppendRecovers: a crash in the first append of a file
// with a BOM leaves a BOM, a partial header, or the header and a partial
// row; each is the daemon's own and is cut and written again once.
func TestBOMTornFirstAppendRecovers(t *testing.T) {
	row, err := DocumentRecord(cafeDoc())
	if err != nil {
		t.Fatal(err)
	}
	whole := append([]byte(BOM), EncodeCSV(DocumentsHeader, [][]string{row})...)
	for _, cut := range []int{1, 2, 3, 10, len(BOM) + len(EncodeCSV(DocumentsHeader, nil)) + 7, len(whole) - 1} {
		for _, bomNow := range []bool{true, false} {
			l := Layout{Root: t.TempDir()}
			path := l.DocumentsCSV("2026-12-03")
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, whole[:cut], 0o644); err != nil {
				t.Fatal(err)
			}
			c, err := l.AppendCSV(path, Committed{}, Format{Header: DocumentsHeader, BOM: bomNow}, [][]string{row})
			if err != nil {
				t.Fatalf("cut %d, bom now %v: %v", cut, bomNow, err)
			}
			b, _ := os.ReadFile(path)
			want := EncodeCSV(DocumentsHeader, [][]string{row})
			if bomNow {
				want = whole
			}
			if !bytes.Equal(b, want) || c.Size != int64(len(b)) {
				t.Fatalf("cut %d, bom now %v: file after recovery:\n%q", cut, bomNow, b)
			}
		}
	}
}

// TestBOMTornLaterAppendRecovers: with a BOM at the start, a torn later
// append is cut back to the committed length (the tail hash covers the
// BOM) and the rows are written once; an edited BOM file is refused.
func TestBOMTornLaterAppendRecovers(t *testing.T) {
	l := Layout{Root: t.TempDir()}
	path := l.DocumentsCSV("2026-12-03")
	f := Format{Header: DocumentsHeader, BOM: true}
	row, err := DocumentRecord(cafeDoc())
	if err != nil {
		t.Fatal(err)
	}
	c, err := l.AppendCSV(path, Committed{}, f, [][]string{row})
	if err != nil {
		t.Fatal(err)
	}
	committed, _ := os.ReadFile(path)
	fh, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	torn := EncodeCSV(nil, [][]string{row})
	if _, err := fh.Write(torn[:len(torn)/2]); err != nil {
		t.Fatal(err)
	}
	fh.Close()
	c2, err := l.AppendCSV(path, c, f, [][]string{row})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	if !bytes.Equal(b, append(committed, torn...)) || c2.Size != int64(len(b)) {
		t.Fatalf("after recovery:\n%q", b)
	}
	if rows := readCSV(t, b, len(DocumentsHeader)); len(rows) != 3 {
		t.Fatalf("%d rows", len(rows))
	}

	// A spreadsheet saving the file without its BOM is a change outside
	// the daemon.
	if err := os.WriteFile(path, bytes.TrimPrefix(b, []byte(BOM)), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := l.AppendCSV(path, c2, f, [][]string{row}); !errors.Is(err, ErrNotOurs) && !errors.Is(err, ErrShrunk) {
		t.Fatalf("edited file: err = %v, want ErrNotOurs or ErrShrunk", err)
	}
}

// TestBegunFormat: a begun file keeps the columns and BOM it began with.
func TestBegunFormat(t *testing.T) {
	l := Layout{Root: t.TempDir()}
	path := l.LineItemsCSV("2026-12-03")
	if h, err := l.BegunHeader(path); err != nil || h != nil {
		t.Fatalf("missing file: %q, %v", h, err)
	}
	recs, err := LineItemRecordsWithContext(completedDoc())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.AppendCSV(path, Committed{}, Format{Header: LineItemsContextHeader, BOM: true}, recs); err != nil {
		t.Fatal(err)
	}
	h, err := l.BegunHeader(path)
	if err != nil || !equalStrings(h, LineItemsContextHeader) {
		t.Fatalf("begun header = %q, %v", h, err)
	}
}
