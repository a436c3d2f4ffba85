package metrics

import "github.com/prometheus/client_golang/prometheus"

// labelVec is what a one-label Prometheus vector offers a family: it is
// registered as a collector and hands out the child of a label value.
type labelVec[C any] interface {
	prometheus.Collector
	WithLabelValues(lvs ...string) C
}

// family is a vector with one label whose known values are resolved once,
// at construction: a hook then costs a map read and an atomic operation,
// and an unknown value is counted as Other.
type family[C any] struct {
	vec   labelVec[C]
	known map[string]C
}

func newFamily[C any](vec labelVec[C], values []string) *family[C] {
	f := &family[C]{vec: vec, known: make(map[string]C, len(values))}
	for _, v := range values {
		f.known[v] = vec.WithLabelValues(v) // pre-initialised: the series exists at 0
	}
	return f
}

// child is value's series, or Other's for a value not known.
func (f *family[C]) child(value string) C {
	if c, ok := f.known[value]; ok {
		return c
	}
	return f.vec.WithLabelValues(Other)
}

// counterFamily is a family of counters.
type counterFamily struct{ *family[prometheus.Counter] }

func newCounterFamily(opts prometheus.CounterOpts, label string, values []string) *counterFamily {
	return &counterFamily{newFamily[prometheus.Counter](prometheus.NewCounterVec(opts, []string{label}), values)}
}

// add adds n (ignored unless positive: a counter never goes down).
func (f *counterFamily) add(value string, n int) {
	if n > 0 {
		f.child(value).Add(float64(n))
	}
}

// histogramFamily is a family of histograms.
type histogramFamily struct{ *family[prometheus.Observer] }

func newHistogramFamily(opts prometheus.HistogramOpts, label string, values []string) *histogramFamily {
	return &histogramFamily{newFamily[prometheus.Observer](prometheus.NewHistogramVec(opts, []string{label}), values)}
}

func (f *histogramFamily) observe(value string, x float64) {
	f.child(value).Observe(x)
}
