package reconcile

// The report's CSV form: one row per file discovered that day.

import (
	"github.com/docuparse/docuparse-ingest/internal/output"
)

// ReportCSVHeader is the header of reconciliation-<day>.csv.
var ReportCSVHeader = []string{"path", "file_name", "document_id", "bucket", "state", "error_code", "result_via",
	"discovered_at", "completed_at"}

// CSV renders one row per file discovered that day, in discovery order,
// under ReportCSVHeader. Times are RFC 3339 in UTC. It is written by
// output.EncodeCSV, the daemon's one CSV writer, like documents-<day>.csv:
// every cell neutralised against spreadsheet formulas and every non-empty
// cell quoted, so a spreadsheet that splits on ';' or a tab cannot make a
// cell out of part of a file name (see output.Neutralise). The error is
// always nil; it is kept for callers written against an encoder that could
// fail.
func (r *Report) CSV() ([]byte, error) {
	recs := make([][]string, 0, len(r.Files))
	for _, f := range r.Files {
		recs = append(recs, []string{f.Path, f.FileName, f.DocumentID, string(f.Bucket), string(f.State),
			f.ErrorCode, f.ResultVia, reportTime(f.DiscoveredAt), reportTime(f.CompletedAt)})
	}
	return output.EncodeCSV(ReportCSVHeader, recs), nil
}
