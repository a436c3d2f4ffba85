package metrics

import (
	"strconv"

	"github.com/docuparse/docuparse-ingest/internal/apiclient"
	"github.com/docuparse/docuparse-ingest/internal/store"
	"github.com/docuparse/docuparse-ingest/internal/vocab"
)

// Other is the label value counted for any value outside a label's known
// set, so that no caller can grow a metric's series without bound.
const Other = "other"

// NetworkError is the code label of an API attempt that got no HTTP
// response (status 0).
const NetworkError = "network_error"

// Webhook delivery outcomes, for Webhook, besides the refusals
// (vocab.Refusals), which are outcomes as they are, so that
// HandlerConfig.OnRefused can be passed to Webhook.
const (
	WebhookOK        = "ok"        // a new event journaled, 200
	WebhookDuplicate = "duplicate" // a repeat acknowledged with 200, nothing stored
)

// Output kinds, for OutputWritten and OutputsWritten.
const (
	OutputJSON         = "json"               // one JSON result file
	OutputDocumentRows = "documents_csv_rows" // rows of documents-*.csv
	OutputLineItemRows = "line_item_rows"     // rows of line_items-*.csv
)

// Poll kinds, the values of docuparse_polls_total's kind label.
const (
	PollDocument = "document" // GET /documents/{id} answered
	PollBatch    = "batch"    // GET /batches/{id} answered while polling
	PollError    = "error"    // a poll call that failed
)

// Report run results, the values of docuparse_report_runs_total's result label.
const (
	ReportSuccess = "success"
	ReportFailure = "failure"
)

var (
	apiEndpoints = []string{apiclient.EndpointSubmitBatch, apiclient.EndpointExtract,
		apiclient.EndpointGetDocument, apiclient.EndpointGetBatch}
	batchModes       = []string{store.ModeBatch, store.ModeSingle}
	webhookOutcomes  = append([]string{WebhookOK, WebhookDuplicate}, vocab.Refusals...)
	eventStatuses    = vocab.EventStatuses
	appliedStatuses  = []string{vocab.EventApplied, vocab.EventDuplicate, vocab.EventConflict, vocab.EventOrphan, vocab.EventDead}
	outputKinds      = []string{OutputJSON, OutputDocumentRows, OutputLineItemRows}
	pollKinds        = []string{PollDocument, PollBatch, PollError}
	reportResults    = []string{ReportSuccess, ReportFailure}
	knownEndpointSet = toSet(apiEndpoints)
)

func stateNames() []string {
	out := make([]string, len(vocab.States))
	for i, s := range vocab.States {
		out[i] = string(s)
	}
	return out
}

func toSet(values []string) map[string]bool {
	m := make(map[string]bool, len(values))
	for _, v := range values {
		m[v] = true
	}
	return m
}

// endpointLabel keeps an endpoint label within the API client's endpoints.
func endpointLabel(endpoint string) string {
	if knownEndpointSet[endpoint] {
		return endpoint
	}
	return Other
}

// codeLabel is an HTTP status as a label: its number, NetworkError for 0,
// Other for anything that is not a status code.
func codeLabel(status int) string {
	switch {
	case status == 0:
		return NetworkError
	case status >= 100 && status <= 599:
		return strconv.Itoa(status)
	default:
		return Other
	}
}
