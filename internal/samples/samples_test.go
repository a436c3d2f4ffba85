package samples

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

func TestGenerateRoundTripsEveryFile(t *testing.T) {
	t.Parallel()
	files := Generate(400, 42)
	if len(files) != 400 {
		t.Fatalf("Generate(400) made %d files", len(files))
	}
	for _, f := range files {
		inv, err := Parse(f.Name, f.Content)
		if err != nil {
			t.Fatalf("Parse(%q): %v", f.Name, err)
		}
		again, err := Render(f.Name, inv)
		if err != nil {
			t.Fatalf("Render(%q): %v", f.Name, err)
		}
		if !bytes.Equal(again.Content, f.Content) {
			t.Fatalf("%s: rendering the parsed invoice differs from the file", f.Name)
		}
		checkArithmetic(t, f.Name, inv)
		if got, want := inv.FailExtraction, bytes.Contains(f.Content, []byte(FailMarker)); got != want {
			t.Errorf("%s: FailExtraction=%v but marker present=%v", f.Name, got, want)
		}
	}
}

func checkArithmetic(t *testing.T, name string, inv Invoice) {
	t.Helper()
	var sum int64
	for _, li := range inv.LineItems {
		c, err := ParseCents(li.Total)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		sum += c
	}
	sub, _ := ParseCents(inv.Subtotal)
	tax, _ := ParseCents(inv.Tax)
	total, _ := ParseCents(inv.Total)
	if sum != sub || sub+tax != total {
		t.Errorf("%s: lines %d, subtotal %d, tax %d, total %d do not add up", name, sum, sub, tax, total)
	}
}

func TestGenerateIsVariedUniqueAndDeterministic(t *testing.T) {
	t.Parallel()
	files := Generate(200, 7)
	names := map[string]bool{}
	exts := map[string]int{}
	types := map[string]int{}
	currencies := map[string]bool{}
	odd, fails := 0, 0
	for _, f := range files {
		if names[f.Name] {
			t.Errorf("name %q twice", f.Name)
		}
		names[f.Name] = true
		if strings.ContainsAny(f.Name, "/\\") || strings.HasPrefix(f.Name, ".") {
			t.Errorf("name %q is not a plain base name", f.Name)
		}
		exts[strings.ToLower(path.Ext(f.Name))]++
		if strings.ContainsAny(f.Name, " '\"") || strings.ToValidUTF8(f.Name, "") != f.Name || hasNonASCII(f.Name) {
			odd++
		}
		inv, err := Parse(f.Name, f.Content)
		if err != nil {
			t.Fatal(err)
		}
		types[inv.DocumentType]++
		currencies[inv.Currency] = true
		if n := len(inv.LineItems); n < 1 || n > 5 {
			t.Errorf("%s: %d line items", f.Name, n)
		}
		if inv.FailExtraction {
			fails++
		}
	}
	if exts[".pdf"] < 50 || exts[".csv"] < 50 {
		t.Errorf("extension mix %v", exts)
	}
	if types[TypeInvoice] < 50 || types[TypeReceipt] < 30 {
		t.Errorf("type mix %v", types)
	}
	if len(currencies) < 4 {
		t.Errorf("only %d currencies", len(currencies))
	}
	if odd < 20 {
		t.Errorf("only %d odd names", odd)
	}
	if fails != 10 {
		t.Errorf("%d of 200 fail extraction, want 10 (5%%)", fails)
	}

	if !reflect.DeepEqual(Generate(30, 7), Generate(30, 7)) {
		t.Error("same seed gave different files")
	}
	if reflect.DeepEqual(Generate(30, 7), Generate(30, 8)) {
		t.Error("different seeds gave the same files")
	}
	if Generate(0, 1) != nil || Generate(-3, 1) != nil {
		t.Error("Generate of n <= 0 should be empty")
	}
}

func hasNonASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return true
		}
	}
	return false
}

// The article's document.completed example, data part.
const articleData = `{
"document_type": "invoice",
"merchant": "Riverside Consulting LLC",
"invoice_id": "INV-2026-0091",
"date": "2026-05-01",
"due_date": "2026-05-31",
"currency": "USD",
"subtotal": "3500.00",
"tax": "350.00",
"total": "3850.00",
"payment_method": null,
"line_items": [
{
"description": "Strategy Consulting — May",
"quantity": 35,
"unit_price": "100.00",
"total": "3500.00"
}
]
}`

func TestDemoRiversideMatchesTheArticle(t *testing.T) {
	t.Parallel()
	files := Demo()
	if len(files) < 6 {
		t.Fatalf("Demo has %d files", len(files))
	}
	f := files[0]
	if f.Name != "riverside-consulting-INV-2026-0091.pdf" {
		t.Fatalf("first demo file is %q", f.Name)
	}
	inv, err := Parse(f.Name, f.Content)
	if err != nil {
		t.Fatal(err)
	}
	got, err := json.Marshal(inv.Data())
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, []byte(articleData)); err != nil {
		t.Fatal(err)
	}
	if string(got) != buf.String() {
		t.Errorf("data\n got %s\nwant %s", got, buf.String())
	}
}

func TestDemoFilesParseAndOneFails(t *testing.T) {
	t.Parallel()
	fails := 0
	names := map[string]bool{}
	for _, f := range Demo() {
		names[f.Name] = true
		inv, err := Parse(f.Name, f.Content)
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		checkArithmetic(t, f.Name, inv)
		if inv.FailExtraction {
			fails++
		}
	}
	if fails != 1 {
		t.Errorf("%d demo files fail extraction, want 1", fails)
	}
	if len(names) != len(Demo()) {
		t.Error("demo names are not unique")
	}
}

func TestTrickyTextSurvivesBothRenderings(t *testing.T) {
	t.Parallel()
	inv := Invoice{
		DocumentType:  TypeReceipt,
		Merchant:      `Smith, "Jones" & (Partners) \ 東京 — Żabka`,
		InvoiceID:     "a,b\"c",
		Date:          "2026-02-28",
		Currency:      "EUR",
		PaymentMethod: "Visa •••• 4242",
		LineItems: []LineItem{
			{Description: "Item | with pipe = and x signs", Quantity: "1.5", UnitPrice: "0.99"},
			{Description: "((nested)) \\backslash\\ )", Quantity: "0.25", UnitPrice: "-10.00"},
			{Description: " leading and trailing spaces ", Quantity: "3", UnitPrice: "1.00"},
			{Description: "", Quantity: "1", UnitPrice: "0.00"},
		},
		FailExtraction: true,
	}
	if err := inv.ComputeTotals(1900); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"x.pdf", "x.csv", "X.PDF", "y.Csv"} {
		f, err := Render(name, inv)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Parse(name, f.Content)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !reflect.DeepEqual(got, inv) {
			t.Errorf("%s:\n got %+v\nwant %+v", name, got, inv)
		}
	}
}

func TestComputeTotalsRoundsHalfUpInCents(t *testing.T) {
	t.Parallel()
	inv := Invoice{LineItems: []LineItem{
		{Quantity: "0.25", UnitPrice: "0.99"}, // 0.2475 → 0.25
		{Quantity: "1.5", UnitPrice: "0.03"},  // 0.045 → 0.05
		{Quantity: "3", UnitPrice: "0.10"},    // 0.30
	}}
	if err := inv.ComputeTotals(725); err != nil {
		t.Fatal(err)
	}
	want := []string{"0.25", "0.05", "0.30"}
	for i, li := range inv.LineItems {
		if li.Total != want[i] {
			t.Errorf("line %d total %s, want %s", i+1, li.Total, want[i])
		}
	}
	// 0.60 × 7.25% = 0.0435 → 0.04
	if inv.Subtotal != "0.60" || inv.Tax != "0.04" || inv.Total != "0.64" {
		t.Errorf("got %s + %s = %s", inv.Subtotal, inv.Tax, inv.Total)
	}
	bad := Invoice{LineItems: []LineItem{{Quantity: "1e3", UnitPrice: "1.00"}}}
	if err := bad.ComputeTotals(0); err == nil {
		t.Error("quantity 1e3 accepted")
	}
	if err := inv.ComputeTotals(-1); err == nil {
		t.Error("negative tax accepted")
	}
}

func TestParseCents(t *testing.T) {
	t.Parallel()
	good := map[string]int64{"0": 0, "3850.00": 385000, "3850.5": 385050, "-12.30": -1230, "0.07": 7}
	for in, want := range good {
		got, err := ParseCents(in)
		if err != nil || got != want {
			t.Errorf("ParseCents(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "-", ".5", "1.", "1.234", "1,000.00", "$5", "1e3", "01.00", "99999999999999.00", " 1.00"} {
		if _, err := ParseCents(in); err == nil {
			t.Errorf("ParseCents(%q) accepted", in)
		}
	}
	for _, c := range []int64{0, 5, -5, 385000, -123456} {
		s := FormatCents(c)
		back, err := ParseCents(s)
		if err != nil || back != c {
			t.Errorf("FormatCents(%d) = %q does not parse back (%d, %v)", c, s, back, err)
		}
	}
}

func TestParseRejectsWhatIsNotASample(t *testing.T) {
	t.Parallel()
	good := Demo()
	pdf, csvFile := good[0], good[1]
	cases := []struct {
		name    string
		content []byte
	}{
		{"a.txt", pdf.Content},
		{"a.pdf", []byte("hello")},
		{"a.pdf", []byte("%PDF-1.4\n%%EOF\n")},
		{"a.pdf", pdf.Content[:len(pdf.Content)/2]},
		{"a.pdf", bytes.Replace(pdf.Content, []byte("Document type: invoice"), []byte("Document type: memo!!!"), 1)},
		{"a.pdf", bytes.Replace(pdf.Content, []byte("= 3500.00"), []byte("= 3,500.00"), 1)},
		{"a.csv", []byte("")},
		{"a.csv", []byte("field,value\ndocument_type,invoice\n")},
		{"a.csv", []byte("not,a,sample\n")},
		{"a.csv", csvFile.Content[:len(csvFile.Content)/3]},
		{"a.csv", bytes.Replace(csvFile.Content, []byte("merchant,"), []byte("merchantx,"), 1)},
		{"a.csv", bytes.Replace(csvFile.Content, []byte("currency,EUR\n"), nil, 1)},
		{"a.csv", append(append([]byte{}, csvFile.Content...), "x,1,2\n"...)},
		{"a.csv", []byte("field,value\n\"unterminated\n")},
	}
	for i, c := range cases {
		if _, err := Parse(c.name, c.content); err == nil {
			t.Errorf("case %d (%s): accepted", i, c.name)
		}
	}
}

// TestPDFStructure checks what a viewer relies on: header, objects at the
// offsets the xref table names, startxref pointing at the table, %%EOF.
func TestPDFStructure(t *testing.T) {
	t.Parallel()
	for _, f := range append(Demo(), Generate(40, 3)...) {
		if !strings.EqualFold(path.Ext(f.Name), ".pdf") {
			continue
		}
		c := f.Content
		if !bytes.HasPrefix(c, []byte("%PDF-1.4\n")) || !bytes.HasSuffix(c, []byte("%%EOF\n")) {
			t.Fatalf("%s: bad header or trailer", f.Name)
		}
		m := regexp.MustCompile(`startxref\n(\d+)\n%%EOF\n$`).FindSubmatch(c)
		if m == nil {
			t.Fatalf("%s: no startxref", f.Name)
		}
		xref, _ := strconv.Atoi(string(m[1]))
		if !bytes.HasPrefix(c[xref:], []byte("xref\n0 7\n")) {
			t.Fatalf("%s: startxref does not point at the xref table", f.Name)
		}
		entries := regexp.MustCompile(`(\d{10}) 00000 n \n`).FindAllSubmatch(c[xref:], -1)
		if len(entries) != 6 {
			t.Fatalf("%s: %d xref entries", f.Name, len(entries))
		}
		for i, e := range entries {
			off, _ := strconv.Atoi(string(e[1]))
			if !bytes.HasPrefix(c[off:], fmt.Appendf(nil, "%d 0 obj\n", i+1)) {
				t.Errorf("%s: object %d is not at offset %d", f.Name, i+1, off)
			}
		}
		for _, b := range c[15:] { // after the binary comment the file is ASCII
			if b >= 0x80 {
				t.Fatalf("%s: non-ASCII byte in the body", f.Name)
			}
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range append(Demo(), Generate(10, 1)...) {
		f.Add(s.Name, s.Content)
	}
	f.Add("x.pdf", []byte("%PDF-1.4\n<< /Length 999999999 >>\nstream\n"))
	f.Add("x.pdf", []byte("%PDF-1.4\n<< /Length 5 >>\nstream\n(abc\\"))
	f.Add("x.pdf", []byte("%PDF-1.4\n<< /Length 9 >>\nstream\n<FEF> Tj\n"))
	f.Fuzz(func(t *testing.T, name string, content []byte) {
		inv, err := Parse(name, content)
		if err == nil {
			if _, err := json.Marshal(inv.Data()); err != nil {
				t.Fatalf("parsed invoice does not encode: %v", err)
			}
		}
	})
}
