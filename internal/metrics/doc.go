// Package metrics owns the daemon's Prometheus instrumentation: a private
// registry (with the Go and process collectors), every docuparse_* collector,
// the hook methods the other parts call when something happens, a collector
// that reads the store on each scrape, and the /metrics HTTP handler.
//
// It does not own the HTTP listener that serves the handler (package admin
// does), nor the daily counters kept for the nightly report (package
// counters), nor any decision about when a hook is called: the daemon wires
// the hooks into the parts that observe the events.
//
// Every hook is cheap, never blocks, is safe for concurrent use and is a
// no-op on a nil *Metrics, so a part can hold a nil Metrics when metrics are
// off. Label values are bounded: a value outside a label's known set is
// counted as "other", and no document id, batch id or path is ever a label.
package metrics
