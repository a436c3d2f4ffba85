package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// bucketMetrics are a bucket source's listings, per source: when one last
// succeeded, how many objects it found, how long it took, how many list
// requests it made, and how many failed.
type bucketMetrics struct {
	lastSuccess *prometheus.GaugeVec
	objects     *prometheus.GaugeVec
	duration    *prometheus.GaugeVec
	requests    *prometheus.CounterVec
	errors      *prometheus.CounterVec
}

func (m *Metrics) newBuckets() []prometheus.Collector {
	src := []string{"source"}
	b := &bucketMetrics{
		lastSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: namespace, Subsystem: "bucket", Name: "last_listing_timestamp_seconds",
			Help: "Unix time a bucket source's listing last succeeded; absent until one has.",
		}, src),
		objects: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: namespace, Subsystem: "bucket", Name: "objects",
			Help: "Objects the latest successful listing found under the source's prefix (those include/exclude take).",
		}, src),
		duration: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: namespace, Subsystem: "bucket", Name: "listing_duration_seconds",
			Help: "How long the latest listing of the source took, successful or not.",
		}, src),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "bucket", Name: "list_requests_total",
			Help: "List requests (pages) made to the source's bucket.",
		}, src),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "bucket", Name: "listing_errors_total",
			Help: "Listings of the source's bucket that failed (unreachable, missing, access denied); /readyz says why.",
		}, src),
	}
	m.buckets = b
	return []prometheus.Collector{b.lastSuccess, b.objects, b.duration, b.requests, b.errors}
}

// BucketListed records one listing of a bucket source.
func (m *Metrics) BucketListed(source string, at time.Time, took time.Duration, objects, requests int, failed bool) {
	if m == nil {
		return
	}
	b := m.buckets
	b.duration.WithLabelValues(source).Set(took.Seconds())
	b.requests.WithLabelValues(source).Add(float64(requests))
	if failed {
		b.errors.WithLabelValues(source).Inc()
		return
	}
	b.errors.WithLabelValues(source) // present at 0 once listed
	b.lastSuccess.WithLabelValues(source).Set(float64(at.Unix()))
	b.objects.WithLabelValues(source).Set(float64(objects))
}
