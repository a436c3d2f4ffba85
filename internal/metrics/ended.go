package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/docuparse/docuparse-ingest/internal/store"
)

// outcomeNames are the outcome label's known values (store.Outcomes).
func outcomeNames() []string {
	out := make([]string, len(store.Outcomes))
	for i, o := range store.Outcomes {
		out[i] = string(o)
	}
	return out
}

// newEnded builds docuparse_documents_ended_total with the series of
// sources (see AddSources).
func newEnded(sources []string) *prometheus.CounterVec {
	v := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Subsystem: "documents", Name: "ended_total",
		Help: "Documents that reached an outcome (completed, failed, rejected, duplicate, vanished) since the daemon started, by outcome and source; an exported document counted when it ended. increase(…[1h]) is the number that ended in the last hour.",
	}, []string{"outcome", "source"})
	addSources(v, sources)
	return v
}

// AddSources gives each named source its docuparse_documents_ended_total
// series, at 0 until a document of it ends, so that increase() over a
// window counts a source's first failure too (a series that appears with
// its first increment shows no increase). Sources already known keep
// their counts.
func (m *Metrics) AddSources(sources []string) {
	if m == nil {
		return
	}
	addSources(m.ended, sources)
}

// addSources creates ended's series of every outcome of each source.
func addSources(ended *prometheus.CounterVec, sources []string) {
	outcomes := outcomeNames()
	for _, src := range sources {
		for _, o := range outcomes {
			ended.WithLabelValues(o, src)
		}
	}
}

// DocumentTransition records one committed document transition, for the
// daemon's transition hook: the state entered (Transition), and, when it
// is an outcome (store.IsOutcome), the document's outcome and source in
// docuparse_documents_ended_total. Source names come from the
// configuration, so the source label stays bounded.
func (m *Metrics) DocumentTransition(t store.Transition) {
	if m == nil {
		return
	}
	m.Transition(string(t.From), string(t.To))
	if store.IsOutcome(t.To) {
		m.ended.WithLabelValues(string(t.To), t.Source).Inc()
	}
}
