package output

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/docuparse"
	"github.com/docuparse/docuparse-ingest/internal/vocab"
)

// DocumentsHeader is the header of documents-<day>.csv, a fixed point of the
// design: one row per file.
var DocumentsHeader = []string{"document_id", "status", "source", "file_name", "sha256", "size_bytes",
	"batch_id", "submitted_at", "completed_at", "result_via", "document_type", "merchant", "invoice_id", "date",
	"due_date", "currency", "subtotal", "tax", "total", "payment_method", "line_item_count", "error_code", "error_message"}

// LineItemsHeader is the header of line_items-<day>.csv: one row per line
// item of a completed document.
var LineItemsHeader = []string{"document_id", "line_no", "description", "quantity", "unit_price", "total"}

// LineItemsContextHeader is the header of line_items-<day>.csv with
// output.line_items_context on: the fixed columns of LineItemsHeader, then
// the document's file_name, merchant and currency, so the file can be read
// without the documents file beside it.
var LineItemsContextHeader = append(append([]string(nil), LineItemsHeader...), "file_name", "merchant", "currency")

// ErrBadData is wrapped by the errors of DocumentRecord, LineItemRecords and
// MarshalJSON when a document's Data is not a JSON object of the contract's
// shape. Retrying will not help; the exporter should report the document.
var ErrBadData = errors.New("data is not a valid extraction result")

// ErrNoStatus is wrapped by the error of DocumentRecord for a Document
// without a Status.
var ErrNoStatus = errors.New("document has no status")

// DocumentRecord returns d's row of documents-<day>.csv, in the order of
// DocumentsHeader, every cell neutralised (see Neutralise).
//
// The extracted fields (document_type … line_item_count) are filled only for
// a completed document, from d.Data decoded as docuparse.Data: money stays
// the decimal string the API sent, fields absent from data and a null
// payment_method give empty cells, and line_item_count is the number of line
// items. For every other status they are empty — in particular a duplicate
// row never repeats the original's totals, so nothing is counted twice.
// Times are in TimeFormat (RFC 3339 UTC, milliseconds); a zero time gives
// an empty cell.
func DocumentRecord(d Document) ([]string, error) {
	if d.Status == "" {
		return nil, fmt.Errorf("csv row for %q: %w", d.LocalRef, ErrNoStatus)
	}
	rec := make([]string, 0, len(DocumentsHeader))
	rec = append(rec,
		d.DocumentID,
		string(d.Status),
		d.Source,
		d.FileName,
		d.SHA256,
		strconv.FormatInt(d.SizeBytes, 10),
		d.BatchID,
		FormatTime(d.SubmittedAt),
		FormatTime(d.CompletedAt),
		d.ResultVia,
	)
	if d.Status == vocab.StateCompleted {
		data, err := decodeData(d)
		if err != nil {
			return nil, err
		}
		pm := ""
		if data.PaymentMethod != nil {
			pm = *data.PaymentMethod
		}
		rec = append(rec,
			data.DocumentType,
			data.Merchant,
			data.InvoiceID,
			data.Date,
			data.DueDate,
			data.Currency,
			data.Subtotal,
			data.Tax,
			data.Total,
			pm,
			strconv.Itoa(len(data.LineItems)),
		)
	} else {
		rec = append(rec, "", "", "", "", "", "", "", "", "", "", "")
	}
	rec = append(rec, d.ErrorCode, d.ErrorMessage)
	return NeutraliseRecord(rec), nil
}

// LineItemRecords returns d's rows of line_items-<day>.csv, in the order of
// LineItemsHeader, every cell neutralised. Only a completed document has line
// items; for any other status the result is nil. line_no counts from 1 in the
// order of data.line_items, and quantity is the number exactly as written in
// the API's JSON ("35", "1.5").
func LineItemRecords(d Document) ([][]string, error) {
	recs, _, err := lineItemRecords(d)
	return recs, err
}

// lineItemRecords is LineItemRecords, also returning the data it decoded
// (for the context columns of LineItemRecordsWithContext).
func lineItemRecords(d Document) ([][]string, docuparse.Data, error) {
	if d.Status != vocab.StateCompleted {
		return nil, docuparse.Data{}, nil
	}
	data, err := decodeData(d)
	if err != nil {
		return nil, data, err
	}
	if len(data.LineItems) == 0 {
		return nil, data, nil
	}
	recs := make([][]string, 0, len(data.LineItems))
	for i, li := range data.LineItems {
		recs = append(recs, NeutraliseRecord([]string{
			d.DocumentID,
			strconv.Itoa(i + 1),
			li.Description,
			li.Quantity.String(),
			li.UnitPrice,
			li.Total,
		}))
	}
	return recs, data, nil
}

// LineItemRecordsWithContext is LineItemRecords with the context columns
// of LineItemsContextHeader after the fixed ones: every row repeats the
// document's file name, merchant and currency, neutralised. Its rows cut
// to len(LineItemsHeader) are LineItemRecords' rows.
func LineItemRecordsWithContext(d Document) ([][]string, error) {
	recs, data, err := lineItemRecords(d)
	if len(recs) == 0 || err != nil {
		return recs, err
	}
	ctx := NeutraliseRecord([]string{d.FileName, data.Merchant, data.Currency})
	for i, rec := range recs {
		recs[i] = append(rec[:len(rec):len(rec)], ctx...)
	}
	return recs, nil
}

// decodeData decodes d.Data as docuparse.Data. Absent or null data is an
// empty result, not an error.
func decodeData(d Document) (docuparse.Data, error) {
	var data docuparse.Data
	raw := bytes.TrimSpace(d.Data)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return data, nil
	}
	if raw[0] != '{' {
		return data, fmt.Errorf("document %s (%s): %w: not a JSON object", d.DocumentID, d.LocalRef, ErrBadData)
	}
	if err := json.Unmarshal(raw, &data); err != nil {
		return data, fmt.Errorf("document %s (%s): %w: %v", d.DocumentID, d.LocalRef, ErrBadData, err)
	}
	return data, nil
}

// TimeFormat is the one form of every timestamp in the CSV and JSON
// results: RFC 3339 in UTC with exactly three fractional digits
// (2026-12-03T13:25:04.461Z), so a column sorts and parses the same way in
// every row. Finer fractions are cut, not rounded.
const TimeFormat = "2006-01-02T15:04:05.000Z"

// FormatTime formats t in TimeFormat; the zero time is "".
func FormatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(TimeFormat)
}

// formatAPITime returns a timestamp the API wrote in TimeFormat when it is
// RFC 3339, and as sent otherwise (it is never dropped or made up).
func formatAPITime(s string) string {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return s
	}
	return FormatTime(t)
}
