package output

import (
	"bytes"
	"encoding/csv"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// attackCells are cells that try to start a formula in a spreadsheet that
// splits on another separator than ',' or cuts rows at a line break.
var attackCells = []string{
	"x;=cmd|' /C calc'!A0;.pdf",
	"x\t=cmd|' /C calc'!A0",
	"x|=1+1",
	"x =1+1",
	"x\n=1+1",
	"x\r=1+1",
	"Rechnung; -2+3",
	`a;"=1+1";b`,
}

func TestEncodeCSVQuotesEveryNonEmptyCell(t *testing.T) {
	tests := []struct {
		name    string
		header  []string
		records [][]string
		want    string
	}{
		{"header and plain cells", []string{"a", "b"}, [][]string{{"1", "x y"}},
			"\"a\",\"b\"\n\"1\",\"x y\"\n"},
		{"empty cells stay empty", nil, [][]string{{"", "x", ""}},
			",\"x\",\n"},
		{"a record of one empty cell is not an empty line", nil, [][]string{{""}},
			"\"\"\n"},
		{"quotes are doubled, separators and line breaks stay inside the quotes", nil,
			[][]string{{`say "hi"`, "a;b,c", "l1\nl2\r"}},
			"\"say \"\"hi\"\"\",\"a;b,c\",\"l1\nl2\r\"\n"},
		{"the semicolon example", nil, [][]string{{"doc_1", "x;=cmd|' /C calc'!A0;.pdf"}},
			"\"doc_1\",\"x;=cmd|' /C calc'!A0;.pdf\"\n"},
		{"records are neutralised, the header is not", []string{"=h"}, [][]string{{"=1+1"}, {"-50.00"}},
			"\"=h\"\n\"'=1+1\"\n\"-50.00\"\n"},
		{"nothing at all", nil, nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(EncodeCSV(tc.header, tc.records)); got != tc.want {
				t.Errorf("EncodeCSV = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestEncodeCSVReadsBack(t *testing.T) {
	rec := append([]string{"doc_1", "", `"`, `""`, " lead", `\.`, "caf\xe9", "=SUM(A1)"}, attackCells...)
	orig := slices.Clone(rec)
	b := EncodeCSV([]string{"h"}, [][]string{rec, {""}})
	if !reflect.DeepEqual(rec, orig) {
		t.Error("EncodeCSV modified the caller's record")
	}
	r := csv.NewReader(bytes.NewReader(b))
	r.FieldsPerRecord = -1
	got, err := r.ReadAll()
	if err != nil {
		t.Fatalf("output does not parse: %v\n%s", err, b)
	}
	want := [][]string{{"h"}, NeutraliseRecord(slices.Clone(rec)), {""}}
	// encoding/csv reads "\r\n" inside a quoted field as "\n"; no cell here
	// has one, so the cells come back exactly.
	if !reflect.DeepEqual(got, want) {
		t.Errorf("read back\n got %q\nwant %q", got, want)
	}
}

// TestEncodeCSVNoFormulaForOtherSeparators reads a row the way a
// spreadsheet in another locale may: split on ';' (German or French Excel),
// a tab, '|' or a space, with lenient quote handling (encoding/csv with
// LazyQuotes: a quoted field ends at a quote followed by the separator or
// the line's end). No resulting cell may start a formula. The first cell of
// the row is benign, as a document id or a path from a watched folder is;
// the attack is in a later column, which is where plain encoding/csv
// quoting fails (see the second half).
func TestEncodeCSVNoFormulaForOtherSeparators(t *testing.T) {
	var rows [][]string
	for _, c := range attackCells {
		rows = append(rows, []string{"doc_1", c, "-50.00", c})
	}
	safe := EncodeCSV(nil, rows)
	for _, sep := range []rune{';', '\t', '|', ' '} {
		if cell, ok := formulaCell(t, safe, sep); ok {
			t.Errorf("split on %q, a cell starts a formula: %q\n%s", sep, cell, safe)
		}
	}

	// encoding/csv alone leaves "x;=cmd…" unquoted, and a ';' reader gets
	// a cell starting with '='. This is the hole the quoting rule closes.
	var plain bytes.Buffer
	w := csv.NewWriter(&plain)
	if err := w.WriteAll([][]string{{"doc_1", NeutraliseRecord([]string{attackCells[0]})[0]}}); err != nil {
		t.Fatal(err)
	}
	if _, ok := formulaCell(t, plain.Bytes(), ';'); !ok {
		t.Errorf("the model reader found no formula in encoding/csv's output %q; the test proves nothing", plain.String())
	}
}

// formulaCell splits b on sep like a lenient spreadsheet import and returns
// the first cell that a spreadsheet would run as a formula.
func formulaCell(t *testing.T, b []byte, sep rune) (string, bool) {
	t.Helper()
	r := csv.NewReader(bytes.NewReader(b))
	r.Comma = sep
	r.LazyQuotes = true
	r.FieldsPerRecord = -1
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatalf("split on %q: %v", sep, err)
	}
	for _, row := range rows {
		for _, cell := range row {
			if c := strings.TrimLeft(cell, " "); c != "" && strings.ContainsRune("=+-@\t\r", rune(c[0])) && !isPlainDecimal(c) {
				return cell, true
			}
		}
	}
	return "", false
}
