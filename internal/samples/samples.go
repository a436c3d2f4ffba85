// Package samples owns the project's own sample invoices and receipts: their
// content (Invoice), their two renderings (a key/value CSV and a small PDF 1.4
// file), parsing either rendering back exactly, and deterministic sets of
// sample files for tests, benchmarks and the demo.
//
// It does not own the extraction result wire type (internal/docuparse.Data),
// only the conversion to it, and it knows nothing of HTTP, webhooks or the
// daemon's state. The simulator (internal/sim) uses Parse as its "extraction".
//
// Money is always a decimal string with two decimals ("3850.00"); amounts are
// computed with integer cents, never floats.
package samples

import (
	"encoding/json"
	"fmt"
	"path"
	"strings"

	"github.com/docuparse/docuparse-ingest/internal/docuparse"
)

// FailMarker is the text that makes a sample fail extraction on purpose.
// A file containing it anywhere is still a valid PDF or CSV.
const FailMarker = "DOCUPARSE-FAIL"

// Document types a sample can have.
const (
	TypeInvoice = "invoice"
	TypeReceipt = "receipt"
)

// Invoice is the content of one sample document: the fields of
// docuparse.Data plus whether it carries the FailMarker.
type Invoice struct {
	DocumentType  string // TypeInvoice or TypeReceipt
	Merchant      string
	InvoiceID     string
	Date          string // YYYY-MM-DD
	DueDate       string // YYYY-MM-DD or empty
	Currency      string // ISO 4217, e.g. "USD"
	Subtotal      string // decimal string, e.g. "3500.00"
	Tax           string
	Total         string
	PaymentMethod string // empty means JSON null
	LineItems     []LineItem
	// FailExtraction makes the renderings carry FailMarker, so that the
	// simulator answers EXTRACTION_FAILED for the file.
	FailExtraction bool
}

// LineItem is one line of a sample. Quantity is a JSON number as written
// ("35", "1.5"); prices are decimal strings.
type LineItem struct {
	Description string
	Quantity    string
	UnitPrice   string
	Total       string
}

// File is one rendered sample: a base name and its bytes.
type File struct {
	Name    string
	Content []byte
}

// Data converts the invoice to the API's extraction result, exactly as the
// simulator reports it. An empty PaymentMethod becomes null; LineItems is
// never nil, so it encodes as [] rather than null.
func (inv Invoice) Data() *docuparse.Data {
	d := &docuparse.Data{
		DocumentType: inv.DocumentType,
		Merchant:     inv.Merchant,
		InvoiceID:    inv.InvoiceID,
		Date:         inv.Date,
		DueDate:      inv.DueDate,
		Currency:     inv.Currency,
		Subtotal:     inv.Subtotal,
		Tax:          inv.Tax,
		Total:        inv.Total,
		LineItems:    make([]docuparse.LineItem, 0, len(inv.LineItems)),
	}
	if inv.PaymentMethod != "" {
		pm := inv.PaymentMethod
		d.PaymentMethod = &pm
	}
	for _, li := range inv.LineItems {
		d.LineItems = append(d.LineItems, docuparse.LineItem{
			Description: li.Description,
			Quantity:    json.Number(li.Quantity),
			UnitPrice:   li.UnitPrice,
			Total:       li.Total,
		})
	}
	return d
}

// ComputeTotals fills every line item's Total (quantity × unit price, rounded
// half up to the cent), Subtotal (their sum), Tax (Subtotal × taxBasisPoints /
// 10000, rounded half up; 0..10000) and Total (Subtotal + Tax), all in integer cents.
func (inv *Invoice) ComputeTotals(taxBasisPoints int64) error {
	if taxBasisPoints < 0 || taxBasisPoints > 10000 {
		return fmt.Errorf("compute totals: tax rate %d basis points is outside 0..10000", taxBasisPoints)
	}
	var subtotal int64
	for i := range inv.LineItems {
		li := &inv.LineItems[i]
		milli, err := parseQuantityMilli(li.Quantity)
		if err != nil {
			return fmt.Errorf("compute totals: line %d: %w", i+1, err)
		}
		price, err := ParseCents(li.UnitPrice)
		if err != nil {
			return fmt.Errorf("compute totals: line %d unit price: %w", i+1, err)
		}
		if abs(milli) > maxLineMilli || abs(price) > maxLineCents {
			return fmt.Errorf("compute totals: line %d: quantity or unit price too large", i+1)
		}
		line := divRoundHalfUp(milli*price, 1000)
		li.Total = FormatCents(line)
		subtotal += line
		if subtotal > maxSubtotalCents || subtotal < -maxSubtotalCents {
			return fmt.Errorf("compute totals: subtotal too large")
		}
	}
	tax := divRoundHalfUp(subtotal*taxBasisPoints, 10000)
	inv.Subtotal = FormatCents(subtotal)
	inv.Tax = FormatCents(tax)
	inv.Total = FormatCents(subtotal + tax)
	return nil
}

// Render returns the rendering chosen by name's extension (.pdf or .csv,
// case-insensitive).
func Render(name string, inv Invoice) (File, error) {
	switch strings.ToLower(path.Ext(name)) {
	case ".pdf":
		return File{Name: name, Content: RenderPDF(inv)}, nil
	case ".csv":
		return File{Name: name, Content: RenderCSV(inv)}, nil
	default:
		return File{}, fmt.Errorf("render %q: unsupported extension (want .pdf or .csv)", name)
	}
}

// Parse reads back a rendering made by RenderPDF or RenderCSV, chosen by
// filename's extension (case-insensitive). Anything else is an error; it never
// panics on arbitrary input.
func Parse(filename string, content []byte) (Invoice, error) {
	var (
		inv Invoice
		err error
	)
	switch strings.ToLower(path.Ext(filename)) {
	case ".pdf":
		inv, err = parsePDF(content)
	case ".csv":
		inv, err = parseCSV(content)
	default:
		return Invoice{}, fmt.Errorf("parse %q: unsupported extension (want .pdf or .csv)", filename)
	}
	if err != nil {
		return Invoice{}, fmt.Errorf("parse %q: %w", filename, err)
	}
	if err := inv.validate(); err != nil {
		return Invoice{}, fmt.Errorf("parse %q: %w", filename, err)
	}
	return inv, nil
}

// validate checks what the API result needs to be well formed: a known
// document type, decimal money and numeric quantities.
func (inv Invoice) validate() error {
	if inv.DocumentType != TypeInvoice && inv.DocumentType != TypeReceipt {
		return fmt.Errorf("document type %q is not %q or %q", inv.DocumentType, TypeInvoice, TypeReceipt)
	}
	for name, v := range map[string]string{"subtotal": inv.Subtotal, "tax": inv.Tax, "total": inv.Total} {
		if v == "" {
			continue
		}
		if _, err := ParseCents(v); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	for i, li := range inv.LineItems {
		if _, err := parseQuantityMilli(li.Quantity); err != nil {
			return fmt.Errorf("line %d: %w", i+1, err)
		}
		if _, err := ParseCents(li.UnitPrice); err != nil {
			return fmt.Errorf("line %d unit price: %w", i+1, err)
		}
		if _, err := ParseCents(li.Total); err != nil {
			return fmt.Errorf("line %d total: %w", i+1, err)
		}
	}
	return nil
}
