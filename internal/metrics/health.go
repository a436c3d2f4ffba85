package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// healthMetrics are the gauges and counter an alert on a stalled pipeline
// reads: when a submit and an export last succeeded, export errors, and
// which problems are current.
type healthMetrics struct {
	exportErrors      prometheus.Counter
	lastSubmitSuccess prometheus.Gauge
	lastExportSuccess prometheus.Gauge
	problems          *prometheus.GaugeVec
}

func newHealthMetrics() *healthMetrics {
	return &healthMetrics{
		exportErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "export", Name: "errors_total",
			Help: "Export passes that failed (\"export failed; will retry\") or held rows.",
		}),
		lastSubmitSuccess: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: namespace, Subsystem: "submit", Name: "last_success_timestamp_seconds",
			Help: "Unix time the API last accepted a batch or file since the process started; 0 when none.",
		}),
		lastExportSuccess: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: namespace, Subsystem: "export", Name: "last_success_timestamp_seconds",
			Help: "Unix time an export pass last wrote documents since the process started; 0 when none.",
		}),
		problems: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: namespace, Name: "problem",
			Help: "1 while the problem is current (api_unreachable, api_key, export), else 0; /readyz and status say more.",
		}, []string{"what"}),
	}
}

// newHealth builds m.health and returns its collectors, to register.
func (m *Metrics) newHealth() []prometheus.Collector {
	m.health = newHealthMetrics()
	h := m.health
	return []prometheus.Collector{h.exportErrors, h.lastSubmitSuccess, h.lastExportSuccess, h.problems}
}

// Submitted records that the API accepted a submit at t.
func (m *Metrics) Submitted(t time.Time) {
	if m == nil {
		return
	}
	m.health.lastSubmitSuccess.Set(float64(t.Unix()))
}

// ExportPass records an export pass: its time, how many documents it
// exported, and whether it failed.
func (m *Metrics) ExportPass(t time.Time, exported int, failed bool) {
	if m == nil {
		return
	}
	if exported > 0 {
		m.health.lastExportSuccess.Set(float64(t.Unix()))
	}
	if failed {
		m.health.exportErrors.Inc()
	}
}

// Problem records a problem starting (on) or ending.
func (m *Metrics) Problem(what string, on bool) {
	if m == nil {
		return
	}
	v := 0.0
	if on {
		v = 1
	}
	m.health.problems.WithLabelValues(what).Set(v)
}
