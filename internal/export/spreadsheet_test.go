package export

// Exporter tests of the spreadsheet options (output.csv_bom,
// output.line_items_context) and of what the results say: timestamps in
// one precision, the source's name. The rig lives in export_test.go.

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/output"
)

// cafe records a completed document from Café Lumière with n line items,
// its content made unique by i.
func (r *rig) cafe(t *testing.T, i, n int) int64 {
	t.Helper()
	items := ""
	for j := range n {
		if j > 0 {
			items += ","
		}
		items += fmt.Sprintf(`{"description":"Crème brûlée %d","quantity":1,"unit_price":"4.20","total":"4.20"}`, j)
	}
	raw := `{"document_type":"receipt","merchant":"Café Lumière","currency":"EUR","total":"4.20","line_items":[` + items + `]}`
	return r.completedRaw(t, fmt.Sprintf("Café Lumière %d.pdf", i), fmt.Appendf(nil, "%%PDF-1.4 receipt %d", i), raw)
}

// readBOMCSV reads a CSV file as a spreadsheet does: after its BOM, which
// must be there exactly when bom is set, and only at the start.
func readBOMCSV(t *testing.T, path string, bom bool, header []string) [][]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := bytes.HasPrefix(b, []byte(output.BOM)); got != bom {
		t.Fatalf("%s begins with a BOM: %v, want %v", path, got, bom)
	}
	body := bytes.TrimPrefix(b, []byte(output.BOM))
	if bytes.Contains(body, []byte(output.BOM)) {
		t.Fatalf("%s has a BOM after its start", path)
	}
	cr := csv.NewReader(bytes.NewReader(body))
	cr.FieldsPerRecord = len(header)
	recs, err := cr.ReadAll()
	if err != nil {
		t.Fatalf("%s is not clean CSV: %v\n%s", path, err, b)
	}
	if len(recs) == 0 || !slices.Equal(recs[0], header) {
		t.Fatalf("%s header = %q, want %q", path, recs, header)
	}
	return recs[1:]
}

// TestExportBOMAndLineItemsContext: with both options a day's files begin
// with the BOM, the line items carry file name, merchant and currency, the
// UTF-8 names read back intact, and the JSON result names its source and
// gives its times in milliseconds.
func TestExportBOMAndLineItemsContext(t *testing.T) {
	r := newRig(t)
	id := r.cafe(t, 1, 2)
	e := r.exporter(func(c *Config) { c.CSVBOM, c.LineItemsContext = true, true })
	r.runOnce(t, e, 1)

	docs := readBOMCSV(t, r.documentsCSV(), true, output.DocumentsHeader)
	if len(docs) != 1 || col(docs[0], "merchant") != "Café Lumière" || col(docs[0], "file_name") != "Café Lumière 1.pdf" {
		t.Fatalf("documents rows = %q", docs)
	}
	items := readBOMCSV(t, r.lineItemsCSV(), true, output.LineItemsContextHeader)
	if len(items) != 2 {
		t.Fatalf("line items rows = %q", items)
	}
	for _, it := range items {
		if ctx := it[len(output.LineItemsHeader):]; !slices.Equal(ctx, []string{"Café Lumière 1.pdf", "Café Lumière", "EUR"}) {
			t.Errorf("context cells = %q", ctx)
		}
	}

	d := r.get(t, id)
	js := readJSON(t, r.resultPath(d.DocumentID))
	if js["source_name"] != "inbox" || js["source"] != d.Path {
		t.Errorf("JSON source_name = %v, source = %v", js["source_name"], js["source"])
	}
	ms := regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`)
	for _, k := range []string{"submitted_at", "completed_at"} {
		if s, _ := js[k].(string); !ms.MatchString(s) {
			t.Errorf("JSON %s = %v, want RFC 3339 UTC with milliseconds", k, js[k])
		}
	}
	for _, k := range []string{"submitted_at", "completed_at"} {
		if s := col(docs[0], k); !ms.MatchString(s) {
			t.Errorf("CSV %s = %q, want RFC 3339 UTC with milliseconds", k, s)
		}
	}
}

// TestExportDefaultsWriteNoBOMAndTheFixedColumns: the defaults keep the
// files as DESIGN fixes them.
func TestExportDefaultsWriteNoBOMAndTheFixedColumns(t *testing.T) {
	r := newRig(t)
	r.cafe(t, 1, 1)
	r.runOnce(t, r.exporter(nil), 1)
	readBOMCSV(t, r.documentsCSV(), false, output.DocumentsHeader)
	if items := readBOMCSV(t, r.lineItemsCSV(), false, output.LineItemsHeader); len(items) != 1 {
		t.Fatalf("line items rows = %q", items)
	}
}

// TestExportSettingChangedMidDayKeepsTheBegunFiles: switching both options
// on during a day leaves that day's files as they began (no BOM, six
// columns, every row of the file's width); the next day's files follow
// the new setting. Switching back off keeps the context file's columns.
func TestExportSettingChangedMidDayKeepsTheBegunFiles(t *testing.T) {
	r := newRig(t)
	r.cafe(t, 1, 1)
	r.runOnce(t, r.exporter(nil), 1)

	on := r.exporter(func(c *Config) { c.CSVBOM, c.LineItemsContext = true, true })
	r.cafe(t, 2, 2)
	r.runOnce(t, on, 1)
	readBOMCSV(t, r.documentsCSV(), false, output.DocumentsHeader)
	if items := readBOMCSV(t, r.lineItemsCSV(), false, output.LineItemsHeader); len(items) != 3 {
		t.Fatalf("begun line items file: %d rows, want 3", len(items))
	}

	r.setNow(day0.Add(24 * time.Hour))
	r.cafe(t, 3, 1)
	r.runOnce(t, on, 1)
	next := "2026-11-29"
	readBOMCSV(t, r.out+"/csv/documents-"+next+".csv", true, output.DocumentsHeader)
	readBOMCSV(t, r.out+"/csv/line_items-"+next+".csv", true, output.LineItemsContextHeader)

	r.cafe(t, 4, 1)
	r.runOnce(t, r.exporter(nil), 1)
	if items := readBOMCSV(t, r.out+"/csv/line_items-"+next+".csv", true, output.LineItemsContextHeader); len(items) != 2 {
		t.Fatalf("context line items file after switching off: %d rows, want 2", len(items))
	}
}

// TestExportWithBOMRecoversATornTail: a crash that leaves half a row in
// files that begin with a BOM is recovered as without one: the half row is
// cut, every row is written once, the BOM stays the file's first bytes.
func TestExportWithBOMRecoversATornTail(t *testing.T) {
	r := newRig(t)
	e := r.exporter(func(c *Config) { c.CSVBOM, c.LineItemsContext = true, true })
	r.cafe(t, 1, 1)
	r.cafe(t, 2, 1)
	r.runOnce(t, e, 2)
	id3 := r.cafe(t, 3, 1)
	r.cafe(t, 4, 1)

	r.tearTails(t, r.get(t, id3))
	r.runOnce(t, e, 2)
	if docs := readBOMCSV(t, r.documentsCSV(), true, output.DocumentsHeader); len(rowsByFile(t, docs)) != 4 {
		t.Fatalf("documents rows = %d, want 4", len(docs))
	}
	if items := readBOMCSV(t, r.lineItemsCSV(), true, output.LineItemsContextHeader); len(items) != 4 {
		t.Fatalf("line items rows = %d, want 4", len(items))
	}
}

// TestExportRecoversATornFirstAppendUnderAnotherSetting: a crash in the
// first append of a day's files (recorded, nothing committed) under one
// setting, and a restart under the other: the leftover — a part of the BOM,
// or the other header and half a row — is the daemon's own, cut, and the
// files begin as the setting now says.
func TestExportRecoversATornFirstAppendUnderAnotherSetting(t *testing.T) {
	withBOM := func(s string) string { return output.BOM + s }
	for _, tc := range []struct {
		name      string
		docs, li  string
		bom, ctxt bool
	}{
		{"a part of the BOM, restarted without", output.BOM[:2], output.BOM[:1], false, false},
		{"BOM and context header, restarted without either",
			withBOM(string(output.EncodeCSV(output.DocumentsHeader, nil))) + `"doc_`,
			withBOM(string(output.EncodeCSV(output.LineItemsContextHeader, nil))) + `"doc_x","1"`, false, false},
		{"plain header, restarted with BOM and context",
			string(output.EncodeCSV(output.DocumentsHeader, nil)),
			string(output.EncodeCSV(output.LineItemsHeader, nil)) + `"doc_x",`, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t)
			r.cafe(t, 1, 1)
			for path, content := range map[string]string{r.documentsCSV(): tc.docs, r.lineItemsCSV(): tc.li} {
				rel, _ := filepath.Rel(r.out, path)
				if err := r.st.BeginCSV(t.Context(), filepath.ToSlash(rel)); err != nil {
					t.Fatal(err)
				}
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			r.runOnce(t, r.exporter(func(c *Config) { c.CSVBOM, c.LineItemsContext = tc.bom, tc.ctxt }), 1)
			readBOMCSV(t, r.documentsCSV(), tc.bom, output.DocumentsHeader)
			header := output.LineItemsHeader
			if tc.ctxt {
				header = output.LineItemsContextHeader
			}
			if items := readBOMCSV(t, r.lineItemsCSV(), tc.bom, header); len(items) != 1 {
				t.Fatalf("line items rows = %q", items)
			}
		})
	}
}
