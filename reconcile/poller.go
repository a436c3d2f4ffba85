// Package reconcile owns finding out what the webhooks did not say: it
// polls the API for submitted documents whose webhook is overdue (all of
// them in poll-only mode) and applies what it finds exactly as a webhook
// would be applied, marked result_via = poll.
//
// It does not receive webhooks or write outputs. Stuck detection, batch
// cross-checks and the nightly report are to come in this package.
package reconcile

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/apiclient"
	"github.com/docuparse/docuparse-ingest/internal/docuparse"
	"github.com/docuparse/docuparse-ingest/internal/lifecycle"
	"github.com/docuparse/docuparse-ingest/internal/store"
)

// Config configures a Poller.
type Config struct {
	Store  *store.Store
	Client *apiclient.Client
	// WebhookGrace is how long a submitted document waits for its webhook
	// before it is polled; 0 polls from the first pass (poll-only mode).
	WebhookGrace time.Duration
	// PollInterval is the pass period and the first step of each
	// document's backoff. Defaults to 30 seconds.
	PollInterval time.Duration
	// MaxBackoff caps the time between two polls of one document.
	// Defaults to 30 minutes.
	MaxBackoff time.Duration
	// Limit is the most documents polled in one pass. Defaults to 500.
	Limit  int
	Now    func() time.Time
	Logger *slog.Logger
}

// Pass says what one polling pass did.
type Pass struct {
	Polled     int // GET /documents/{id} calls answered
	Completed  int // results applied
	Failed     int // failures applied
	Processing int // still processing: polled again later
	Errors     int // calls that failed (404 included); polled again later
}

// Poller polls overdue documents. Its API calls go through the shared
// client, so they count against api.rate_limit and honour Retry-After.
type Poller struct {
	cfg   Config
	group lifecycle.Group
}

// New returns a Poller; Start runs it.
func New(cfg Config) *Poller {
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = 30 * time.Second
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = 30 * time.Minute
	}
	if cfg.Limit <= 0 {
		cfg.Limit = 500
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Poller{cfg: cfg}
}

// Start runs a pass every PollInterval until Stop. It returns at once.
func (p *Poller) Start(ctx context.Context) {
	p.group.Go(ctx, func(ctx context.Context) {
		// No poke: polling is driven by time alone.
		lifecycle.Loop(ctx, p.cfg.PollInterval, nil, func(ctx context.Context) {
			pass, err := p.RunOnce(ctx)
			if err != nil && ctx.Err() == nil {
				p.cfg.Logger.Error("polling pass failed", "err", err)
			}
			if pass.Polled+pass.Errors > 0 {
				p.cfg.Logger.Info("polling pass", "polled", pass.Polled, "completed", pass.Completed,
					"failed", pass.Failed, "processing", pass.Processing, "errors", pass.Errors)
			}
		})
	})
}

// Stop waits for the current pass to end. Safe to call twice, and before
// Start.
func (p *Poller) Stop() { p.group.Stop() }

// RunOnce polls every document that is due now.
func (p *Poller) RunOnce(ctx context.Context) (Pass, error) {
	var pass Pass
	now := p.cfg.Now()
	docs, err := p.cfg.Store.DueForPoll(ctx, now.Add(-p.cfg.WebhookGrace), now, p.cfg.Limit)
	if err != nil {
		return pass, err
	}
	for _, d := range docs {
		if ctx.Err() != nil {
			return pass, ctx.Err()
		}
		if err := p.poll(ctx, d, &pass); err != nil {
			return pass, err
		}
	}
	return pass, nil
}

func (p *Poller) poll(ctx context.Context, d store.Document, pass *Pass) error {
	log := p.cfg.Logger.With("doc", d.ID, "document_id", d.DocumentID)
	got, err := p.cfg.Client.GetDocument(ctx, d.DocumentID)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		pass.Errors++
		msg := err.Error()
		if apiclient.IsNotFound(err) {
			msg = "NOT_FOUND: the API does not know this document"
			log.Warn("submitted document unknown to the API", "path", d.Path)
		}
		return p.cfg.Store.RecordPoll(ctx, d.ID, p.next(d), msg)
	}
	pass.Polled++
	switch got.Status {
	case docuparse.StatusCompleted, docuparse.StatusFailed:
		r := store.Result{DocumentID: d.DocumentID, Status: got.Status, Data: got.Data, Via: store.ViaPoll}
		if got.CompletedAt != nil {
			r.APITimestamp = got.CompletedAt.UTC().Format(time.RFC3339)
		}
		if got.Error != nil {
			r.ErrorCode, r.ErrorMessage = got.Error.Code, got.Error.Message
		}
		outcome, err := p.cfg.Store.ApplyResult(ctx, r)
		if err != nil {
			return fmt.Errorf("apply polled result: %w", err)
		}
		if outcome == store.Applied {
			if got.Status == docuparse.StatusCompleted {
				pass.Completed++
			} else {
				pass.Failed++
			}
		}
		return nil
	default:
		pass.Processing++
		return p.cfg.Store.RecordPoll(ctx, d.ID, p.next(d), "")
	}
}

// next returns when to poll d again: PollInterval doubled per earlier
// poll, capped at MaxBackoff, so a slow document costs few calls.
func (p *Poller) next(d store.Document) time.Time {
	wait := p.cfg.PollInterval
	for i := 0; i < d.PollCount && wait < p.cfg.MaxBackoff; i++ {
		wait *= 2
	}
	return p.cfg.Now().Add(min(wait, p.cfg.MaxBackoff))
}
