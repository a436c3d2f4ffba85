package report

// The report's CSV form: one row per file discovered that day.

import (
	"strconv"

	"github.com/docuparse/docuparse-ingest/internal/output"
)

// CSVHeader is the header of reconciliation-<day>.csv. The first
// nine columns keep their place and meaning; id, retry_of and counted_as
// were added after them (see CSV).
var CSVHeader = []string{"path", "file_name", "document_id", "bucket", "state", "error_code", "result_via",
	"discovered_at", "completed_at", "id", "retry_of", "counted_as"}

// CSV renders one row per document discovered that day, retries
// included, in discovery order, under CSVHeader: each with its own
// bucket and state; id is its local id, retry_of the local id of the
// document a retry retries (empty otherwise), and counted_as what it counts
// as in the accounting line: its file's bucket, by the file's latest
// attempt, or "retry". Counting rows by counted_as gives the line. Times are RFC 3339 in UTC. It is written by
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
			f.ErrorCode, f.ResultVia, reportTime(f.DiscoveredAt), reportTime(f.CompletedAt),
			idCell(f.ID), idCell(f.RetryOf), f.CountedAs})
	}
	return output.EncodeCSV(CSVHeader, recs), nil
}

// idCell is a local document id, or "" for none (0).
func idCell(id int64) string {
	if id == 0 {
		return ""
	}
	return strconv.FormatInt(id, 10)
}
