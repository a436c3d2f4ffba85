package e2e

import (
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/docuparse/docuparse-ingest/internal/sim"
)

// Row is one parsed documents-*.csv row, by column name.
type Row map[string]string

// ReadCSV returns every data row of the CSV files matching pattern under
// dir/out/csv, by column name.
func ReadCSV(tb testing.TB, outDir, pattern string) []Row {
	tb.Helper()
	paths, err := filepath.Glob(filepath.Join(outDir, "csv", pattern))
	if err != nil {
		tb.Fatal(err)
	}
	sort.Strings(paths)
	var rows []Row
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			tb.Fatal(err)
		}
		recs, err := csv.NewReader(f).ReadAll()
		f.Close()
		if err != nil {
			tb.Fatalf("%s: %v", p, err)
		}
		if len(recs) == 0 {
			tb.Fatalf("%s: empty", p)
		}
		for _, rec := range recs[1:] {
			r := Row{}
			for i, h := range recs[0] {
				r[h] = rec[i]
			}
			rows = append(rows, r)
		}
	}
	return rows
}

// CheckOutputs asserts the product's promise for files: each has exactly
// one documents-*.csv row and one JSON result, its outcome and extracted
// fields match the simulator's truth, its line items are all there, and the
// simulator created at most one document per content.
func CheckOutputs(tb testing.TB, outDir string, files []Dropped, s *sim.Server) {
	tb.Helper()
	rows := ReadCSV(tb, outDir, "documents-*.csv")
	bySource := map[string][]Row{}
	for _, r := range rows {
		bySource[r["source"]] = append(bySource[r["source"]], r)
	}
	if len(rows) != len(files) {
		tb.Errorf("documents CSV has %d rows for %d files", len(rows), len(files))
	}
	items := map[string]int{}
	for _, r := range ReadCSV(tb, outDir, "line_items-*.csv") {
		items[r["document_id"]]++
	}
	jsons, _ := filepath.Glob(filepath.Join(outDir, "results", "*", "*.json"))
	if len(jsons) != len(files) {
		tb.Errorf("%d JSON results for %d files", len(jsons), len(files))
	}
	for _, f := range files {
		got := bySource[f.Path]
		if len(got) != 1 {
			tb.Errorf("%s: %d CSV rows, want exactly 1", f.Path, len(got))
			continue
		}
		r := got[0]
		sum := sha256.Sum256(f.Content)
		if r["sha256"] != hex.EncodeToString(sum[:]) {
			tb.Errorf("%s: sha256 %s, want the dropped content's", f.Path, r["sha256"])
		}
		data, apiErr := s.Extract(f.Name, f.Content)
		switch {
		case apiErr != nil:
			if r["status"] != "failed" || r["error_code"] != apiErr.Code {
				tb.Errorf("%s: status %s/%s, want failed/%s", f.Path, r["status"], r["error_code"], apiErr.Code)
			}
		default:
			if r["status"] != "completed" || r["merchant"] != stripFormula(data.Merchant) || r["total"] != data.Total ||
				r["currency"] != data.Currency || r["invoice_id"] != stripFormula(data.InvoiceID) {
				tb.Errorf("%s: row %v does not match truth %+v", f.Path, r, data)
			}
			if items[r["document_id"]] != len(data.LineItems) {
				tb.Errorf("%s: %d line item rows, want %d", f.Path, items[r["document_id"]], len(data.LineItems))
			}
		}
		if r["document_id"] != "" {
			matches, _ := filepath.Glob(filepath.Join(outDir, "results", "*", r["document_id"]+".json"))
			if len(matches) != 1 {
				tb.Errorf("%s: %d JSON files named %s.json", f.Path, len(matches), r["document_id"])
			} else {
				var js map[string]any
				b, _ := os.ReadFile(matches[0])
				if err := json.Unmarshal(b, &js); err != nil {
					tb.Errorf("%s: %v", matches[0], err)
				}
			}
		}
	}
	for sha, n := range s.Stats().CreatedBySHA256 {
		if n != 1 {
			tb.Errorf("content %s was submitted as %d documents", sha[:12], n)
		}
	}
}

// stripFormula mirrors the CSV formula neutralisation for comparisons.
func stripFormula(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}
