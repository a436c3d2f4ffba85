package output

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"github.com/docuparse/docuparse-ingest/internal/vocab"
	"path/filepath"
	"strings"
	"time"
)

// Document is everything the outputs say about one file. The exporter
// builds it from the state store.
type Document struct {
	// LocalRef is the daemon's client_reference for the file. Always set.
	LocalRef string
	// DocumentID is the API's id. Empty for a rejected file; for a duplicate
	// it is the id of the ORIGINAL document.
	DocumentID string
	// Status is the document's outcome: vocab.StateCompleted,
	// StateFailed, StateRejected or StateDuplicate.
	Status vocab.State
	// Source is the file's full path or URL.
	Source string
	// SourceName is the name of the [[source]] table the file came from.
	SourceName string
	// FileName is the file's base name.
	FileName string
	// SHA256 is the lowercase hex digest of the file's content.
	SHA256 string
	// SizeBytes is the file's size.
	SizeBytes int64
	// BatchID is the API batch id; empty in single-upload mode or when the
	// file was never submitted.
	BatchID string
	// SubmittedAt is when the API accepted the file; zero gives an empty cell.
	SubmittedAt time.Time
	// CompletedAt is when the daemon recorded the outcome. It decides the
	// day (file names) a document belongs to.
	CompletedAt time.Time
	// ResultVia is vocab.ViaWebhook or vocab.ViaPoll; empty for rejected
	// and duplicate.
	ResultVia string
	// Data is the API's `data` object exactly as received; may be nil.
	Data json.RawMessage
	// ErrorCode and ErrorMessage give the reason of a failed or rejected file.
	ErrorCode    string
	ErrorMessage string
	// DuplicateOf is, for a duplicate, the original file's Source.
	DuplicateOf string
	// APITimestamp is the event or poll timestamp the API gave, if any.
	APITimestamp string
	// RetryOf, for a retry (the retry command's resubmission), names the
	// document it retries; nil for a first attempt.
	RetryOf *RetryLink
}

// RetryLink names the document a retry retries, the three ways it is
// known: its local id (as status, report and the retry command show it),
// its LocalRef (always set; its own result file has it as local_ref) and
// its API DocumentID ("" when it had none: rejected locally, or stuck at
// submission).
type RetryLink struct {
	ID         int64  `json:"id"`
	LocalRef   string `json:"local_ref"`
	DocumentID string `json:"document_id"`
}

// ownID returns the id that names the document's result file: its own API
// id, or "" when it has none (rejected, or a duplicate whose DocumentID is
// the original's).
func (d Document) ownID() string {
	switch d.Status {
	case vocab.StateRejected, vocab.StateDuplicate:
		return ""
	}
	return d.DocumentID
}

// Layout places files in the output directory:
//
//	<Root>/results/<day>/<id>.json
//	<Root>/csv/documents-<day>.csv
//	<Root>/csv/line_items-<day>.csv
//	<Root>/reports/reconciliation-<day>.<ext>
type Layout struct {
	// Root is the configured output_dir.
	Root string
	// Location is the time zone days are counted in. Defaults to UTC when nil.
	Location *time.Location
}

// DayFormat is the layout of a day in file and directory names.
const DayFormat = "2006-01-02"

// Day returns t's calendar day in the layout's time zone, as "2006-01-02".
func (l Layout) Day(t time.Time) string {
	loc := l.Location
	if loc == nil {
		loc = time.UTC
	}
	return t.In(loc).Format(DayFormat)
}

// ResultPath returns results/<day>/<name>.json for d, where day is the day
// of d.CompletedAt and name is d's own API id, or its LocalRef when it has no
// own id (rejected, duplicate, or never submitted). The name is passed
// through SafeName, so an id from the API can never escape the directory.
func (l Layout) ResultPath(d Document) string {
	name := d.ownID()
	if name == "" {
		name = d.LocalRef
	}
	return filepath.Join(l.Root, "results", l.Day(d.CompletedAt), SafeName(name)+".json")
}

// DocumentsCSV returns the path of the day's documents CSV file.
func (l Layout) DocumentsCSV(day string) string {
	return filepath.Join(l.Root, "csv", "documents-"+SafeName(day)+".csv")
}

// LineItemsCSV returns the path of the day's line items CSV file.
func (l Layout) LineItemsCSV(day string) string {
	return filepath.Join(l.Root, "csv", "line_items-"+SafeName(day)+".csv")
}

// ReportPath returns the path of the day's reconciliation report with the
// given extension ("md", "json", "csv"; a leading dot is accepted).
func (l Layout) ReportPath(day, ext string) string {
	ext = SafeName(strings.TrimPrefix(ext, "."))
	return filepath.Join(l.Root, "reports", "reconciliation-"+SafeName(day)+"."+ext)
}

// maxNameLen bounds a sanitised name well below the usual 255-byte limit of a
// file name, leaving room for the hash suffix and an extension.
const maxNameLen = 120

// SafeName turns s into a file name that is safe on every common file
// system: ASCII letters, digits, '.', '_' and '-' are kept, every other byte
// becomes '_', a leading '.' becomes '_', and the result is at most about 130
// bytes. When anything had to change, a short hash of the original is
// appended, so two different inputs never share a name (e.g. "a/b" and
// "a_b"). Names that need no change, like "doc_clx7abc123", are kept as is.
func SafeName(s string) string {
	var b strings.Builder
	changed := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '_' || c == '-' || c == '.' && i > 0
		if !ok {
			c = '_'
			changed = true
		}
		b.WriteByte(c)
	}
	out := b.String()
	if len(out) > maxNameLen {
		out = out[:maxNameLen]
		changed = true
	}
	if out == "" {
		changed = true
	}
	if changed {
		sum := sha256.Sum256([]byte(s))
		out += "-" + hex.EncodeToString(sum[:4])
	}
	return out
}
