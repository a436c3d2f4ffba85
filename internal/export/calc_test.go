package export

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/docuparse"
	"github.com/docuparse/docuparse-ingest/internal/store"
	"github.com/docuparse/docuparse-ingest/internal/testext"
)

// formulaCells are what an inbox user puts in a file name and a hostile API
// in any text field: OWASP's formula starts, DDE and HYPERLINK payloads, a
// space or a line break before '=', and cells that split into formulas on
// another separator.
var formulaCells = []string{
	"=1+2", "+1+2", "-1+2", "@SUM(1,2)", "\t=1+2", "\r=1+2", "\n=1+2", " =1+2",
	` =HYPERLINK("http://x")`, `=HYPERLINK("http://x";"click")`, `=WEBSERVICE("http://x")`,
	"=cmd|' /C calc'!A0", `=DDE("cmd";"/C calc";"A0")`, "@SUM(1+1)*cmd|' /C calc'!A0",
	"-2+3+cmd|' /C calc'!A0", "+SUM(1;2)", "=SUM(1;2)", "=1+2;=3+4", "x;=1+2", "x\t=1+2", "x =1+2",
	`"=1+2`, "'=1+2", "=1+2\n=3+4", "=-1",
}

// calcImport is LibreOffice's CSV import filter with everything that could
// make a cell a formula switched on: quoted fields parsed like unquoted
// ones (token 7 false), special numbers detected (token 8), and formulas
// evaluated (token 13, "Evaluate formulas"). sep is token 1.
func calcImport(sep string) string {
	return "CSV:" + sep + ",34,76,1,,1033,false,true,false,false,false,-1,true"
}

// TestLibreOfficeEvaluatesNoCellOfTheExportedCSVs writes documents named
// and filled with formulaCells through the real export path, opens the
// CSV files in LibreOffice Calc (headless, formula evaluation on,
// splitting on ',' and then on ',', ';', tab and space at once) and
// requires that no cell became a formula — while a control row of raw
// "=1+2" cells, quoted exactly as the exporter quotes, is computed to 3,
// proving that the import would evaluate an unneutralised cell.
func TestLibreOfficeEvaluatesNoCellOfTheExportedCSVs(t *testing.T) {
	soffice := testext.Need(t, "soffice", "apt-get install -y --no-install-recommends libreoffice-calc-nogui")
	t.Parallel()
	r := newRig(t)
	n := exportHostileDocuments(t, r)
	r.runOnce(t, r.exporter(nil), n)
	work := t.TempDir()
	var copies []string
	wants := map[string][][]string{}
	for _, p := range []string{r.documentsCSV(), r.lineItemsCSV()} {
		c, recs := withControlRow(t, p, work)
		copies = append(copies, c)
		wants[c] = recs
	}
	for _, sep := range []string{"44", "44/59/9/32"} {
		out := filepath.Join(work, "sep"+strings.ReplaceAll(sep, "/", "-"))
		convert(t, soffice, work, calcImport(sep), out, copies)
		for _, c := range copies {
			fods := filepath.Join(out, strings.TrimSuffix(filepath.Base(c), ".csv")+".fods")
			checkSheet(t, "split on "+sep+": "+filepath.Base(c), readFODS(t, fods), wants[c])
		}
	}
}

// exportHostileDocuments records, for each of formulaCells, a completed
// document whose file name (when a file may have it), document_id,
// batch_id and every text field of its data and line items are that
// string, and a failed document whose error code and message are; it
// returns how many documents are due for export.
func exportHostileDocuments(t *testing.T, r *rig) int {
	t.Helper()
	n := 0
	for i, h := range formulaCells {
		name := fmt.Sprintf("doc %02d.pdf", i)
		if !strings.Contains(h, "/") {
			name = h
		}
		item := map[string]any{"description": h, "quantity": 1, "unit_price": h, "total": h}
		data, err := json.Marshal(map[string]any{"document_type": h, "merchant": h, "invoice_id": h, "date": h,
			"due_date": h, "currency": h, "subtotal": h, "tax": h, "total": h, "payment_method": h,
			"line_items": []any{item, item}})
		if err != nil {
			t.Fatal(err)
		}
		docID := submitAs(t, r, filepath.Join(fmt.Sprint(i), name), h, h)
		r.apply(t, store.Result{DocumentID: docID, Status: docuparse.StatusCompleted, Data: data, Via: store.ViaWebhook})
		docID = submitAs(t, r, filepath.Join(fmt.Sprint(i), "failed "+fmt.Sprint(i)), h+" failed", h+" failed batch")
		r.apply(t, store.Result{DocumentID: docID, Status: docuparse.StatusFailed, ErrorCode: h, ErrorMessage: h, Via: store.ViaPoll})
		n += 2
	}
	return n
}

// submitAs takes inbox/rel in and records it submitted with the API's
// document and batch ids given.
func submitAs(t *testing.T, r *rig, rel, docID, batchID string) string {
	t.Helper()
	ctx := t.Context()
	res, err := r.st.Intake(ctx, r.write(t, rel, []byte("%PDF-1.4 "+rel), false))
	if err != nil || res.State != store.StateQueued {
		t.Fatalf("intake %q: %+v, %v", rel, res, err)
	}
	b, err := r.st.CreateBatch(ctx, store.ModeBatch, []int64{res.ID})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.st.RecordSubmitted(ctx, b.ID, batchID, []byte("{}"), []store.Submitted{{DocID: res.ID, DocumentID: docID}}); err != nil {
		t.Fatal(err)
	}
	return docID
}

// withControlRow copies the CSV file at path into dir with one more row:
// every cell a raw "=1+2", quoted as EncodeCSV quotes but not neutralised.
// It returns the copy and the records of the file as exported.
func withControlRow(t *testing.T, path, dir string) (string, [][]string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil || len(recs) < 2 {
		t.Fatalf("%s: %d records, %v", path, len(recs), err)
	}
	control := strings.Repeat(`"=1+2",`, len(recs[0])-1) + `"=1+2"` + "\n"
	c := filepath.Join(dir, filepath.Base(path))
	if err := os.WriteFile(c, append(b, control...), 0o600); err != nil {
		t.Fatal(err)
	}
	return c, recs
}

// convert opens files in LibreOffice with the import filter given and
// saves each as flat ODS (XML) in outDir. LibreOffice gets a HOME and a
// user profile of its own under work, so parallel runs do not share one.
func convert(t *testing.T, soffice, work, filter, outDir string, files []string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	profile := url.URL{Scheme: "file", Path: filepath.Join(work, "lo-profile")}
	args := append([]string{"-env:UserInstallation=" + profile.String(), "--headless", "--norestore",
		"--infilter=" + filter, "--convert-to", "fods", "--outdir", outDir}, files...)
	cmd := exec.CommandContext(ctx, soffice, args...)
	cmd.Env = append(os.Environ(), "HOME="+filepath.Join(work, "lo-home"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("soffice: %v\n%s", err, out)
	}
}

// checkSheet compares a converted sheet with the CSV records it was made
// from: the last row (the control) must be all formulas computed to 3;
// no other cell may be a formula, and every cell the exporter neutralised
// must read as the text it wrote.
func checkSheet(t *testing.T, what string, rows [][]sheetCell, recs [][]string) {
	t.Helper()
	if len(rows) != len(recs)+1 {
		t.Fatalf("%s: %d rows, want %d records and the control row", what, len(rows), len(recs))
	}
	for j, c := range rows[len(recs)][:len(recs[0])] {
		if c.formula == "" || c.text != "3" {
			t.Fatalf("%s: control cell %d = %+v, want the formula =1+2 computed to 3: the import does not evaluate formulas, so the test proves nothing", what, j, c)
		}
	}
	bad := 0
	for i, rec := range recs {
		for j, want := range rec {
			var c sheetCell
			if j < len(rows[i]) {
				c = rows[i][j]
			}
			switch {
			case c.formula != "":
				t.Errorf("%s: row %d column %d %q became the formula %q (value %q)", what, i, j, want, c.formula, c.text)
			case strings.HasPrefix(want, "'") && (c.valueType != "string" || lines(c.text) != lines(want)):
				t.Errorf("%s: row %d column %d reads %q (%s), want the text %q", what, i, j, c.text, c.valueType, want)
			default:
				continue
			}
			if bad++; bad > 20 {
				t.Fatalf("%s: more wrong cells not shown", what)
			}
		}
	}
}

// lines normalises line breaks: LibreOffice keeps a cell's lines as
// paragraphs, whatever line break separated them.
func lines(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
}

// sheetCell is one cell of a flat ODS sheet: its formula (empty for a
// value), its value type and its text as shown.
type sheetCell struct {
	formula, valueType, text string
}

// readFODS reads the first table of a flat ODS file as rows of cells,
// expanding repeated cells and rows (trailing empty ones are dropped).
func readFODS(t *testing.T, path string) [][]sheetCell {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var (
		rows         [][]sheetCell
		row          []sheetCell
		cell         *sheetCell
		rowRep, cRep int
		paras        int
		inP          bool
	)
	dec := xml.NewDecoder(f)
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			t.Fatalf("%s: no table", path)
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		switch e := tok.(type) {
		case xml.StartElement:
			switch e.Name.Local {
			case "table-row":
				row, rowRep = nil, repeat(attr(e, "number-rows-repeated"))
			case "table-cell", "covered-table-cell":
				cell = &sheetCell{formula: attr(e, "formula"), valueType: attr(e, "value-type")}
				cRep, paras = repeat(attr(e, "number-columns-repeated")), 0
			case "p":
				if cell != nil && paras > 0 {
					cell.text += "\n"
				}
				paras, inP = paras+1, true
			case "s":
				if cell != nil {
					cell.text += strings.Repeat(" ", repeat(attr(e, "c")))
				}
			case "tab":
				if cell != nil {
					cell.text += "\t"
				}
			case "line-break":
				if cell != nil {
					cell.text += "\n"
				}
			}
		case xml.CharData:
			if cell != nil && inP {
				cell.text += string(e)
			}
		case xml.EndElement:
			switch e.Name.Local {
			case "p":
				inP = false
			case "table-cell", "covered-table-cell":
				for range min(cRep, 1024) {
					row = append(row, *cell)
				}
				cell = nil
			case "table-row":
				for range min(rowRep, 1024) {
					rows = append(rows, row)
				}
			case "table":
				return trimEmptyRows(rows)
			}
		}
	}
}

func attr(e xml.StartElement, local string) string {
	for _, a := range e.Attr {
		if a.Name.Local == local {
			return a.Value
		}
	}
	return ""
}

// repeat reads a repetition count; absent means 1.
func repeat(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return 1
	}
	return n
}

func trimEmptyRows(rows [][]sheetCell) [][]sheetCell {
	for len(rows) > 0 {
		empty := true
		for _, c := range rows[len(rows)-1] {
			empty = empty && c.text == "" && c.formula == ""
		}
		if !empty {
			break
		}
		rows = rows[:len(rows)-1]
	}
	return rows
}
