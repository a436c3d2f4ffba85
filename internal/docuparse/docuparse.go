// Package docuparse owns the DocuParse API's wire types: the JSON bodies of
// requests, responses and webhook events exactly as ../shared/docuparse-api.md
// describes them, and the webhook signature scheme.
//
// It holds no behaviour beyond encoding rules. The API client
// (internal/apiclient), the simulator (internal/sim), the webhook receiver
// (receiver) and the state store all speak these types so that the two sides
// of the contract cannot drift apart.
package docuparse

import (
	"encoding/json"
	"time"
)

// Document statuses as the API reports them.
const (
	StatusProcessing = "processing"
	StatusCompleted  = "completed"
	StatusFailed     = "failed"
)

// Webhook event names (documented by the article).
const (
	EventDocumentCompleted = "document.completed"
	EventDocumentFailed    = "document.failed"
	EventBatchCompleted    = "batch.completed"
)

// Webhook and request header names.
const (
	HeaderSignature      = "X-DocuParse-Signature" // documented
	HeaderEvent          = "X-DocuParse-Event"     // assumed, optional
	HeaderDelivery       = "X-DocuParse-Delivery"  // assumed, optional
	HeaderIdempotencyKey = "Idempotency-Key"       // assumed
)

// Documented limits and assumed batch limits.
const (
	MaxFileBytes          = 10 << 20  // documented: 10 MB per file
	MaxBatchFiles         = 100       // assumed
	MaxBatchBytes         = 200 << 20 // assumed: 200 MB per batch request
	MaxClientReferenceLen = 200
	MaxIdempotencyKeyLen  = 255
)

// Error codes of the (assumed) error envelope.
const (
	CodeInvalidRequest      = "INVALID_REQUEST"
	CodeUnauthorized        = "UNAUTHORIZED"
	CodeNotFound            = "NOT_FOUND"
	CodeIdempotencyConflict = "IDEMPOTENCY_CONFLICT"
	CodeFileTooLarge        = "FILE_TOO_LARGE"
	CodeBatchTooLarge       = "BATCH_TOO_LARGE"
	CodeUnsupportedMedia    = "UNSUPPORTED_MEDIA_TYPE"
	CodeRateLimited         = "RATE_LIMITED"
	CodeExtractionFailed    = "EXTRACTION_FAILED"
)

// ExtractResponse is the 202 (or idempotent 200) answer of POST /extract.
type ExtractResponse struct {
	DocumentID      string `json:"document_id"`
	Status          string `json:"status"`
	ClientReference string `json:"client_reference,omitempty"`
}

// BatchDocument is one entry of a batch submit response, in file-part order.
type BatchDocument struct {
	DocumentID      string `json:"document_id"`
	Filename        string `json:"filename"`
	ClientReference string `json:"client_reference,omitempty"`
	Status          string `json:"status,omitempty"`
}

// BatchResponse is the 202 (or idempotent 200) answer of POST /batches.
type BatchResponse struct {
	BatchID   string          `json:"batch_id"`
	Status    string          `json:"status"`
	Documents []BatchDocument `json:"documents"`
	// Replayed is set by the client, not sent by the API: the answer came
	// with 200, the original response to an earlier request under the same
	// Idempotency-Key, rather than 202 for a batch created now.
	Replayed bool `json:"-"`
}

// Document is the body of GET /documents/{id}.
type Document struct {
	DocumentID      string          `json:"document_id"`
	BatchID         string          `json:"batch_id,omitempty"`
	ClientReference string          `json:"client_reference,omitempty"`
	Status          string          `json:"status"`
	CreatedAt       *time.Time      `json:"created_at"`
	CompletedAt     *time.Time      `json:"completed_at"`
	Data            json.RawMessage `json:"data"`
	Error           *Error          `json:"error"`
}

// Summary counts a batch's documents.
type Summary struct {
	Total     int `json:"total"`
	Succeeded int `json:"succeeded"`
	Failed    int `json:"failed"`
}

// BatchStatusDocument is one entry of GET /batches/{id}.
type BatchStatusDocument struct {
	DocumentID string `json:"document_id"`
	Status     string `json:"status"`
}

// Batch is the body of GET /batches/{id} (assumed endpoint).
type Batch struct {
	BatchID     string                `json:"batch_id"`
	Status      string                `json:"status"`
	CreatedAt   *time.Time            `json:"created_at"`
	CompletedAt *time.Time            `json:"completed_at"`
	Summary     Summary               `json:"summary"`
	Documents   []BatchStatusDocument `json:"documents"`
}

// Error is the API's error object, both in the error envelope of non-2xx
// answers and in document.failed events.
type Error struct {
	Code     string `json:"code"`
	Message  string `json:"message"`
	Filename string `json:"filename,omitempty"` // batch refusals name the file
}

// ErrorEnvelope wraps Error in every non-2xx answer.
type ErrorEnvelope struct {
	Error Error `json:"error"`
}

// Data is the extraction result of a completed document. Money is a decimal
// string, never a float. Fields the API may leave out are pointers or empty.
type Data struct {
	DocumentType  string     `json:"document_type,omitempty"`
	Merchant      string     `json:"merchant,omitempty"`
	InvoiceID     string     `json:"invoice_id,omitempty"`
	Date          string     `json:"date,omitempty"`
	DueDate       string     `json:"due_date,omitempty"`
	Currency      string     `json:"currency,omitempty"`
	Subtotal      string     `json:"subtotal,omitempty"`
	Tax           string     `json:"tax,omitempty"`
	Total         string     `json:"total,omitempty"`
	PaymentMethod *string    `json:"payment_method"`
	LineItems     []LineItem `json:"line_items"`
}

// LineItem is one line of an extracted document. Quantity is a JSON number
// in the article's example; it is kept as written (json.Number) so that
// "35" and "1.5" both survive unchanged.
type LineItem struct {
	Description string      `json:"description"`
	Quantity    json.Number `json:"quantity"`
	UnitPrice   string      `json:"unit_price"`
	Total       string      `json:"total"`
}

// Event is a webhook delivery body. Exactly one of Data, Error or Summary is
// set depending on Event. Unknown fields are ignored by decoding; the raw
// body is what the receiver journals, so nothing is lost.
type Event struct {
	Event      string          `json:"event"`
	DocumentID string          `json:"document_id,omitempty"`
	BatchID    string          `json:"batch_id,omitempty"`
	Timestamp  string          `json:"timestamp"`
	Data       json.RawMessage `json:"data,omitempty"`
	Error      *Error          `json:"error,omitempty"`
	Summary    *Summary        `json:"summary,omitempty"`
}
