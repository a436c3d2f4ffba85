package metrics

import (
	"strconv"

	"github.com/docuparse/docuparse-ingest/internal/apiclient"
	"github.com/docuparse/docuparse-ingest/internal/store"
)

// Other is the label value counted for any value outside a label's known
// set, so that no caller can grow a metric's series without bound.
const Other = "other"

// NetworkError is the code label of an API attempt that got no HTTP
// response (status 0).
const NetworkError = "network_error"

// Webhook delivery outcomes, for Webhook. The refusals are spelt as the
// receiver's Refused… reasons, so HandlerConfig.OnRefused can be passed to
// Webhook as is.
const (
	WebhookOK              = "ok"               // a new event journaled, 200
	WebhookDuplicate       = "duplicate"        // a repeat acknowledged with 200, nothing stored
	WebhookBadSignature    = "bad_signature"    // 401
	WebhookTooLarge        = "too_large"        // 413
	WebhookBadRequest      = "bad_request"      // 405, 415 or an unreadable body
	WebhookStoreError      = "store_error"      // could not journal: 5xx, the API retries
	WebhookOverloaded      = "overloaded"       // the budget of unverified bodies was spent: 503
	WebhookSlowBody        = "slow_body"        // the body did not arrive in time: 408
	WebhookBusy            = "busy"             // every slot for verified deliveries was taken: 503
	WebhookStaleTimestamp  = "stale_timestamp"  // verified, but stamped before the replay window: 400
	WebhookFutureTimestamp = "future_timestamp" // verified, but stamped too far ahead of this clock: 400
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
	batchModes      = []string{store.ModeBatch, store.ModeSingle}
	webhookOutcomes = []string{WebhookOK, WebhookDuplicate, WebhookBadSignature, WebhookTooLarge, WebhookBadRequest, WebhookStoreError,
		WebhookOverloaded, WebhookSlowBody, WebhookBusy, WebhookStaleTimestamp, WebhookFutureTimestamp}
	eventStatuses    = []string{store.EventPending, store.EventOrphan, store.EventApplied, store.EventDuplicate, store.EventConflict, store.EventDead}
	appliedStatuses  = []string{store.EventApplied, store.EventDuplicate, store.EventConflict, store.EventOrphan, store.EventDead}
	outputKinds      = []string{OutputJSON, OutputDocumentRows, OutputLineItemRows}
	pollKinds        = []string{PollDocument, PollBatch, PollError}
	reportResults    = []string{ReportSuccess, ReportFailure}
	knownEndpointSet = toSet(apiEndpoints)
)

func stateNames() []string {
	out := make([]string, len(store.States))
	for i, s := range store.States {
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
