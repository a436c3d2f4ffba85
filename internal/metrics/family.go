package metrics

import "github.com/prometheus/client_golang/prometheus"

// counterFamily is a counter vector with one label whose known values are
// resolved once, at construction: a hook then costs a map read and an
// atomic add, and an unknown value is counted as Other.
type counterFamily struct {
	vec   *prometheus.CounterVec
	known map[string]prometheus.Counter
}

func newCounterFamily(opts prometheus.CounterOpts, label string, values []string) *counterFamily {
	f := &counterFamily{
		vec:   prometheus.NewCounterVec(opts, []string{label}),
		known: make(map[string]prometheus.Counter, len(values)),
	}
	for _, v := range values {
		f.known[v] = f.vec.WithLabelValues(v) // pre-initialised: the series exists at 0
	}
	return f
}

func (f *counterFamily) child(value string) prometheus.Counter {
	if c, ok := f.known[value]; ok {
		return c
	}
	return f.vec.WithLabelValues(Other)
}

// add adds n (ignored unless positive: a counter never goes down).
func (f *counterFamily) add(value string, n int) {
	if n > 0 {
		f.child(value).Add(float64(n))
	}
}

// histogramFamily is counterFamily's twin for a histogram vector.
type histogramFamily struct {
	vec   *prometheus.HistogramVec
	known map[string]prometheus.Observer
}

func newHistogramFamily(opts prometheus.HistogramOpts, label string, values []string) *histogramFamily {
	f := &histogramFamily{
		vec:   prometheus.NewHistogramVec(opts, []string{label}),
		known: make(map[string]prometheus.Observer, len(values)),
	}
	for _, v := range values {
		f.known[v] = f.vec.WithLabelValues(v)
	}
	return f
}

func (f *histogramFamily) observe(value string, x float64) {
	o, ok := f.known[value]
	if !ok {
		o = f.vec.WithLabelValues(Other)
	}
	o.Observe(x)
}
