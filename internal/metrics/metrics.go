package metrics

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/docuparse/docuparse-ingest/internal/store"
	"github.com/docuparse/docuparse-ingest/internal/vocab"
)

// namespace prefixes every metric of the daemon.
const namespace = "docuparse"

// DefaultStatusTimeout bounds the store read made on each scrape.
const DefaultStatusTimeout = 2 * time.Second

// Options configure Metrics. The zero value is ready to use (no store
// collector, version "unknown").
type Options struct {
	// Version and Commit label docuparse_build_info; empty is "unknown".
	Version string
	Commit  string
	// Status, when set, is read on every scrape for the store gauges
	// (typically (*store.Store).Status). When it fails, the scrape still
	// succeeds and reports docuparse_store_up 0.
	Status func(context.Context) (*store.Status, error)
	// StatusTimeout bounds one Status call. Defaults to DefaultStatusTimeout.
	StatusTimeout time.Duration
	// Now is the clock. Defaults to time.Now.
	Now func() time.Time
	// Sources are the configured source names: each has its
	// docuparse_documents_ended_total series, at 0, from the start (see
	// AddSources).
	Sources []string
	// Logger receives failed store reads and handler errors. Defaults to
	// discarding.
	Logger *slog.Logger
}

// Metrics owns a private Prometheus registry and every collector of the
// daemon. Its hook methods are safe for concurrent use, never block, and do
// nothing on a nil *Metrics.
type Metrics struct {
	reg     *prometheus.Registry
	handler http.Handler
	now     func() time.Time

	apiRequests    *prometheus.CounterVec
	apiDuration    *histogramFamily
	apiRetries     *counterFamily
	apiRateLimited prometheus.Counter
	// The last attempt the API answered (< 500), and the last with no
	// answer or a 5xx: clock readings as taken, monotonic reading
	// included, so that comparing them is immune to a wall clock step.
	apiAnswered, apiFailed atomic.Pointer[time.Time]

	transitions *counterFamily
	ended       *prometheus.CounterVec // docuparse_documents_ended_total{outcome, source}
	batches     *counterFamily
	batchFiles  prometheus.Histogram

	deliveries *counterFamily
	applied    *counterFamily
	polls      *counterFamily
	outputs    *counterFamily

	reportRuns        *counterFamily
	reportLastSuccess prometheus.Gauge

	health  *healthMetrics // see health.go
	buckets *bucketMetrics // see buckets.go
	mirror  *mirrorMetrics // see mirror.go
}

// New builds every collector and registers it, with the Go and process
// collectors, in a new private registry.
func New(opts Options) (*Metrics, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.StatusTimeout <= 0 {
		opts.StatusTimeout = DefaultStatusTimeout
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	m := &Metrics{reg: prometheus.NewRegistry(), now: opts.Now}
	cs := []prometheus.Collector{
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		newBuildInfo(opts),
	}
	cs = append(cs, m.newAPI()...)
	cs = append(cs, m.newPipeline(opts.Sources)...)
	cs = append(cs, m.newResults()...)
	cs = append(cs, m.newHealth()...)
	cs = append(cs, m.newBuckets()...)
	cs = append(cs, m.newMirror()...)
	if opts.Status != nil {
		cs = append(cs, newStoreCollector(opts.Status, opts.StatusTimeout, opts.Now, opts.Logger))
	}
	for _, c := range cs {
		if err := m.reg.Register(c); err != nil {
			return nil, fmt.Errorf("register metrics: %w", err)
		}
	}

	h := promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorLog:      slog.NewLogLogger(opts.Logger.Handler(), slog.LevelWarn),
		ErrorHandling: promhttp.ContinueOnError,
		Registry:      m.reg, // promhttp_metric_handler_errors_total
	})
	m.handler = promhttp.InstrumentMetricHandler(m.reg, h)
	return m, nil
}

// newBuildInfo is the constant docuparse_build_info series.
func newBuildInfo(opts Options) prometheus.Collector {
	buildInfo := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: namespace, Name: "build_info",
		Help: "Always 1; labelled with the daemon's version, commit and Go version.",
	}, []string{"version", "commit", "goversion"})
	buildInfo.WithLabelValues(orUnknown(opts.Version), orUnknown(opts.Commit), runtime.Version()).Set(1)
	return buildInfo
}

// newAPI builds the collectors of API request attempts.
func (m *Metrics) newAPI() []prometheus.Collector {
	m.apiRequests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Subsystem: "api", Name: "requests_total",
		Help: "DocuParse API request attempts (retries included), by endpoint and HTTP status code (network_error: no response).",
	}, []string{"endpoint", "code"})
	m.apiDuration = newHistogramFamily(prometheus.HistogramOpts{
		Namespace: namespace, Subsystem: "api", Name: "request_duration_seconds",
		Help:    "Time from sending a DocuParse API request attempt to its response headers (or its error), by endpoint.",
		Buckets: []float64{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120},
	}, "endpoint", apiEndpoints)
	m.apiRetries = newCounterFamily(prometheus.CounterOpts{
		Namespace: namespace, Subsystem: "api", Name: "retries_total",
		Help: "DocuParse API request attempts that were retries of an earlier attempt, by endpoint.",
	}, "endpoint", apiEndpoints)
	m.apiRateLimited = prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: namespace, Subsystem: "api", Name: "rate_limited_total",
		Help: "DocuParse API request attempts answered 429 Too Many Requests.",
	})
	return []prometheus.Collector{m.apiRequests, m.apiDuration.vec, m.apiRetries.vec, m.apiRateLimited}
}

// newPipeline builds the collectors of documents and batches.
func (m *Metrics) newPipeline(sources []string) []prometheus.Collector {
	m.transitions = newCounterFamily(prometheus.CounterOpts{
		Namespace: namespace, Subsystem: "document", Name: "transitions_total",
		Help: "Committed document state transitions, by the state entered.",
	}, "to", stateNames())
	m.ended = newEnded(sources)
	m.batches = newCounterFamily(prometheus.CounterOpts{
		Namespace: namespace, Subsystem: "batches", Name: "submitted_total",
		Help: "Batches submitted to the API, by mode (batch: one POST /batches; single: one POST /extract per file).",
	}, "mode", batchModes)
	m.batchFiles = prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: namespace, Subsystem: "batch", Name: "files",
		Help:    "Number of files in each submitted batch.",
		Buckets: []float64{1, 2, 5, 10, 20, 50, 100},
	})
	return []prometheus.Collector{m.transitions.vec, m.ended, m.batches.vec, m.batchFiles}
}

// newResults builds the collectors of how results arrive and leave:
// webhooks, polls, outputs and reports.
func (m *Metrics) newResults() []prometheus.Collector {
	m.deliveries = newCounterFamily(prometheus.CounterOpts{
		Namespace: namespace, Subsystem: "webhook", Name: "deliveries_total",
		Help: "Webhook deliveries received, by outcome (ok, duplicate; refused: " + strings.Join(vocab.Refusals, ", ") + ").",
	}, "outcome", webhookOutcomes)
	m.applied = newCounterFamily(prometheus.CounterOpts{
		Namespace: namespace, Subsystem: "webhook", Name: "events_applied_total",
		Help: "Journaled webhook events processed by the applier, by resulting status (applied, duplicate, conflict, orphan, dead).",
	}, "status", appliedStatuses)
	m.polls = newCounterFamily(prometheus.CounterOpts{
		Namespace: namespace, Name: "polls_total",
		Help: "Polling fallback calls, by kind (document: GET /documents answered; batch: GET /batches answered; error: failed).",
	}, "kind", pollKinds)
	m.outputs = newCounterFamily(prometheus.CounterOpts{
		Namespace: namespace, Subsystem: "outputs", Name: "written_total",
		Help: "Outputs written, by kind (json files, documents_csv_rows, line_item_rows).",
	}, "kind", outputKinds)
	m.reportRuns = newCounterFamily(prometheus.CounterOpts{
		Namespace: namespace, Subsystem: "report", Name: "runs_total",
		Help: "Nightly reconciliation report runs, by result (success, failure).",
	}, "result", reportResults)
	m.reportLastSuccess = prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: namespace, Subsystem: "report", Name: "last_success_timestamp_seconds",
		Help: "Unix time of the last successful report run since the process started; 0 when none.",
	})
	return []prometheus.Collector{m.deliveries.vec, m.applied.vec, m.polls.vec, m.outputs.vec, m.reportRuns.vec, m.reportLastSuccess}
}

// Handler serves the registry in the Prometheus exposition formats, for
// GET /metrics. On a nil *Metrics it answers 404.
func (m *Metrics) Handler() http.Handler {
	if m == nil {
		return http.NotFoundHandler()
	}
	return m.handler
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}
