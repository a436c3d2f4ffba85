package metrics

import "github.com/prometheus/client_golang/prometheus"

// mirrorKinds are the kinds of outputs mirrored into output_url's bucket.
var mirrorKinds = []string{"result", "csv", "report"}

// mirrorMetrics are the output mirror's backlog and progress.
type mirrorMetrics struct {
	pending  prometheus.Gauge
	uploaded *counterFamily
}

// newMirror builds m.mirror and returns its collectors, to register.
func (m *Metrics) newMirror() []prometheus.Collector {
	m.mirror = &mirrorMetrics{
		pending: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: namespace, Subsystem: "mirror", Name: "pending",
			Help: "Outputs found and recorded for output_url's bucket but not mirrored yet (the backlog, kept across restarts).",
		}),
		uploaded: newCounterFamily(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "mirror", Name: "uploaded_total",
			Help: "Outputs recorded as mirrored into output_url's bucket, by kind (result, csv, report).",
		}, "kind", mirrorKinds),
	}
	return []prometheus.Collector{m.mirror.pending, m.mirror.uploaded.vec}
}

// MirrorPending sets the output mirror's backlog.
func (m *Metrics) MirrorPending(n int) {
	if m == nil {
		return
	}
	m.mirror.pending.Set(float64(n))
}

// MirrorUploaded counts one output mirrored, of kind.
func (m *Metrics) MirrorUploaded(kind string) {
	if m == nil {
		return
	}
	m.mirror.uploaded.add(kind, 1)
}
