package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/docuparse/docuparse-ingest/ingest"
	"github.com/docuparse/docuparse-ingest/internal/admin"
	"github.com/docuparse/docuparse-ingest/internal/apiclient"
	"github.com/docuparse/docuparse-ingest/internal/config"
	"github.com/docuparse/docuparse-ingest/internal/counters"
	"github.com/docuparse/docuparse-ingest/internal/export"
	"github.com/docuparse/docuparse-ingest/internal/health"
	"github.com/docuparse/docuparse-ingest/internal/metrics"
	"github.com/docuparse/docuparse-ingest/internal/mirror"
	"github.com/docuparse/docuparse-ingest/internal/sourcestate"
	"github.com/docuparse/docuparse-ingest/internal/store"
	"github.com/docuparse/docuparse-ingest/internal/vocab"
	"github.com/docuparse/docuparse-ingest/receiver"
	"github.com/docuparse/docuparse-ingest/reconcile"
	"github.com/docuparse/docuparse-ingest/report"
)

// The constructors of the daemon's parts, called by build (daemon.go) in
// the order they depend on each other. Each returns the service that runs
// its part (services.go), or nil when the part is not configured; build
// puts it in its slot of the start order.

// buildCounters builds the daily counters.
func (d *Daemon) buildCounters() service {
	d.counters = counters.New(d.store.AddCounters, d.cfg.Report.Location(), 0, d.log.With("component", "counters"))
	return part{d.counters}
}

// buildMetrics builds the metrics.
func (d *Daemon) buildMetrics() error {
	var err error
	d.metrics, err = metrics.New(metrics.Options{Status: d.store.Status, Version: d.opts.Version, Commit: d.opts.Commit,
		Sources: sourceNames(d.cfg.Sources), Logger: d.log.With("component", "metrics")})
	if err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	return nil
}

// buildListings builds the record of the bucket sources' listings.
func (d *Daemon) buildListings() service {
	d.listings = sourcestate.New(sourcestate.Options{Dir: d.cfg.StateDir, Logger: d.log.With("component", "sources")})
	return listingsService{d.listings}
}

// buildSources pins the source folders and builds their watchers and the
// roots files are opened through.
func (d *Daemon) buildSources() (service, error) {
	cfg := d.cfg
	if err := d.pinFolders(cfg.Sources); err != nil {
		return nil, err
	}
	d.firstLists = ingest.NewFirstListings()
	for i, src := range cfg.Sources {
		f, err := d.newSource(src, d.buckets)
		if err != nil {
			return nil, fmt.Errorf("source[%d] %q: %w", i, src.Name, err)
		}
		d.folders = append(d.folders, f)
	}
	d.roots = ingest.NewRoots(rootsOf(cfg.Sources), d.pins)
	d.roots.SetBuckets(d.buckets)
	return sourcesService{d}, nil
}

// buildIntake builds intake, which records what the sources find.
func (d *Daemon) buildIntake(intakePolicies map[string]ingest.SourcePolicy) service {
	d.intake = ingest.NewIntake(ingest.IntakeConfig{
		Store:       d.store,
		Sources:     intakePolicies,
		MaxFileSize: d.cfg.API.MaxFileSize.Bytes(),
		Roots:       d.roots,
		Logger:      d.log.With("component", "intake"),
		// A tree found full at start is listed before intake takes
		// more than its first group (see ingest.FirstListings).
		FirstListings: d.firstLists,
	}, d.candidates)
	return part{d.intake}
}

// buildExporter builds the exporter and its after-actions.
func (d *Daemon) buildExporter(after map[string]export.SourceAfter) service {
	cfg := d.cfg
	d.exporter = export.New(export.Config{
		Store:  d.store,
		Layout: cfg.Layout(),
		After:  after,
		Pins:   d.pins,
		Logger: d.log.With("component", "export"),
		OnWritten: func(jsonFiles, rows, items int) {
			d.metrics.OutputsWritten(metrics.OutputJSON, jsonFiles)
			d.metrics.OutputsWritten(metrics.OutputDocumentRows, rows)
			d.metrics.OutputsWritten(metrics.OutputLineItemRows, items)
		},
		// A file keeps how it began; the options shape new files only.
		CSVBOM:           cfg.Output.CSVBOM,
		LineItemsContext: cfg.Output.LineItemsContext,
		OnPass:           d.exportPass,
		HoldRetry:        d.opts.ExportHoldRetry,
	})
	return &withLastPass{p: d.exporter, what: "export", log: d.log}
}

// buildApplier builds the applier of journaled webhook events.
func (d *Daemon) buildApplier() service {
	d.applier = receiver.NewApplier(d.store, d.log.With("component", "applier"))
	return &withLastPass{p: d.applier, what: "apply", log: d.log}
}

// buildSubmitter builds the submitter (batches and uploads).
func (d *Daemon) buildSubmitter() service {
	cfg := d.cfg
	d.submitter = ingest.NewSubmitter(ingest.SubmitterConfig{
		Store:              d.store,
		Client:             d.client,
		Limits:             batchLimits(cfg.Batch),
		BatchUpload:        cfg.API.BatchUpload,
		Roots:              d.roots,
		Concurrency:        cfg.API.Concurrency,
		DocumentType:       cfg.API.DocumentType,
		MaxUnusableAnswers: cfg.API.MaxUnusableAnswers,
		BackoffMin:         d.opts.SubmitBackoff,
		AuthRetry:          d.opts.AuthRetry,
		Logger:             d.log.With("component", "submit"),
		OnBatchSubmitted: func(mode string, files int) {
			d.metrics.BatchSubmitted(mode, files)
			d.metrics.Submitted(time.Now())
		},
	})
	return part{d.submitter}
}

// buildPoller builds the poller of the results webhooks missed.
func (d *Daemon) buildPoller() service {
	cfg := d.cfg
	d.poller = reconcile.New(reconcile.Config{
		Store:        d.store,
		Client:       d.client,
		WebhookGrace: cfg.PollGrace(),
		PollInterval: cfg.Reconcile.PollInterval.D(),
		Logger:       d.log.With("component", "reconcile"),
		OnPass: func(p reconcile.Pass) {
			d.metrics.Polls(p.Polled, p.BatchPolls, p.Errors+p.VerifyErrors)
		},
	})
	return part{d.poller}
}

// buildReporter builds the nightly reporter; each report written wakes
// the mirror m (nil without output_url, which Notify allows).
func (d *Daemon) buildReporter(m *mirror.Mirror) service {
	cfg := d.cfg
	hour, minute := cfg.Report.Clock()
	d.reporter = report.NewReporter(report.ReporterConfig{
		Store:      d.store,
		Layout:     cfg.Layout(),
		Hour:       hour,
		Minute:     minute,
		StuckAfter: cfg.Reconcile.StuckAfter.D(),
		Logger:     d.log.With("component", "report"),
		OnReport:   func(ok bool) { d.metrics.ReportRun(ok); m.Notify() },
	})
	return part{d.reporter}
}

// buildAdmin builds the admin listener, when admin.listen is set: its
// readiness checks and /metrics.
func (d *Daemon) buildAdmin(cfg *config.Config, st *store.Store) (service, error) {
	if cfg.Admin.Listen == "" {
		return nil, nil
	}
	var err error
	d.admin, err = admin.New(cfg.Admin.Listen, admin.Config{
		Metrics: d.metrics.Handler(),
		Checks: map[string]func(context.Context) error{
			"store":   st.Ping,
			"sources": d.sourcesHealthy,
			"api":     d.apiHealthy,
			"outputs": d.exporter.Held,
			"api_key": d.health.Check(health.APIKey),
			"export":  d.health.Check(health.Export),
			"mirror":  d.health.Check(health.Mirror),
		},
		Redact: secretsOf(cfg),
		Logger: d.log.With("component", "admin"),
	})
	if err != nil {
		return nil, fmt.Errorf("admin.listen: %w", err)
	}
	return adminService{d.admin, d.log}, nil
}

// buildReceiver assembles the webhook handler and its HTTP server; with
// receiver.enabled off, its service only says so at start.
func (d *Daemon) buildReceiver(cfg *config.Config, st *store.Store) (service, error) {
	svc := receiverService{path: cfg.Receiver.Path, poll: cfg.Reconcile.PollInterval.D(), log: d.log}
	if !cfg.Receiver.Enabled {
		return svc, nil
	}
	secrets := make([][]byte, 0, len(cfg.Receiver.Secrets))
	for _, s := range cfg.Receiver.Secrets {
		secrets = append(secrets, []byte(s.Reveal()))
	}
	d.handler = receiver.NewHandler(receiver.HandlerConfig{
		Secrets:       secrets,
		AllowUnsigned: cfg.Receiver.AllowUnsigned,
		MaxBody:       cfg.Receiver.MaxBody.Bytes(),
		MaxAge:        cfg.Receiver.MaxEventAge.D(),
		OnRefused: func(reason string) {
			d.counters.Add(vocab.RefusalCounter(reason), 1)
			d.metrics.Webhook(reason)
		},
		OnAccepted: func(duplicate bool) {
			if duplicate {
				d.metrics.Webhook(metrics.WebhookDuplicate)
			} else {
				d.metrics.Webhook(metrics.WebhookOK)
			}
		},
		Logger: d.log.With("component", "receiver"),
	}, st)
	var err error
	d.server, err = receiver.NewServer(cfg.Receiver.Listen, cfg.Receiver.Path, d.handler, d.log.With("component", "receiver"))
	if err != nil {
		return nil, err
	}
	svc.handler, svc.server = d.handler, d.server
	return svc, nil
}

// NewClient builds the DocuParse API client of a configuration; observe,
// when set, sees every request attempt.
func NewClient(cfg *config.Config, log *slog.Logger, observe func(apiclient.RequestInfo)) (*apiclient.Client, error) {
	return apiclient.New(apiclient.Config{
		BaseURL:   cfg.API.BaseURL,
		APIKey:    cfg.API.APIKey.Reveal(),
		Timeout:   cfg.API.Timeout.D(),
		RateLimit: cfg.API.RateLimit,
		Logger:    log.With("component", "api"),
		Observe:   observe,
	})
}
