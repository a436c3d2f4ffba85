// Package reconcile owns finding out what the webhooks did not say: it
// polls the API for submitted documents whose webhook is overdue (all of
// them in poll-only mode) and applies what it finds exactly as a webhook
// would be applied, marked result_via = poll.
//
// It also verifies with the API the batches whose batch.completed never
// came or disagreed. It reads and writes the store through Store alone.
//
// It does not receive webhooks, write CSV and JSON results or write the
// nightly report (package report).
package reconcile

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/apiclient"
	"github.com/docuparse/docuparse-ingest/internal/docuparse"
	"github.com/docuparse/docuparse-ingest/internal/lifecycle"
	"github.com/docuparse/docuparse-ingest/internal/store"
	"github.com/docuparse/docuparse-ingest/internal/vocab"
)

// Config configures a Poller.
type Config struct {
	Store  Store
	Client *apiclient.Client
	// WebhookGrace is how long a submitted document waits for its webhook
	// before it is polled; 0 polls from the first pass (poll-only mode).
	WebhookGrace time.Duration
	// PollInterval is the pass period and the first step of each
	// document's backoff. Defaults to 30 seconds.
	PollInterval time.Duration
	// MaxBackoff caps the time between two polls of one document.
	// Defaults to 30 minutes. A next poll stored further ahead than this
	// was scheduled before the wall clock was stepped back: it is due now
	// (see store.DueForPoll).
	MaxBackoff time.Duration
	// Limit is the most documents polled in one pass. Defaults to 500.
	Limit  int
	Now    func() time.Time
	Logger *slog.Logger
	// OnPass, when set, sees what each pass did (for metrics).
	OnPass func(Pass)
}

// Pass says what one polling pass did.
type Pass struct {
	Polled       int // GET /documents/{id} calls answered
	BatchPolls   int // GET /batches/{id} calls answered while polling
	Completed    int // results applied
	Failed       int // failures applied
	Processing   int // still processing: polled again later
	Errors       int // calls that failed (404 included); polled again later
	Verified     int // batches checked with GET /batches/{id}
	Mismatches   int // of those, batches the API disagrees about
	VerifyErrors int // batch checks that failed; tried again next pass
}

// Calls is the number of API calls the pass made.
func (p Pass) Calls() int {
	return p.Polled + p.BatchPolls + p.Errors + p.Verified + p.VerifyErrors
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
			if p.cfg.OnPass != nil {
				p.cfg.OnPass(pass)
			}
			if pass.Calls() > 0 {
				p.cfg.Logger.Info("reconcile pass", "api_calls", pass.Calls(), "polled", pass.Polled, "batch_polls", pass.BatchPolls,
					"completed", pass.Completed, "failed", pass.Failed, "processing", pass.Processing, "errors", pass.Errors,
					"batches_verified", pass.Verified, "batch_mismatches", pass.Mismatches)
			}
		})
	})
}

// Stop waits for the current pass to end. Safe to call twice, and before
// Start.
func (p *Poller) Stop() { p.group.Stop() }

// RunOnce polls every document that is due now, then confirms with the
// API the batches whose batch.completed never came or disagreed.
func (p *Poller) RunOnce(ctx context.Context) (Pass, error) {
	var pass Pass
	now := p.cfg.Now()
	docs, err := p.cfg.Store.DueForPoll(ctx, now, p.cfg.WebhookGrace, p.cfg.MaxBackoff, p.cfg.Limit)
	if err != nil {
		return pass, err
	}
	if err := p.pollDocs(ctx, docs, &pass, nil); errors.Is(err, errKeyRefused) {
		return pass, nil // the daemon reports the key (internal/health)
	} else if err != nil {
		return pass, err
	}
	return pass, p.verifyBatches(ctx, now, &pass)
}

// PollAll polls every submitted document now, whatever WebhookGrace and
// each document's backoff say (the reconcile command: an operator asked
// to poll now), then confirms batches as RunOnce does. each, when set, is
// told what the poll of each document found ("completed", "still
// processing", "error: …"). The daemon's periodic passes use RunOnce.
func (p *Poller) PollAll(ctx context.Context, each func(d store.Document, found string)) (Pass, error) {
	var pass Pass
	now := p.cfg.Now()
	docs, err := p.cfg.Store.Documents(ctx, store.StateSubmitted, 0)
	if err != nil {
		return pass, err
	}
	if err := p.pollDocs(ctx, docs, &pass, each); err != nil {
		return pass, err
	}
	return pass, p.verifyBatches(ctx, now, &pass)
}

// pollDocs polls docs, asking the API once per batch when several are of
// one batch, and tells each (when set) what each poll found.
func (p *Poller) pollDocs(ctx context.Context, docs []store.Document, pass *Pass, each func(store.Document, string)) error {
	if each == nil {
		each = func(store.Document, string) {}
	}
	// Several due documents of one batch: one GET /batches/{id} tells which
	// are still processing, so only the finished ones cost a call each.
	perBatch := map[string]int{}
	for _, d := range docs {
		if d.APIBatchID != "" {
			perBatch[d.APIBatchID]++
		}
	}
	statuses := map[string]map[string]string{}
	for _, d := range docs {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if perBatch[d.APIBatchID] >= 2 {
			st, ok := statuses[d.APIBatchID]
			if !ok {
				st = p.batchStatuses(ctx, d.APIBatchID, pass)
				statuses[d.APIBatchID] = st
			}
			if st[d.DocumentID] == docuparse.StatusProcessing {
				pass.Processing++
				if err := p.cfg.Store.RecordPoll(ctx, d.ID, p.next(d), ""); err != nil {
					return err
				}
				each(d, foundProcessing)
				continue
			}
		}
		found, err := p.poll(ctx, d, pass)
		if errors.Is(err, errKeyRefused) {
			each(d, found)
			return err // every other call would be refused too; the daemon reports the key
		} else if err != nil {
			return err
		}
		each(d, found)
	}
	return nil
}

// foundProcessing is what a poll found of a document the API is still
// working on.
const foundProcessing = "still processing"

// errKeyRefused ends a polling pass: the API refused the API key, so every
// other call of the pass would be refused too.
var errKeyRefused = errors.New("the API refuses the API key")

// batchStatuses returns the API's status of each document of a batch, or
// nil when the batch cannot be read (then each document is polled alone).
func (p *Poller) batchStatuses(ctx context.Context, apiBatchID string, pass *Pass) map[string]string {
	b, err := p.cfg.Client.GetBatch(ctx, apiBatchID)
	if err != nil {
		if ctx.Err() == nil {
			pass.Errors++
			level := slog.LevelWarn
			if apiclient.IsAuthRefused(err) {
				level = slog.LevelDebug // the daemon reports a refused key once, as a problem
			}
			p.cfg.Logger.Log(ctx, level, "cannot read batch; polling its documents one by one", "api_batch", apiBatchID, "err", err)
		}
		return nil
	}
	pass.BatchPolls++
	out := make(map[string]string, len(b.Documents))
	for _, d := range b.Documents {
		out[d.DocumentID] = d.Status
	}
	return out
}

// verifyBatches asks the API about batches whose documents are all done
// but whose batch.completed never came (within the webhook grace) or
// disagreed with the daemon's own counts, and records what it says.
func (p *Poller) verifyBatches(ctx context.Context, now time.Time, pass *Pass) error {
	batches, err := p.cfg.Store.BatchesToVerify(ctx, now, p.cfg.WebhookGrace, p.cfg.Limit)
	if err != nil {
		return err
	}
	for _, b := range batches {
		got, err := p.cfg.Client.GetBatch(ctx, b.APIBatchID)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			pass.VerifyErrors++
			p.cfg.Logger.Warn("cannot verify batch; will try again", "api_batch", b.APIBatchID, "reason", b.Reason, "err", err)
			continue
		}
		pass.Verified++
		result := CompareBatch(got, b.Documents)
		if result != store.CheckMatch {
			pass.Mismatches++
			p.cfg.Logger.Warn("batch outcome disagrees with the API", "api_batch", b.APIBatchID, "result", result)
		}
		if err := p.cfg.Store.RecordBatchVerification(ctx, b.ID, result); err != nil {
			return err
		}
	}
	return nil
}

// CompareBatch compares the API's view of a batch with the daemon's
// documents of it and returns "match" or "mismatch: …" naming the
// differences (at most five, then a count).
func CompareBatch(api *docuparse.Batch, docs []store.Document) string {
	own := make(map[string]store.State, len(docs))
	var succeeded, failed int
	for _, d := range docs {
		own[d.DocumentID] = d.Outcome
		switch d.Outcome {
		case store.StateCompleted:
			succeeded++
		case store.StateFailed:
			failed++
		}
	}
	var diffs []string
	if api.Summary.Total != len(docs) || api.Summary.Succeeded != succeeded || api.Summary.Failed != failed {
		diffs = append(diffs, fmt.Sprintf("summary: API total %d, succeeded %d, failed %d; daemon total %d, succeeded %d, failed %d",
			api.Summary.Total, api.Summary.Succeeded, api.Summary.Failed, len(docs), succeeded, failed))
	}
	listed := map[string]bool{}
	for _, ad := range api.Documents {
		listed[ad.DocumentID] = true
		mine, ok := own[ad.DocumentID]
		switch {
		case !ok:
			diffs = append(diffs, fmt.Sprintf("%s: listed by the API, unknown to the daemon", ad.DocumentID))
		case string(mine) != ad.Status:
			diffs = append(diffs, fmt.Sprintf("%s: API says %s, daemon has %s", ad.DocumentID, ad.Status, mine))
		}
	}
	for _, d := range docs {
		if !listed[d.DocumentID] {
			diffs = append(diffs, fmt.Sprintf("%s: not listed by the API", d.DocumentID))
		}
	}
	if len(diffs) == 0 {
		return store.CheckMatch
	}
	more := ""
	if len(diffs) > 5 {
		more = fmt.Sprintf("; and %d more", len(diffs)-5)
		diffs = diffs[:5]
	}
	return store.CheckMismatch + ": " + strings.Join(diffs, "; ") + more
}

// poll asks the API about one document and records what it says; it
// returns what it found, in words.
func (p *Poller) poll(ctx context.Context, d store.Document, pass *Pass) (string, error) {
	log := p.cfg.Logger.With("doc", d.ID, "document_id", d.DocumentID)
	got, err := p.cfg.Client.GetDocument(ctx, d.DocumentID)
	if err != nil {
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		pass.Errors++
		msg := err.Error()
		if apiclient.IsNotFound(err) {
			msg = "NOT_FOUND: the API does not know this document"
			log.Warn("submitted document unknown to the API", "path", d.Path)
		}
		found := "error: " + msg + "; polled again later"
		if rerr := p.cfg.Store.RecordPoll(ctx, d.ID, p.next(d), msg); rerr != nil {
			return "", rerr
		}
		if apiclient.IsAuthRefused(err) {
			return found, errKeyRefused
		}
		return found, nil
	}
	pass.Polled++
	switch got.Status {
	case docuparse.StatusCompleted, docuparse.StatusFailed:
		return p.apply(ctx, d, got, pass, log)
	default:
		pass.Processing++
		return foundProcessing, p.cfg.Store.RecordPoll(ctx, d.ID, p.next(d), "")
	}
}

// apply records a polled outcome as a webhook's would be recorded.
func (p *Poller) apply(ctx context.Context, d store.Document, got *docuparse.Document, pass *Pass, log *slog.Logger) (string, error) {
	r := store.Result{DocumentID: d.DocumentID, Status: got.Status, Data: got.Data, Via: vocab.ViaPoll}
	if got.CompletedAt != nil {
		r.APITimestamp = got.CompletedAt.UTC().Format(time.RFC3339)
	}
	found := got.Status
	if got.Error != nil {
		r.ErrorCode, r.ErrorMessage = got.Error.Code, got.Error.Message
		found += " (" + got.Error.Code + ")"
	}
	outcome, err := p.cfg.Store.ApplyResult(ctx, r)
	if err != nil {
		return "", fmt.Errorf("apply polled result: %w", err)
	}
	switch outcome {
	case store.Conflict:
		// Another outcome, or other data, than the one recorded
		// meanwhile (by a webhook): the first stands.
		log.Warn("polled result contradicts the document's recorded outcome; the recorded one stands", "path", d.Path, "status", got.Status)
		return found + ", but another outcome was recorded meanwhile; it stands", nil
	case store.Applied:
		if got.Status == docuparse.StatusCompleted {
			pass.Completed++
		} else {
			pass.Failed++
		}
		return found, nil
	}
	return found + ", already recorded", nil
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
