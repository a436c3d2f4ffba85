package reconcile

// The report's CSV form: one row per file discovered that day.

import (
	"bytes"
	"encoding/csv"
	"fmt"

	"github.com/docuparse/docuparse-ingest/internal/output"
)

// ReportCSVHeader is the header of reconciliation-<day>.csv.
var ReportCSVHeader = []string{"path", "file_name", "document_id", "bucket", "state", "error_code", "result_via",
	"discovered_at", "completed_at"}

// CSV renders one row per file discovered that day, in discovery order,
// under ReportCSVHeader. Times are RFC 3339 in UTC; every cell is
// neutralised against spreadsheet formulas (output.NeutraliseRecord).
func (r *Report) CSV() ([]byte, error) {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	if err := w.Write(ReportCSVHeader); err != nil {
		return nil, fmt.Errorf("report for %s as CSV: %w", r.Day, err)
	}
	for _, f := range r.Files {
		rec := output.NeutraliseRecord([]string{f.Path, f.FileName, f.DocumentID, string(f.Bucket), string(f.State),
			f.ErrorCode, f.ResultVia, reportTime(f.DiscoveredAt), reportTime(f.CompletedAt)})
		if err := w.Write(rec); err != nil {
			return nil, fmt.Errorf("report for %s as CSV: %s: %w", r.Day, f.Path, err)
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return nil, fmt.Errorf("report for %s as CSV: %w", r.Day, err)
	}
	return buf.Bytes(), nil
}
