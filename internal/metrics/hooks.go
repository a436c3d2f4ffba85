package metrics

import (
	"net/http"
	"sync/atomic"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/apiclient"
)

// ObserveAPI records one API request attempt: its endpoint (one of the
// apiclient.Endpoint* names), its HTTP status (0 when it got no response),
// how long it took and which attempt of its call it was (1 for the first).
// It fits apiclient.Config.Observe through a one-line adapter.
func (m *Metrics) ObserveAPI(endpoint string, status int, d time.Duration, attempt int) {
	if m == nil {
		return
	}
	endpoint = endpointLabel(endpoint)
	m.apiRequests.WithLabelValues(endpoint, codeLabel(status)).Inc()
	m.apiDuration.observe(endpoint, max(d, 0).Seconds())
	if attempt > 1 {
		m.apiRetries.child(endpoint).Inc()
	}
	if status == http.StatusTooManyRequests {
		m.apiRateLimited.Inc()
	}
	now := m.now()
	if status > 0 && status < 500 {
		m.apiAnswered.Store(&now)
	} else {
		m.apiFailed.Store(&now)
	}
}

// ObserveRequest is ObserveAPI for an apiclient.RequestInfo, so that it can
// be called from apiclient.Config.Observe as is.
func (m *Metrics) ObserveRequest(ri apiclient.RequestInfo) {
	m.ObserveAPI(ri.Endpoint, ri.StatusCode, ri.Duration, ri.Attempt)
}

// APIStatus reports when an API attempt last got an answer from the API
// (any status below 500, 4xx and 429 included: the API was reachable) and
// when one last did not (no response, or 5xx), for a readiness check such
// as "API reachable recently". Each is the zero time when no such attempt
// happened since New, and both are on a nil *Metrics. Each is the clock's
// reading as taken: from time.Now, with its monotonic reading, so that
// comparing the two, or measuring time.Since either, ignores wall clock
// steps.
func (m *Metrics) APIStatus() (lastAnswered, lastFailed time.Time) {
	if m == nil {
		return time.Time{}, time.Time{}
	}
	return load(&m.apiAnswered), load(&m.apiFailed)
}

// load returns the time p holds, the zero time if none.
func load(p *atomic.Pointer[time.Time]) time.Time {
	if t := p.Load(); t != nil {
		return *t
	}
	return time.Time{}
}

// Transition records one committed document transition (store.Transition's
// From and To). Only the state entered is a label.
func (m *Metrics) Transition(from, to string) {
	if m == nil {
		return
	}
	m.transitions.child(to).Inc()
}

// BatchSubmitted records a batch sent to the API in mode store.ModeBatch or
// store.ModeSingle, with its number of files.
func (m *Metrics) BatchSubmitted(mode string, files int) {
	if m == nil {
		return
	}
	m.batches.child(mode).Inc()
	if files >= 0 {
		m.batchFiles.Observe(float64(files))
	}
}

// Webhook records one webhook delivery by outcome: WebhookOK,
// WebhookDuplicate, or a refusal (one of vocab.Refusals). The
// receiver's OnRefused reasons are valid outcomes.
func (m *Metrics) Webhook(outcome string) {
	if m == nil {
		return
	}
	m.deliveries.child(outcome).Inc()
}

// WebhookApplied records one journaled event processed by the applier, by
// the status it ended in: vocab.EventApplied, EventDuplicate, EventConflict,
// EventOrphan or EventDead.
func (m *Metrics) WebhookApplied(status string) {
	if m == nil {
		return
	}
	m.applied.child(status).Inc()
}

// Polls records one polling pass (reconcile.Pass's Polled, BatchPolls and
// Errors). Zero or negative numbers add nothing.
func (m *Metrics) Polls(polled, batchPolls, errors int) {
	if m == nil {
		return
	}
	m.polls.add(PollDocument, polled)
	m.polls.add(PollBatch, batchPolls)
	m.polls.add(PollError, errors)
}

// OutputWritten records one output of a kind: OutputJSON,
// OutputDocumentRows or OutputLineItemRows.
func (m *Metrics) OutputWritten(kind string) {
	m.OutputsWritten(kind, 1)
}

// OutputsWritten records n outputs of a kind at once (the rows of one CSV
// append). Zero or negative n adds nothing.
func (m *Metrics) OutputsWritten(kind string, n int) {
	if m == nil {
		return
	}
	m.outputs.add(kind, n)
}

// ReportRun records one run of the nightly report; a successful one also
// sets docuparse_report_last_success_timestamp_seconds to now.
func (m *Metrics) ReportRun(ok bool) {
	if m == nil {
		return
	}
	if !ok {
		m.reportRuns.child(ReportFailure).Inc()
		return
	}
	m.reportRuns.child(ReportSuccess).Inc()
	m.reportLastSuccess.Set(unixSeconds(m.now()))
}

// unixSeconds is t as fractional Unix seconds; 0 for the zero time.
func unixSeconds(t time.Time) float64 {
	if t.IsZero() {
		return 0
	}
	return float64(t.UnixNano()) / 1e9
}
