package samples

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
)

// The CSV rendering, written and read with encoding/csv (RFC 4180 quoting, so
// commas, quotes and non-ASCII text survive):
//
//	field,value
//	document_type,invoice
//	merchant,Riverside Consulting LLC
//	invoice_id,INV-2026-0091
//	date,2026-05-01
//	due_date,2026-05-31
//	currency,USD
//	payment_method,
//	subtotal,3500.00
//	tax,350.00
//	total,3850.00
//	description,quantity,unit_price,total
//	Strategy Consulting — May,35,100.00,3500.00
//
// Key rows have two cells, in this order, every key present (an empty value is
// an empty field; an empty payment_method means null). A sample meant to fail
// extraction has one more key row, "marker,DOCUPARSE-FAIL", before the line
// item header. The header row of four cells starts the line items, one row
// each. Values are single-line text: carriage returns do not survive.

const csvHeader = "field"

var lineItemHeader = []string{"description", "quantity", "unit_price", "total"}

// csvKeys lists the key rows in order, with accessors into an Invoice.
var csvKeys = []struct {
	key string
	get func(*Invoice) *string
}{
	{"document_type", func(i *Invoice) *string { return &i.DocumentType }},
	{"merchant", func(i *Invoice) *string { return &i.Merchant }},
	{"invoice_id", func(i *Invoice) *string { return &i.InvoiceID }},
	{"date", func(i *Invoice) *string { return &i.Date }},
	{"due_date", func(i *Invoice) *string { return &i.DueDate }},
	{"currency", func(i *Invoice) *string { return &i.Currency }},
	{"payment_method", func(i *Invoice) *string { return &i.PaymentMethod }},
	{"subtotal", func(i *Invoice) *string { return &i.Subtotal }},
	{"tax", func(i *Invoice) *string { return &i.Tax }},
	{"total", func(i *Invoice) *string { return &i.Total }},
}

const markerKey = "marker"

// RenderCSV renders inv in the CSV format described above.
func RenderCSV(inv Invoice) []byte {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	rows := [][]string{{csvHeader, "value"}}
	for _, k := range csvKeys {
		rows = append(rows, []string{k.key, *k.get(&inv)})
	}
	if inv.FailExtraction {
		rows = append(rows, []string{markerKey, FailMarker})
	}
	rows = append(rows, lineItemHeader)
	for _, li := range inv.LineItems {
		rows = append(rows, []string{li.Description, li.Quantity, li.UnitPrice, li.Total})
	}
	// Writing to a bytes.Buffer cannot fail.
	_ = w.WriteAll(rows)
	return buf.Bytes()
}

// parseCSV reads back RenderCSV's format: the "field,value" header, the
// key,value rows up to the line item header, then the line items.
func parseCSV(content []byte) (Invoice, error) {
	r := csvRows{csv.NewReader(bytes.NewReader(content))}
	r.FieldsPerRecord = -1

	rec, err := r.next()
	if err != nil || len(rec) != 2 || rec[0] != csvHeader {
		return Invoice{}, errors.New("not a sample CSV: first row must be \"field,value\"")
	}
	var inv Invoice
	if err := r.fields(&inv); err != nil {
		return Invoice{}, err
	}
	if err := r.lineItems(&inv); err != nil {
		return Invoice{}, err
	}
	return inv, nil
}

// csvRows reads a sample CSV row by row.
type csvRows struct{ *csv.Reader }

// next returns the next row, or io.EOF after the last.
func (r csvRows) next() ([]string, error) {
	rec, err := r.Read()
	if errors.Is(err, io.EOF) {
		return nil, io.EOF
	}
	if err != nil {
		return nil, fmt.Errorf("read csv: %w", err)
	}
	return rec, nil
}

// fields reads the key,value rows into inv, up to and including the line
// item header; every key of csvKeys must appear once.
func (r csvRows) fields(inv *Invoice) error {
	seen := map[string]bool{}
	for {
		rec, err := r.next()
		if errors.Is(err, io.EOF) {
			return errors.New("missing line item header row")
		}
		if err != nil {
			return err
		}
		if slices.Equal(rec, lineItemHeader) {
			break
		}
		if len(rec) != 2 {
			line, _ := r.FieldPos(0)
			return fmt.Errorf("line %d: want a key,value row, got %d cells", line, len(rec))
		}
		if err := setField(inv, seen, rec[0], rec[1]); err != nil {
			return err
		}
	}
	for _, k := range csvKeys {
		if !seen[k.key] {
			return fmt.Errorf("missing key %q", k.key)
		}
	}
	return nil
}

// setField sets one key of inv, refusing a key seen before or unknown.
func setField(inv *Invoice, seen map[string]bool, key, value string) error {
	if seen[key] {
		return fmt.Errorf("key %q appears twice", key)
	}
	seen[key] = true
	if key == markerKey {
		if value != FailMarker {
			return fmt.Errorf("marker %q is not %q", value, FailMarker)
		}
		inv.FailExtraction = true
		return nil
	}
	for _, k := range csvKeys {
		if k.key == key {
			*k.get(inv) = value
			return nil
		}
	}
	return fmt.Errorf("unknown key %q", key)
}

// lineItems reads the line item rows to the end into inv.
func (r csvRows) lineItems(inv *Invoice) error {
	for {
		rec, err := r.next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if len(rec) != len(lineItemHeader) {
			line, _ := r.FieldPos(0)
			return fmt.Errorf("line %d: want %d line item cells, got %d", line, len(lineItemHeader), len(rec))
		}
		inv.LineItems = append(inv.LineItems, LineItem{
			Description: rec[0], Quantity: rec[1], UnitPrice: rec[2], Total: rec[3],
		})
	}
}
