package output

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/docuparse/docuparse-ingest/internal/docuparse"
	"github.com/docuparse/docuparse-ingest/internal/vocab"
)

// jsonDocument fixes the key order and the key set of a result file. Every
// key is always present, so consumers see one stable shape.
type jsonDocument struct {
	DocumentID   string           `json:"document_id"`
	LocalRef     string           `json:"local_ref"`
	Status       string           `json:"status"`
	Source       string           `json:"source"`
	SourceName   string           `json:"source_name"`
	FileName     string           `json:"file_name"`
	SHA256       string           `json:"sha256"`
	SizeBytes    int64            `json:"size_bytes"`
	BatchID      string           `json:"batch_id"`
	SubmittedAt  *string          `json:"submitted_at"`
	CompletedAt  *string          `json:"completed_at"`
	ResultVia    string           `json:"result_via"`
	APITimestamp string           `json:"api_timestamp"`
	DuplicateOf  string           `json:"duplicate_of"`
	RetryOf      *RetryLink       `json:"retry_of"`
	Error        *docuparse.Error `json:"error"`
	Data         json.RawMessage  `json:"data"`
}

// MarshalJSON returns the content of d's result file: one JSON object with
// the keys document_id, local_ref, status, source, source_name, file_name,
// sha256, size_bytes, batch_id, submitted_at, completed_at, result_via,
// api_timestamp, duplicate_of, retry_of, error and data, always in this
// order and always present. source is the file's full path or URL,
// source_name the name of its [[source]] table. retry_of is null, or for a
// retry {"id","local_ref","document_id"} of the document it retries (see
// RetryLink). Times are strings in TimeFormat (RFC 3339 UTC, milliseconds)
// or null — api_timestamp too, unless the API's own was not RFC 3339 (then
// it is kept as sent); error is
// {"code","message"} or null; data is the API's object as received (keys in
// their order, numbers and money strings unchanged, only re-indented) or
// null. A duplicate's data is always null, whatever d.Data holds: like its
// CSV row, its result file never repeats the original's totals (document_id
// and duplicate_of lead to the original). The output is indented with two spaces, does not escape <, > and &,
// and ends in a newline. Data that is not valid JSON is an error wrapping
// ErrBadData.
func MarshalJSON(d Document) ([]byte, error) {
	jd := jsonDocument{
		DocumentID:   d.DocumentID,
		LocalRef:     d.LocalRef,
		Status:       string(d.Status),
		Source:       d.Source,
		SourceName:   d.SourceName,
		FileName:     d.FileName,
		SHA256:       d.SHA256,
		SizeBytes:    d.SizeBytes,
		BatchID:      d.BatchID,
		SubmittedAt:  timePtr(FormatTime(d.SubmittedAt)),
		CompletedAt:  timePtr(FormatTime(d.CompletedAt)),
		ResultVia:    d.ResultVia,
		APITimestamp: formatAPITime(d.APITimestamp),
		DuplicateOf:  d.DuplicateOf,
		RetryOf:      d.RetryOf,
	}
	if d.ErrorCode != "" || d.ErrorMessage != "" {
		jd.Error = &docuparse.Error{Code: d.ErrorCode, Message: d.ErrorMessage}
	}
	if raw := bytes.TrimSpace(d.Data); len(raw) > 0 && d.Status != vocab.StateDuplicate {
		if !json.Valid(raw) {
			return nil, fmt.Errorf("result json for %s (%s): %w: invalid JSON", d.DocumentID, d.LocalRef, ErrBadData)
		}
		jd.Data = raw
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(jd); err != nil { // Encode ends the value with '\n'
		return nil, fmt.Errorf("result json for %s (%s): %w", d.DocumentID, d.LocalRef, err)
	}
	return buf.Bytes(), nil
}

func timePtr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
