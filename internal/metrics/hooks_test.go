package metrics

import (
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/docuparse/docuparse-ingest/internal/apiclient"
	"github.com/docuparse/docuparse-ingest/internal/store"
	"github.com/docuparse/docuparse-ingest/internal/vocab"
)

func TestAPIHooksMoveCounters(t *testing.T) {
	m, url := newMetrics(t, Options{})
	m.ObserveAPI(apiclient.EndpointSubmitBatch, 202, 300*time.Millisecond, 1)
	m.ObserveAPI(apiclient.EndpointSubmitBatch, 429, 10*time.Millisecond, 1)
	m.ObserveAPI(apiclient.EndpointSubmitBatch, 202, 200*time.Millisecond, 2)
	m.ObserveAPI(apiclient.EndpointGetDocument, 0, 5*time.Second, 1)
	m.ObserveAPI(apiclient.EndpointGetDocument, 0, time.Second, 3)

	compare(t, url, `
# HELP docuparse_api_requests_total DocuParse API request attempts (retries included), by endpoint and HTTP status code (network_error: no response).
# TYPE docuparse_api_requests_total counter
docuparse_api_requests_total{code="202",endpoint="submit_batch"} 2
docuparse_api_requests_total{code="429",endpoint="submit_batch"} 1
docuparse_api_requests_total{code="network_error",endpoint="get_document"} 2
# HELP docuparse_api_retries_total DocuParse API request attempts that were retries of an earlier attempt, by endpoint.
# TYPE docuparse_api_retries_total counter
docuparse_api_retries_total{endpoint="extract"} 0
docuparse_api_retries_total{endpoint="get_batch"} 0
docuparse_api_retries_total{endpoint="get_document"} 1
docuparse_api_retries_total{endpoint="submit_batch"} 1
# HELP docuparse_api_rate_limited_total DocuParse API request attempts answered 429 Too Many Requests.
# TYPE docuparse_api_rate_limited_total counter
docuparse_api_rate_limited_total 1
`, "docuparse_api_requests_total", "docuparse_api_retries_total", "docuparse_api_rate_limited_total")

	fams := scrape(t, url)
	h, ok := sample(fams, "docuparse_api_request_duration_seconds", "endpoint=submit_batch")
	if !ok {
		t.Fatal("no duration histogram for submit_batch")
	}
	if got := h.GetHistogram().GetSampleCount(); got != 3 {
		t.Errorf("submit_batch duration count = %d, want 3", got)
	}
	if got := h.GetHistogram().GetSampleSum(); got < 0.509 || got > 0.511 {
		t.Errorf("submit_batch duration sum = %v, want 0.51", got)
	}
	h, _ = sample(fams, "docuparse_api_request_duration_seconds", "endpoint=get_document")
	if got := h.GetHistogram().GetSampleCount(); got != 2 {
		t.Errorf("get_document duration count = %d, want 2", got)
	}
}

func TestPipelineHooksMoveCounters(t *testing.T) {
	m, url := newMetrics(t, Options{})
	m.Transition("", string(store.StateQueued))
	m.Transition("", string(store.StateQueued))
	m.Transition(string(store.StateQueued), string(store.StateSubmitting))
	m.Transition(string(store.StateCompleted), string(store.StateExported))
	m.BatchSubmitted(store.ModeBatch, 12)
	m.BatchSubmitted(store.ModeBatch, 1)
	m.BatchSubmitted(store.ModeSingle, 3)
	m.Webhook(WebhookOK)
	m.Webhook(WebhookOK)
	m.Webhook(WebhookDuplicate)
	m.Webhook(vocab.RefusedBadSignature) // OnRefused's reasons are outcomes as they are
	m.Webhook(vocab.RefusedTooLarge)
	m.Webhook(vocab.RefusedBadRequest)
	m.Webhook(vocab.RefusedStoreError)
	for _, reason := range []string{vocab.RefusedOverloaded, vocab.RefusedSlowBody, vocab.RefusedBusy,
		vocab.RefusedStaleTimestamp, vocab.RefusedFutureTimestamp, vocab.RefusedStaleTimestamp} {
		m.Webhook(reason)
	}
	m.WebhookApplied(vocab.EventApplied)
	m.WebhookApplied(vocab.EventOrphan)
	m.WebhookApplied(vocab.EventDead)
	m.Polls(5, 2, 1)
	m.Polls(1, 0, 0)
	m.OutputWritten(OutputJSON)
	m.OutputsWritten(OutputDocumentRows, 4)
	m.OutputsWritten(OutputLineItemRows, 17)

	compare(t, url, `
# HELP docuparse_document_transitions_total Committed document state transitions, by the state entered.
# TYPE docuparse_document_transitions_total counter
docuparse_document_transitions_total{to="queued"} 2
docuparse_document_transitions_total{to="submitting"} 1
docuparse_document_transitions_total{to="submitted"} 0
docuparse_document_transitions_total{to="completed"} 0
docuparse_document_transitions_total{to="failed"} 0
docuparse_document_transitions_total{to="rejected"} 0
docuparse_document_transitions_total{to="duplicate"} 0
docuparse_document_transitions_total{to="vanished"} 0
docuparse_document_transitions_total{to="exported"} 1
# HELP docuparse_batches_submitted_total Batches submitted to the API, by mode (batch: one POST /batches; single: one POST /extract per file).
# TYPE docuparse_batches_submitted_total counter
docuparse_batches_submitted_total{mode="batch"} 2
docuparse_batches_submitted_total{mode="single"} 1
# HELP docuparse_batch_files Number of files in each submitted batch.
# TYPE docuparse_batch_files histogram
docuparse_batch_files_bucket{le="1"} 1
docuparse_batch_files_bucket{le="2"} 1
docuparse_batch_files_bucket{le="5"} 2
docuparse_batch_files_bucket{le="10"} 2
docuparse_batch_files_bucket{le="20"} 3
docuparse_batch_files_bucket{le="50"} 3
docuparse_batch_files_bucket{le="100"} 3
docuparse_batch_files_bucket{le="+Inf"} 3
docuparse_batch_files_sum 16
docuparse_batch_files_count 3
# HELP docuparse_webhook_deliveries_total Webhook deliveries received, by outcome (ok, duplicate; refused: bad_signature, too_large, bad_request, store_error, overloaded, slow_body, busy, stale_timestamp, future_timestamp).
# TYPE docuparse_webhook_deliveries_total counter
docuparse_webhook_deliveries_total{outcome="ok"} 2
docuparse_webhook_deliveries_total{outcome="duplicate"} 1
docuparse_webhook_deliveries_total{outcome="bad_signature"} 1
docuparse_webhook_deliveries_total{outcome="too_large"} 1
docuparse_webhook_deliveries_total{outcome="bad_request"} 1
docuparse_webhook_deliveries_total{outcome="store_error"} 1
docuparse_webhook_deliveries_total{outcome="overloaded"} 1
docuparse_webhook_deliveries_total{outcome="slow_body"} 1
docuparse_webhook_deliveries_total{outcome="busy"} 1
docuparse_webhook_deliveries_total{outcome="stale_timestamp"} 2
docuparse_webhook_deliveries_total{outcome="future_timestamp"} 1
# HELP docuparse_webhook_events_applied_total Journaled webhook events processed by the applier, by resulting status (applied, duplicate, conflict, orphan, dead).
# TYPE docuparse_webhook_events_applied_total counter
docuparse_webhook_events_applied_total{status="applied"} 1
docuparse_webhook_events_applied_total{status="duplicate"} 0
docuparse_webhook_events_applied_total{status="conflict"} 0
docuparse_webhook_events_applied_total{status="orphan"} 1
docuparse_webhook_events_applied_total{status="dead"} 1
# HELP docuparse_polls_total Polling fallback calls, by kind (document: GET /documents answered; batch: GET /batches answered; error: failed).
# TYPE docuparse_polls_total counter
docuparse_polls_total{kind="document"} 6
docuparse_polls_total{kind="batch"} 2
docuparse_polls_total{kind="error"} 1
# HELP docuparse_outputs_written_total Outputs written, by kind (json files, documents_csv_rows, line_item_rows).
# TYPE docuparse_outputs_written_total counter
docuparse_outputs_written_total{kind="json"} 1
docuparse_outputs_written_total{kind="documents_csv_rows"} 4
docuparse_outputs_written_total{kind="line_item_rows"} 17
`, "docuparse_document_transitions_total", "docuparse_batches_submitted_total", "docuparse_batch_files",
		"docuparse_webhook_deliveries_total", "docuparse_webhook_events_applied_total",
		"docuparse_polls_total", "docuparse_outputs_written_total")
}

func TestReportRunSetsLastSuccess(t *testing.T) {
	now := time.Date(2026, 11, 28, 2, 0, 5, 0, time.UTC)
	m, url := newMetrics(t, Options{Now: func() time.Time { return now }})
	compare(t, url, `
# HELP docuparse_report_last_success_timestamp_seconds Unix time of the last successful report run since the process started; 0 when none.
# TYPE docuparse_report_last_success_timestamp_seconds gauge
docuparse_report_last_success_timestamp_seconds 0
`, "docuparse_report_last_success_timestamp_seconds")

	m.ReportRun(false)
	m.ReportRun(true)
	m.ReportRun(false)
	fams := scrape(t, url)
	ts, _ := sample(fams, "docuparse_report_last_success_timestamp_seconds")
	if got, want := ts.GetGauge().GetValue(), float64(now.Unix()); got != want {
		t.Errorf("last success = %v, want %v", got, want)
	}
	ok, _ := sample(fams, "docuparse_report_runs_total", "result=success")
	bad, _ := sample(fams, "docuparse_report_runs_total", "result=failure")
	if ok.GetCounter().GetValue() != 1 || bad.GetCounter().GetValue() != 2 {
		t.Errorf("report runs success=%v failure=%v, want 1 and 2", ok.GetCounter().GetValue(), bad.GetCounter().GetValue())
	}
}

// Values outside a label's known set must not create new series: a typo,
// or a path passed by mistake, becomes "other".
func TestUnknownLabelValuesAreOther(t *testing.T) {
	m, url := newMetrics(t, Options{})
	m.ObserveAPI("/srv/invoices/inbox/a.pdf", 999, time.Second, 1)
	m.ObserveAPI(apiclient.EndpointExtract, -1, time.Second, 1)
	m.Transition("", "doc_clx7abc123")
	m.BatchSubmitted("turbo", 2)
	m.Webhook("weird")
	m.WebhookApplied("pending")
	m.OutputWritten("xml")

	fams := scrape(t, url)
	for _, c := range []struct {
		name   string
		labels []string
	}{
		{"docuparse_api_requests_total", []string{"endpoint=other", "code=other"}},
		{"docuparse_api_requests_total", []string{"endpoint=extract", "code=other"}},
		{"docuparse_document_transitions_total", []string{"to=other"}},
		{"docuparse_batches_submitted_total", []string{"mode=other"}},
		{"docuparse_webhook_deliveries_total", []string{"outcome=other"}},
		{"docuparse_webhook_events_applied_total", []string{"status=other"}},
		{"docuparse_outputs_written_total", []string{"kind=other"}},
	} {
		s, ok := sample(fams, c.name, c.labels...)
		if !ok || s.GetCounter().GetValue() != 1 {
			t.Errorf("%s%v: want one count, got %v (found %v)", c.name, c.labels, s.GetCounter().GetValue(), ok)
		}
	}
	if _, ok := sample(fams, "docuparse_api_request_duration_seconds", "endpoint=other"); !ok {
		t.Error("no duration series for endpoint=other")
	}
	for _, f := range fams {
		for _, s := range f.GetMetric() {
			for _, l := range s.GetLabel() {
				if strings.Contains(l.GetValue(), "/srv/") || strings.Contains(l.GetValue(), "doc_") {
					t.Errorf("%s carries an unbounded label %s=%q", f.GetName(), l.GetName(), l.GetValue())
				}
			}
		}
	}
}

func TestBadNumbersDoNotPanic(t *testing.T) {
	m, url := newMetrics(t, Options{})
	m.Polls(-1, -5, 0)
	m.OutputsWritten(OutputJSON, -3)
	m.BatchSubmitted(store.ModeBatch, -1)
	m.ObserveAPI(apiclient.EndpointGetBatch, 200, -time.Second, -4)
	fams := scrape(t, url)
	for _, kind := range []string{PollDocument, PollBatch, PollError} {
		if s, _ := sample(fams, "docuparse_polls_total", "kind="+kind); s.GetCounter().GetValue() != 0 {
			t.Errorf("polls %s = %v, want 0", kind, s.GetCounter().GetValue())
		}
	}
	if s, _ := sample(fams, "docuparse_outputs_written_total", "kind=json"); s.GetCounter().GetValue() != 0 {
		t.Errorf("json outputs = %v, want 0", s.GetCounter().GetValue())
	}
	if s, _ := sample(fams, "docuparse_batch_files"); s.GetHistogram().GetSampleCount() != 0 {
		t.Errorf("a batch of -1 files was observed")
	}
	if s, _ := sample(fams, "docuparse_batches_submitted_total", "mode=batch"); s.GetCounter().GetValue() != 1 {
		t.Errorf("the batch itself should still count")
	}
	d, _ := sample(fams, "docuparse_api_request_duration_seconds", "endpoint=get_batch")
	if d.GetHistogram().GetSampleCount() != 1 || d.GetHistogram().GetSampleSum() != 0 {
		t.Errorf("negative duration: count %d sum %v, want 1 and 0", d.GetHistogram().GetSampleCount(), d.GetHistogram().GetSampleSum())
	}
	if s, _ := sample(fams, "docuparse_api_retries_total", "endpoint=get_batch"); s.GetCounter().GetValue() != 0 {
		t.Errorf("attempt -4 counted as a retry")
	}
}

func TestNilMetricsIsANoOp(t *testing.T) {
	var m *Metrics
	m.ObserveAPI(apiclient.EndpointExtract, 202, time.Second, 1)
	m.ObserveRequest(apiclient.RequestInfo{Endpoint: apiclient.EndpointExtract, StatusCode: 202})
	m.Transition("", "queued")
	m.BatchSubmitted(store.ModeBatch, 1)
	m.Webhook(WebhookOK)
	m.WebhookApplied(vocab.EventApplied)
	m.Polls(1, 1, 1)
	m.OutputWritten(OutputJSON)
	m.OutputsWritten(OutputJSON, 2)
	m.ReportRun(true)
	url := serve(t, m)
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("nil Metrics handler: status %d, want 404", resp.StatusCode)
	}
}

func TestBuildInfo(t *testing.T) {
	_, url := newMetrics(t, Options{Version: "1.4.0", Commit: "abc1234"})
	compare(t, url, `
# HELP docuparse_build_info Always 1; labelled with the daemon's version, commit and Go version.
# TYPE docuparse_build_info gauge
docuparse_build_info{commit="abc1234",goversion="`+runtime.Version()+`",version="1.4.0"} 1
`, "docuparse_build_info")

	_, url = newMetrics(t, Options{})
	fams := scrape(t, url)
	if _, ok := sample(fams, "docuparse_build_info", "version=unknown", "commit=unknown"); !ok {
		t.Error("empty version and commit should read unknown")
	}
}

// The registry also serves the Go, process and promhttp collectors.
func TestStandardCollectorsServed(t *testing.T) {
	_, url := newMetrics(t, Options{})
	scrape(t, url) // the handler counts the first scrape in the second
	fams := scrape(t, url)
	for _, name := range []string{"go_goroutines", "go_memstats_alloc_bytes", "promhttp_metric_handler_requests_total"} {
		if _, ok := fams[name]; !ok {
			t.Errorf("%s missing", name)
		}
	}
	if runtime.GOOS == "linux" {
		if _, ok := fams["process_resident_memory_bytes"]; !ok {
			t.Error("process_resident_memory_bytes missing")
		}
	}
}

// Every docuparse_* metric follows the naming conventions promlint checks
// (units, _total on counters, no reserved suffixes misused).
func TestMetricNamesPassLint(t *testing.T) {
	m, _ := newMetrics(t, Options{})
	m.ObserveAPI(apiclient.EndpointExtract, 202, time.Second, 1)
	fams, err := m.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range fams {
		if strings.HasPrefix(f.GetName(), namespace+"_") {
			names = append(names, f.GetName())
		}
	}
	if len(names) < 13 {
		t.Fatalf("only %d docuparse metrics: %v", len(names), names)
	}
	problems, err := testutil.GatherAndLint(m.reg, names...)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("lint %s: %s", p.Metric, p.Text)
	}
}

// Hooks are called from every part at once; -race checks them, the totals
// check nothing is lost.
func TestHooksAreSafeConcurrently(t *testing.T) {
	m, url := newMetrics(t, Options{})
	const workers, each = 8, 250
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				m.ObserveAPI(apiclient.EndpointExtract, 202, time.Millisecond, 1)
				m.Transition("", string(store.StateQueued))
				m.Webhook(WebhookOK)
				m.Webhook("unknown-outcome")
				m.Polls(1, 0, 0)
			}
		}()
	}
	for range 3 { // scrapes while the hooks run
		scrape(t, url)
	}
	wg.Wait()
	fams := scrape(t, url)
	want := float64(workers * each)
	for _, c := range []struct {
		name  string
		label string
	}{
		{"docuparse_api_requests_total", "endpoint=extract"},
		{"docuparse_document_transitions_total", "to=queued"},
		{"docuparse_webhook_deliveries_total", "outcome=ok"},
		{"docuparse_webhook_deliveries_total", "outcome=other"},
		{"docuparse_polls_total", "kind=document"},
	} {
		if s, _ := sample(fams, c.name, c.label); s.GetCounter().GetValue() != want {
			t.Errorf("%s{%s} = %v, want %v", c.name, c.label, s.GetCounter().GetValue(), want)
		}
	}
}

func TestAPIStatusTracksAnswersAndFailures(t *testing.T) {
	now := t0
	m, _ := newMetrics(t, Options{Now: func() time.Time { return now }})
	if a, f := m.APIStatus(); !a.IsZero() || !f.IsZero() {
		t.Fatalf("fresh metrics: %v %v, want zero times", a, f)
	}
	m.ObserveRequest(apiclient.RequestInfo{Endpoint: apiclient.EndpointExtract, Attempt: 1, StatusCode: 202, Duration: time.Second})
	now = t0.Add(time.Minute)
	m.ObserveAPI(apiclient.EndpointExtract, 503, time.Second, 2)
	now = t0.Add(2 * time.Minute)
	m.ObserveAPI(apiclient.EndpointExtract, 0, time.Second, 3)
	now = t0.Add(3 * time.Minute)
	m.ObserveAPI(apiclient.EndpointExtract, 429, time.Second, 4) // rate limited, but reachable
	a, f := m.APIStatus()
	if !a.Equal(t0.Add(3*time.Minute)) || !f.Equal(t0.Add(2*time.Minute)) {
		t.Errorf("APIStatus = %v, %v; want answered at +3m, failed at +2m", a, f)
	}
	if got := testutil.ToFloat64(m.apiRequests.WithLabelValues(apiclient.EndpointExtract, "202")); got != 1 {
		t.Errorf("ObserveRequest did not count: %v", got)
	}
	var none *Metrics
	if a, f := none.APIStatus(); !a.IsZero() || !f.IsZero() {
		t.Error("nil Metrics reports API times")
	}
}

// The readiness check compares these times with each other and with
// time.Now: they must keep the monotonic reading they were taken with, or
// a wall clock stepped back would hide an API down for the size of the
// step (a failure after the step looks older than the last answer).
func TestAPIStatusKeepsTheMonotonicReading(t *testing.T) {
	m, _ := newMetrics(t, Options{})
	m.ObserveAPI(apiclient.EndpointExtract, 202, time.Second, 1)
	m.ObserveAPI(apiclient.EndpointExtract, 503, time.Second, 1)
	a, f := m.APIStatus()
	for name, at := range map[string]time.Time{"answered": a, "failed": f} {
		// time.Time's String ends in "m=±…" exactly when it has one.
		if !strings.Contains(at.String(), " m=") {
			t.Errorf("last %s %v has lost its monotonic clock reading", name, at)
		}
	}
}

// TestEveryRefusalIsALabel: each webhook refusal reason the receiver can
// give is a delivery outcome of its own, never folded into Other, so a
// reason added to vocab.Refusals is a metrics label without another list
// to update.
func TestEveryRefusalIsALabel(t *testing.T) {
	m, url := newMetrics(t, Options{})
	for _, reason := range vocab.Refusals {
		m.Webhook(reason)
	}
	fams := scrape(t, url)
	for _, reason := range vocab.Refusals {
		s, ok := sample(fams, "docuparse_webhook_deliveries_total", "outcome="+reason)
		if !ok || s.GetCounter().GetValue() != 1 {
			t.Errorf("outcome %q: series %v, want a count of 1", reason, s)
		}
	}
	if s, ok := sample(fams, "docuparse_webhook_deliveries_total", "outcome="+Other); ok && s.GetCounter().GetValue() != 0 {
		t.Errorf("outcome %q counted %v, want 0", Other, s.GetCounter().GetValue())
	}
}
