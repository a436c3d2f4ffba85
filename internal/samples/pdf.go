package samples

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// The PDF rendering is a one-page PDF 1.4 file: catalog, page tree, page,
// Helvetica font, one uncompressed content stream and an info dictionary,
// with a correct cross-reference table, so it opens in any viewer. Each text
// line of the content stream is one string shown with Tj:
//
//	(INVOICE) Tj                      title, ignored when parsing
//	(Document type: invoice) Tj
//	(Merchant: Riverside Consulting LLC) Tj
//	(Invoice ID: INV-2026-0091) Tj
//	(Date: 2026-05-01) Tj
//	(Due date: 2026-05-31) Tj
//	(Currency: USD) Tj
//	(Payment method: card) Tj
//	(Item: 35 x 100.00 = 3500.00 | Strategy Consulting \227 May) Tj
//	(Subtotal: 3500.00) Tj
//	(Tax: 350.00) Tj
//	(Total: 3850.00) Tj
//	(DOCUPARSE-FAIL) Tj               only in samples meant to fail
//
// A field line is left out when the field is empty. Parentheses and
// backslashes are escaped, bytes above 0x7E are written as octal escapes
// (see winansi.go for the text encoding). Parsing ignores lines it does not
// know, so the title and any extra text do no harm.

// pdfLabels maps each field line's label to its accessor.
var pdfLabels = []struct {
	label string
	get   func(*Invoice) *string
}{
	{"Document type: ", func(i *Invoice) *string { return &i.DocumentType }},
	{"Merchant: ", func(i *Invoice) *string { return &i.Merchant }},
	{"Invoice ID: ", func(i *Invoice) *string { return &i.InvoiceID }},
	{"Date: ", func(i *Invoice) *string { return &i.Date }},
	{"Due date: ", func(i *Invoice) *string { return &i.DueDate }},
	{"Currency: ", func(i *Invoice) *string { return &i.Currency }},
	{"Payment method: ", func(i *Invoice) *string { return &i.PaymentMethod }},
}

var pdfTotals = []struct {
	label string
	get   func(*Invoice) *string
}{
	{"Subtotal: ", func(i *Invoice) *string { return &i.Subtotal }},
	{"Tax: ", func(i *Invoice) *string { return &i.Tax }},
	{"Total: ", func(i *Invoice) *string { return &i.Total }},
}

const itemLabel = "Item: "

// RenderPDF renders inv as the PDF described above.
func RenderPDF(inv Invoice) []byte {
	var lines []string
	for _, f := range pdfLabels {
		if v := *f.get(&inv); v != "" {
			lines = append(lines, f.label+v)
		}
	}
	for _, li := range inv.LineItems {
		lines = append(lines, fmt.Sprintf("%s%s x %s = %s | %s", itemLabel, li.Quantity, li.UnitPrice, li.Total, li.Description))
	}
	for _, f := range pdfTotals {
		if v := *f.get(&inv); v != "" {
			lines = append(lines, f.label+v)
		}
	}
	if inv.FailExtraction {
		lines = append(lines, FailMarker)
	}

	var content bytes.Buffer
	content.WriteString("BT\n/F1 16 Tf\n72 740 Td\n")
	content.WriteString(pdfString(strings.ToUpper(inv.DocumentType)))
	content.WriteString(" Tj\n/F1 11 Tf\n0 -10 Td\n")
	for _, l := range lines {
		content.WriteString("0 -16 Td\n")
		content.WriteString(pdfString(l))
		content.WriteString(" Tj\n")
	}
	content.WriteString("ET\n")

	objects := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
		fmt.Sprintf("<< /Length %d >>\nstream\n%sendstream", content.Len(), content.Bytes()),
		"<< /Producer (docuparse-ingest samples) >>",
	}

	var out bytes.Buffer
	out.WriteString("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
	offsets := make([]int, len(objects))
	for i, o := range objects {
		offsets[i] = out.Len()
		fmt.Fprintf(&out, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := out.Len()
	fmt.Fprintf(&out, "xref\n0 %d\n0000000000 65535 f \n", len(objects)+1)
	for _, off := range offsets {
		fmt.Fprintf(&out, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&out, "trailer\n<< /Size %d /Root 1 0 R /Info 6 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objects)+1, xref)
	return out.Bytes()
}

// pdfString returns s as a PDF string token: a literal string in
// Windows-1252 when possible, else a UTF-16BE hex string.
func pdfString(s string) string {
	b, ok := encodeWinAnsi(s)
	if !ok {
		return fmt.Sprintf("<%X>", encodeUTF16BE(s))
	}
	var sb strings.Builder
	sb.WriteByte('(')
	for _, c := range b {
		switch {
		case c == '(' || c == ')' || c == '\\':
			sb.WriteByte('\\')
			sb.WriteByte(c)
		case c < 0x20 || c > 0x7E:
			fmt.Fprintf(&sb, "\\%03o", c)
		default:
			sb.WriteByte(c)
		}
	}
	sb.WriteByte(')')
	return sb.String()
}

var streamHeader = regexp.MustCompile(`<<\s*/Length\s+(\d{1,9})\s*>>\s*stream\r?\n`)

// parsePDF reads back RenderPDF's format from the text lines of every
// content stream.
func parsePDF(content []byte) (Invoice, error) {
	if !bytes.HasPrefix(content, []byte("%PDF-")) {
		return Invoice{}, errors.New("not a PDF: missing %PDF- header")
	}
	var lines []string
	for _, m := range streamHeader.FindAllSubmatchIndex(content, -1) {
		n, err := strconv.Atoi(string(content[m[2]:m[3]]))
		if err != nil || m[1]+n > len(content) {
			return Invoice{}, errors.New("stream length runs past the end of the file")
		}
		lines = append(lines, shownStrings(content[m[1]:m[1]+n])...)
	}
	if len(lines) == 0 {
		return Invoice{}, errors.New("no text found in any content stream")
	}

	var inv Invoice
	for _, line := range lines {
		if line == FailMarker {
			inv.FailExtraction = true
			continue
		}
		if rest, ok := strings.CutPrefix(line, itemLabel); ok {
			li, err := parseItemLine(rest)
			if err != nil {
				return Invoice{}, err
			}
			inv.LineItems = append(inv.LineItems, li)
			continue
		}
		for _, f := range append(pdfLabels[:len(pdfLabels):len(pdfLabels)], pdfTotals...) {
			if v, ok := strings.CutPrefix(line, f.label); ok {
				*f.get(&inv) = v
				break
			}
		}
	}
	return inv, nil
}

// parseItemLine parses "<qty> x <unit> = <total> | <description>".
func parseItemLine(s string) (LineItem, error) {
	amounts, desc, ok := strings.Cut(s, " | ")
	if !ok {
		return LineItem{}, fmt.Errorf("item line %q: missing \" | \"", s)
	}
	qty, rest, ok1 := strings.Cut(amounts, " x ")
	unit, total, ok2 := strings.Cut(rest, " = ")
	if !ok1 || !ok2 {
		return LineItem{}, fmt.Errorf("item line %q: want \"qty x unit = total\"", s)
	}
	return LineItem{Description: desc, Quantity: qty, UnitPrice: unit, Total: total}, nil
}

// shownStrings returns, decoded, every string operand of a Tj operator in a
// content stream, in order.
func shownStrings(stream []byte) []string {
	var out []string
	for i := 0; i < len(stream); {
		var (
			raw  []byte
			next int
			ok   bool
		)
		switch {
		case stream[i] == '(':
			raw, next, ok = literalString(stream, i)
		case stream[i] == '<' && (i+1 >= len(stream) || stream[i+1] != '<'):
			raw, next, ok = hexString(stream, i)
		default:
			i++
			continue
		}
		if !ok {
			return out
		}
		j := next
		for j < len(stream) && isPDFSpace(stream[j]) {
			j++
		}
		if bytes.HasPrefix(stream[j:], []byte("Tj")) {
			out = append(out, decodePDFText(raw))
		}
		i = next
	}
	return out
}

func isPDFSpace(c byte) bool {
	return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\f' || c == 0
}

// literalString decodes the literal string starting at s[i] == '('. It
// returns the bytes, the index after the closing parenthesis, and false if
// the string is unterminated.
func literalString(s []byte, i int) ([]byte, int, bool) {
	var out []byte
	depth := 0
	for j := i + 1; j < len(s); j++ {
		c := s[j]
		switch c {
		case '(':
			depth++
			out = append(out, c)
		case ')':
			if depth == 0 {
				return out, j + 1, true
			}
			depth--
			out = append(out, c)
		case '\\':
			j++
			if j >= len(s) {
				return nil, 0, false
			}
			switch e := s[j]; e {
			case 'n':
				out = append(out, '\n')
			case 'r':
				out = append(out, '\r')
			case 't':
				out = append(out, '\t')
			case 'b':
				out = append(out, '\b')
			case 'f':
				out = append(out, '\f')
			case '\r':
				if j+1 < len(s) && s[j+1] == '\n' {
					j++
				}
			case '\n':
				// line continuation: nothing
			default:
				if e >= '0' && e <= '7' {
					v := 0
					k := 0
					for ; k < 3 && j+k < len(s) && s[j+k] >= '0' && s[j+k] <= '7'; k++ {
						v = v*8 + int(s[j+k]-'0')
					}
					j += k - 1
					out = append(out, byte(v))
				} else {
					out = append(out, e)
				}
			}
		default:
			out = append(out, c)
		}
	}
	return nil, 0, false
}

// hexString decodes the hex string starting at s[i] == '<'.
func hexString(s []byte, i int) ([]byte, int, bool) {
	var (
		out    []byte
		digits []byte
	)
	for j := i + 1; j < len(s); j++ {
		c := s[j]
		switch {
		case c == '>':
			if len(digits)%2 == 1 {
				digits = append(digits, '0')
			}
			for k := 0; k < len(digits); k += 2 {
				out = append(out, unhex(digits[k])<<4|unhex(digits[k+1]))
			}
			return out, j + 1, true
		case isPDFSpace(c):
		case unhex(c) != 0xFF:
			digits = append(digits, c)
		default:
			return nil, 0, false
		}
	}
	return nil, 0, false
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10
	}
	return 0xFF
}
