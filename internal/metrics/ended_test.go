package metrics

import (
	"testing"

	"github.com/docuparse/docuparse-ingest/internal/store"
)

// Every transition into an outcome moves docuparse_documents_ended_total
// for its outcome and source, so that increase(…[1h]) sees the failures
// of the last hour; the configured sources' series exist from the start.
func TestDocumentEndedCountsOutcomesBySource(t *testing.T) {
	m, url := newMetrics(t, Options{Sources: []string{"inbox", "scans"}})
	compare(t, url, `
# HELP docuparse_documents_ended_total Documents that reached an outcome (completed, failed, rejected, duplicate, vanished) since the daemon started, by outcome and source; an exported document counted when it ended. increase(…[1h]) is the number that ended in the last hour.
# TYPE docuparse_documents_ended_total counter
docuparse_documents_ended_total{outcome="completed",source="inbox"} 0
docuparse_documents_ended_total{outcome="completed",source="scans"} 0
docuparse_documents_ended_total{outcome="duplicate",source="inbox"} 0
docuparse_documents_ended_total{outcome="duplicate",source="scans"} 0
docuparse_documents_ended_total{outcome="failed",source="inbox"} 0
docuparse_documents_ended_total{outcome="failed",source="scans"} 0
docuparse_documents_ended_total{outcome="rejected",source="inbox"} 0
docuparse_documents_ended_total{outcome="rejected",source="scans"} 0
docuparse_documents_ended_total{outcome="vanished",source="inbox"} 0
docuparse_documents_ended_total{outcome="vanished",source="scans"} 0
`, "docuparse_documents_ended_total")

	for _, tr := range []store.Transition{
		{Source: "inbox", From: store.StateSubmitted, To: store.StateFailed},
		{Source: "inbox", From: store.StateSubmitted, To: store.StateFailed},
		{Source: "inbox", From: store.StateSubmitted, To: store.StateCompleted},
		{Source: "scans", To: store.StateRejected},
		{Source: "added-later", To: store.StateDuplicate},
		{Source: "inbox", From: store.StateFailed, To: store.StateExported}, // not an outcome
		{Source: "inbox", From: store.StateQueued, To: store.StateSubmitting},
	} {
		m.DocumentTransition(tr)
	}
	fams := scrape(t, url)
	for _, c := range []struct {
		outcome, source string
		want            float64
	}{
		{"failed", "inbox", 2}, {"completed", "inbox", 1}, {"rejected", "scans", 1},
		{"duplicate", "added-later", 1}, {"completed", "scans", 0}, {"vanished", "inbox", 0},
	} {
		s, ok := sample(fams, "docuparse_documents_ended_total", "outcome="+c.outcome, "source="+c.source)
		if !ok || s.GetCounter().GetValue() != c.want {
			t.Errorf("docuparse_documents_ended_total{outcome=%q,source=%q} = %v (present %v), want %v",
				c.outcome, c.source, s.GetCounter().GetValue(), ok, c.want)
		}
	}
	if s, _ := sample(fams, "docuparse_document_transitions_total", "to=failed"); s.GetCounter().GetValue() != 2 {
		t.Errorf("docuparse_document_transitions_total{to=failed} = %v, want 2", s.GetCounter().GetValue())
	}
}

// A nil *Metrics ignores the hook.
func TestDocumentTransitionOnNilMetricsDoesNothing(t *testing.T) {
	var m *Metrics
	m.DocumentTransition(store.Transition{Source: "inbox", To: store.StateFailed})
}

// A source added by a reload gets its series at 0; a known one keeps its
// count.
func TestAddSourcesKeepsCountsAndAddsZeroSeries(t *testing.T) {
	m, url := newMetrics(t, Options{Sources: []string{"inbox"}})
	m.DocumentTransition(store.Transition{Source: "inbox", To: store.StateFailed})
	m.AddSources([]string{"inbox", "added"})
	fams := scrape(t, url)
	if s, ok := sample(fams, "docuparse_documents_ended_total", "outcome=failed", "source=inbox"); !ok || s.GetCounter().GetValue() != 1 {
		t.Errorf("inbox failed = %v (present %v), want 1", s.GetCounter().GetValue(), ok)
	}
	if _, ok := sample(fams, "docuparse_documents_ended_total", "outcome=failed", "source=added"); !ok {
		t.Error("no series for the added source")
	}
}
