// Package daemon owns the assembly of a running docuparse-ingest: it builds
// every long-lived part from a validated configuration as a service, starts
// the services in one ordered list (services.go) and stops them in
// reverse. It holds no pipeline logic of
// its own; cmd/docuparse-ingest (run, demo) and the end-to-end tests use it.
package daemon

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/docuparse/docuparse-ingest/ingest"
	"github.com/docuparse/docuparse-ingest/internal/admin"
	"github.com/docuparse/docuparse-ingest/internal/apiclient"
	"github.com/docuparse/docuparse-ingest/internal/bucket"
	"github.com/docuparse/docuparse-ingest/internal/config"
	"github.com/docuparse/docuparse-ingest/internal/counters"
	"github.com/docuparse/docuparse-ingest/internal/export"
	"github.com/docuparse/docuparse-ingest/internal/health"
	"github.com/docuparse/docuparse-ingest/internal/lifecycle"
	"github.com/docuparse/docuparse-ingest/internal/metrics"
	"github.com/docuparse/docuparse-ingest/internal/mirror"
	"github.com/docuparse/docuparse-ingest/internal/output"
	"github.com/docuparse/docuparse-ingest/internal/safedir"
	"github.com/docuparse/docuparse-ingest/internal/sourcestate"
	"github.com/docuparse/docuparse-ingest/internal/statelock"
	"github.com/docuparse/docuparse-ingest/internal/store"
	"github.com/docuparse/docuparse-ingest/receiver"
	"github.com/docuparse/docuparse-ingest/reconcile"
	"github.com/docuparse/docuparse-ingest/report"
)

// Options are the parts of a daemon that are not configuration.
type Options struct {
	Logger *slog.Logger
	// OnTransition observes every committed document transition (the demo
	// prints them; tests wait on them). It must not block.
	OnTransition func(store.Transition)
	// SubmitBackoff overrides the submitter's first retry pause (tests).
	SubmitBackoff time.Duration
	// ExportHoldRetry overrides the exporter's first wait before a held
	// document is tried again (export.Config.HoldRetry; tests).
	ExportHoldRetry time.Duration
	// AuthRetry overrides how long uploads pause after the API refused
	// the key (ingest.SubmitterConfig.AuthRetry; tests).
	AuthRetry time.Duration
	// Version and Commit label docuparse_build_info.
	Version, Commit string
	// StateLock, when set, is the lock on the configuration's state_dir,
	// already taken by the caller (the demo takes it before it clears its
	// folder). The daemon releases it when it stops, or when New fails.
	// When nil, New takes it.
	StateLock *statelock.Lock
	// APIUnreachableAfter is how long every API request may fail before
	// the api_unreachable problem starts (DefaultAPIUnreachableAfter when
	// zero; tests give less).
	APIUnreachableAfter time.Duration
	// SysctlDir is where the kernel's link protections are read
	// (ingest.SysctlDir when empty; tests give a folder of their own).
	SysctlDir string
}

// Daemon is one running docuparse-ingest.
type Daemon struct {
	cfg  *config.Config
	opts Options
	log  *slog.Logger

	lock       *statelock.Lock // held from New until the store is closed
	store      *store.Store
	client     *apiclient.Client
	candidates chan ingest.Candidate
	firstLists *ingest.FirstListings     // the folder sources' first listings, which intake waits for once
	foldersMu  sync.RWMutex              // guards folders, buckets and cfg against Reload
	folders    []ingest.Source           // in the order of cfg.Sources
	buckets    map[string]*bucket.Bucket // bucket sources' open buckets, by source name
	roots      *ingest.Roots
	pins       *safedir.Set    // source folders and move_to, pinned at start
	runCtx     context.Context // the context Start was given, for sources added by Reload
	intake     *ingest.Intake
	submitter  *ingest.Submitter
	applier    *receiver.Applier
	server     *receiver.Server
	handler    *receiver.Handler
	exporter   *export.Exporter
	poller     *reconcile.Poller
	reporter   *report.Reporter
	mirror     *mirror.Mirror // nil without output_url
	counters   *counters.Counters
	metrics    *metrics.Metrics
	admin      *admin.Server

	health          *health.Tracker       // current problems, for /readyz and status (see health.go)
	listings        *sourcestate.Recorder // bucket sources' listings, for status (see buckets.go)
	healthGroup     lifecycle.Group       // judges the API's reachability
	apiMu           sync.Mutex            // guards apiFailingSince
	apiFailingSince time.Time             // the first of a run of failed API requests; zero after an answer

	services []service // in start order, by slot (services.go); nil where not configured
	stopOnce sync.Once
}

// New builds a daemon from a validated configuration: it opens the store,
// checks the sources and binds the webhook listener, so that every problem
// is reported before anything runs.
func New(ctx context.Context, cfg *config.Config, opts Options) (*Daemon, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.APIUnreachableAfter <= 0 {
		opts.APIUnreachableAfter = DefaultAPIUnreachableAfter
	}
	d := &Daemon{cfg: cfg, opts: opts, log: opts.Logger, candidates: make(chan ingest.Candidate, 256), lock: opts.StateLock,
		pins: safedir.NewSet(opts.Logger.With("component", "folders")), services: make([]service, numSlots)}
	if err := d.build(ctx); err != nil {
		d.Stop() // what was built, never started
		return nil, err
	}
	return d, nil
}

// build assembles every part from the configuration, in dependency order:
// the store and what observes it, the API client, the sources, the
// pipeline after them, and the listeners. Each part's service goes in its
// slot of the start order (services.go).
func (d *Daemon) build(ctx context.Context) error {
	cfg, svc := d.cfg, d.services
	svc[slotState] = stateService{d} // releases the lock even if the rest fails
	if err := d.prepareDirs(); err != nil {
		return err
	}
	if err := d.openStore(ctx); err != nil {
		return err
	}
	svc[slotCounters] = d.buildCounters()
	if err := d.buildMetrics(); err != nil {
		return err
	}
	svc[slotHealth], svc[slotListings] = d.buildHealth(), d.buildListings()
	var err error
	d.client, err = NewClient(cfg, d.log, func(ri apiclient.RequestInfo) {
		d.counters.Add(counters.APICallsPrefix+ri.Endpoint, 1)
		d.metrics.ObserveRequest(ri)
		d.observeAPI(ri)
	})
	if err != nil {
		return fmt.Errorf("api client: %w", err)
	}
	if d.buckets, err = openBuckets(ctx, cfg.Sources, nil); err != nil {
		return err
	}
	intakePolicies, after := policies(cfg.Sources, d.buckets)
	if svc[slotSources], err = d.buildSources(); err != nil {
		return err
	}
	svc[slotIntake] = d.buildIntake(intakePolicies)
	svc[slotExporter] = d.buildExporter(after)
	svc[slotApplier] = d.buildApplier()
	svc[slotSubmitter] = d.buildSubmitter()
	svc[slotPoller] = d.buildPoller()
	if svc[slotMirror], err = d.buildMirror(ctx); err != nil {
		return err
	}
	svc[slotReporter] = d.buildReporter(d.mirror)
	svc[slotPruner] = d.buildPruner()
	if svc[slotReceiver], err = d.buildReceiver(cfg, d.store); err != nil {
		return err
	}
	svc[slotAdmin], err = d.buildAdmin(cfg, d.store)
	return err
}

// transition logs each document transition, one line with all it knows,
// and wakes the part that acts next: the submitter for queued documents,
// the exporter for terminal ones. See transitionLevel for the line's level.
func (d *Daemon) transition(t store.Transition) {
	if level := transitionLevel(t.To); d.log.Enabled(context.Background(), level) {
		d.logTransition(level, t)
	}
	d.metrics.DocumentTransition(t)
	switch t.To {
	case store.StateQueued:
		d.submitter.Notify()
	case store.StateCompleted, store.StateFailed, store.StateRejected, store.StateDuplicate:
		d.exporter.Notify()
	case store.StateExported:
		d.mirror.Notify()
	}
	if d.opts.OnTransition != nil {
		d.opts.OnTransition(t)
	}
}

// transitionLevel is the level of a transition's log line: a rejection at
// WARN; an outcome that needs a look (failed, duplicate, vanished) at
// INFO; a document's routine steps (queued, submitting, submitted,
// completed, exported) at DEBUG — at INFO each batch ("batch created",
// "batch submitted"), each pass of the applier ("webhook events applied")
// and of the exporter ("documents exported") says what it did instead of a
// line per document per step.
func transitionLevel(to store.State) slog.Level {
	switch to {
	case store.StateRejected:
		return slog.LevelWarn
	case store.StateFailed, store.StateDuplicate, store.StateVanished:
		return slog.LevelInfo
	}
	return slog.LevelDebug
}

// logTransition writes t's one log line at level.
func (d *Daemon) logTransition(level slog.Level, t store.Transition) {
	attrs := []any{"doc", t.DocID}
	if t.Source != "" {
		attrs = append(attrs, "source", t.Source)
	}
	attrs = append(attrs, "path", t.Path)
	if t.From != "" {
		attrs = append(attrs, "from", string(t.From))
	}
	for _, kv := range [][2]string{{"document_id", t.DocumentID}, {"reason", t.Reason}, {"message", t.Message}} {
		if kv[1] != "" {
			attrs = append(attrs, kv[0], kv[1])
		}
	}
	if t.DuplicateOf != 0 {
		attrs = append(attrs, "duplicate_of", t.DuplicateOf)
	}
	if t.SHA256 != "" && t.To == store.StateQueued {
		attrs = append(attrs, "sha256", t.SHA256[:min(12, len(t.SHA256))])
	}
	d.log.Log(context.Background(), level, "document "+string(t.To), attrs...)
}

// journaled wakes the applier: the store committed webhook events to
// apply (new deliveries, or early ones queued again with their
// submission).
func (d *Daemon) journaled(int) { d.applier.Notify() }

// sourceNames lists the sources' names, in configuration order.
func sourceNames(srcs []config.Source) []string {
	out := make([]string, len(srcs))
	for i, src := range srcs {
		out[i] = src.Name
	}
	return out
}

// Start logs a warning for each risky setting (config.Warnings) and each
// of the kernel's link protections that is off (ingest.LinkProtections),
// then starts every service in order (consumers before producers; see
// services.go) and returns at once.
func (d *Daemon) Start(ctx context.Context) error {
	d.runCtx = ctx
	for _, w := range d.cfg.Warnings() {
		d.log.Warn(w.String())
	}
	d.warnLinkProtections()
	for _, s := range d.services {
		if s == nil {
			continue
		}
		if err := s.Start(ctx); err != nil {
			return err
		}
	}
	d.log.Info("docuparse-ingest running", "sources", len(d.folders), "state", d.store.Path(), "output", d.cfg.OutputDir)
	return nil
}

// Stop stops every service in reverse order: producers first, then
// uploads, then the receiver (letting requests in flight finish), then it
// applies and exports what arrived, and closes the store last (see
// services.go). Interrupted work resumes from the store on the next start.
// Safe to call twice, and without Start.
func (d *Daemon) Stop() {
	d.stopOnce.Do(func() {
		for i := len(d.services) - 1; i >= 0; i-- {
			if s := d.services[i]; s != nil {
				s.Stop()
			}
		}
	})
}

// openStore opens the state database and checks that it knows every CSV
// file in output_dir (see export.CheckOutputs).
func (d *Daemon) openStore(ctx context.Context) error {
	st, err := store.Open(ctx, d.cfg.StatePath(), store.Options{
		OnTransition: d.transition,
		OnJournaled:  d.journaled,
		OnEvent:      func(status string) { d.metrics.WebhookApplied(status) },
	})
	if err != nil {
		return err
	}
	d.store = st
	return export.CheckOutputs(ctx, st, d.cfg.Layout())
}

// prepareDirs creates state_dir and takes its lock (unless the caller gave
// one) before anything else touches the directory, the outputs or the
// network, so a second daemon on the same state_dir stops here; then it
// creates output_dir.
func (d *Daemon) prepareDirs() error {
	if err := os.MkdirAll(d.cfg.StateDir, 0o750); err != nil {
		return mkdirErr("state_dir", d.cfg.StateDir, err)
	}
	if d.lock == nil {
		l, err := statelock.Acquire(d.cfg.StateDir)
		if err != nil {
			return err
		}
		d.lock = l
	}
	if err := os.MkdirAll(d.cfg.OutputDir, output.DirPerm); err != nil {
		return mkdirErr("output_dir", d.cfg.OutputDir, err)
	}
	return nil
}

// mkdirErr reports that the folder of the configuration key could not be
// created, naming the key and the path once, and where it failed when
// that is a parent ("output_dir /a/b: cannot create /a: not a directory").
func mkdirErr(key, dir string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s %s: cannot create %s: %w", key, dir, pe.Path, pe.Err)
	}
	return fmt.Errorf("%s %s: %w", key, dir, err)
}

// AdminAddr returns the admin listener's address, or "" when disabled.
func (d *Daemon) AdminAddr() string {
	if d.admin == nil {
		return ""
	}
	return d.admin.Addr()
}

// Store returns the daemon's state store.
func (d *Daemon) Store() *store.Store { return d.store }

// ReceiverAddr returns the webhook listener's address, or "" when disabled.
func (d *Daemon) ReceiverAddr() string {
	if d.server == nil {
		return ""
	}
	return d.server.Addr()
}

// warnLinkProtections logs each of the kernel's link protections that is
// off (the same host check as check-config's). Under the shipped unit
// (ProcSubset=pid) /proc/sys is hidden from the daemon: then it says so at
// DEBUG only, and check-config, run outside the sandbox, is the check.
func (d *Daemon) warnLinkProtections() {
	dir := d.opts.SysctlDir
	if dir == "" {
		dir = ingest.SysctlDir
	}
	for _, p := range ingest.LinkProtections(dir) {
		switch {
		case p.Err != nil:
			d.log.Debug("cannot read a kernel link protection here; check-config checks it", "sysctl", p.Name, "err", p.Err)
		case !p.On():
			d.log.Warn(p.Warning())
		}
	}
}
