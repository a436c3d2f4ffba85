package metrics

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/docuparse/docuparse-ingest/internal/store"
)

// errNoStatus is a status function's answer of neither a status nor an error.
var errNoStatus = errors.New("no status returned")

// storeCollector reads the store on every scrape, so its numbers are the
// database's own — true across restarts, unlike counters kept in memory.
// A failed read reports docuparse_store_up 0 and nothing else of the
// store's, rather than failing the scrape or repeating stale values.
type storeCollector struct {
	status  func(context.Context) (*store.Status, error)
	timeout time.Duration
	now     func() time.Time
	log     *slog.Logger

	up, documents, outcomes, queueDepth, oldestAge, events, lastWebhook, exportHeld, submitStuck *prometheus.Desc
}

func newStoreCollector(status func(context.Context) (*store.Status, error), timeout time.Duration, now func() time.Time, log *slog.Logger) *storeCollector {
	name := func(n string) string { return prometheus.BuildFQName(namespace, "", n) }
	return &storeCollector{
		status: status, timeout: timeout, now: now, log: log,
		up: prometheus.NewDesc(name("store_up"),
			"1 when the state store answered this scrape, 0 when reading it failed or timed out.", nil, nil),
		documents: prometheus.NewDesc(name("documents"),
			"Documents in the state store, by state (every state listed, zero included).", []string{"state"}, nil),
		outcomes: prometheus.NewDesc(name("documents_outcome"),
			"Documents in the state store by how they ended, exported since or not (every outcome listed, zero included).", []string{"outcome"}, nil),
		queueDepth: prometheus.NewDesc(name("queue_depth"),
			"Documents waiting to be sent to the API (queued plus submitting).", nil, nil),
		oldestAge: prometheus.NewDesc(name("oldest_pending_age_seconds"),
			"Age of the oldest document not yet terminal (queued, submitting or submitted), since discovery; 0 when none.", nil, nil),
		events: prometheus.NewDesc(name("webhook_events"),
			"Journaled webhook events in the state store, by status.", []string{"status"}, nil),
		lastWebhook: prometheus.NewDesc(name("last_webhook_timestamp_seconds"),
			"Unix time the newest webhook event was journaled; 0 when none ever was.", nil, nil),
		exportHeld: prometheus.NewDesc(name("export_held_documents"),
			"Documents held from export because their output path is unsafe (a planted symbolic link, say); the status command names them and why.", nil, nil),
		submitStuck: prometheus.NewDesc(name("submit_stuck_documents"),
			"Documents whose upload stopped because the API kept answering in a way that cannot be recorded; the status command names them and why, retry --stuck resubmits them.", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *storeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.up, c.documents, c.outcomes, c.queueDepth, c.oldestAge, c.events, c.lastWebhook, c.exportHeld, c.submitStuck} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *storeCollector) Collect(ch chan<- prometheus.Metric) {
	st, err := c.read()
	if err != nil {
		c.log.Warn("metrics: reading the state store failed", "err", err)
		ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 1)

	other := 0
	known := make(map[store.State]bool, len(store.States))
	for _, s := range store.States {
		known[s] = true
		ch <- prometheus.MustNewConstMetric(c.documents, prometheus.GaugeValue, float64(st.Counts[s]), string(s))
	}
	for s, n := range st.Counts {
		if !known[s] {
			other += n
		}
	}
	if other > 0 {
		ch <- prometheus.MustNewConstMetric(c.documents, prometheus.GaugeValue, float64(other), Other)
	}
	for _, o := range store.Outcomes {
		ch <- prometheus.MustNewConstMetric(c.outcomes, prometheus.GaugeValue, float64(st.Outcomes[o]), string(o))
	}
	depth := st.Counts[store.StateQueued] + st.Counts[store.StateSubmitting]
	ch <- prometheus.MustNewConstMetric(c.queueDepth, prometheus.GaugeValue, float64(depth))

	age := 0.0
	if !st.OldestPending.IsZero() {
		age = max(c.now().Sub(st.OldestPending).Seconds(), 0)
	}
	ch <- prometheus.MustNewConstMetric(c.oldestAge, prometheus.GaugeValue, age)

	otherEvents := 0
	knownEvents := toSet(eventStatuses)
	for _, s := range eventStatuses {
		ch <- prometheus.MustNewConstMetric(c.events, prometheus.GaugeValue, float64(st.Events[s]), s)
	}
	for s, n := range st.Events {
		if !knownEvents[s] {
			otherEvents += n
		}
	}
	if otherEvents > 0 {
		ch <- prometheus.MustNewConstMetric(c.events, prometheus.GaugeValue, float64(otherEvents), Other)
	}
	ch <- prometheus.MustNewConstMetric(c.lastWebhook, prometheus.GaugeValue, unixSeconds(st.LastEvent))
	ch <- prometheus.MustNewConstMetric(c.exportHeld, prometheus.GaugeValue, float64(st.ExportHeld))
	ch <- prometheus.MustNewConstMetric(c.submitStuck, prometheus.GaugeValue, float64(st.SubmitStuck))
}

// read calls the status function under the timeout. A function that
// ignores its context is abandoned when the timeout passes, so a stuck
// database cannot hold a scrape.
func (c *storeCollector) read() (*store.Status, error) {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	type answer struct {
		st  *store.Status
		err error
	}
	done := make(chan answer, 1) // buffered: an abandoned call never blocks
	go func() {
		st, err := c.status(ctx)
		done <- answer{st, err}
	}()
	select {
	case a := <-done:
		if a.err != nil {
			return nil, fmt.Errorf("read store status: %w", a.err)
		}
		if a.st == nil {
			return nil, fmt.Errorf("read store status: %w", errNoStatus)
		}
		return a.st, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("read store status: gave up after %s: %w", c.timeout, ctx.Err())
	}
}
