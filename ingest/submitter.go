package ingest

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"golang.org/x/sync/semaphore"

	"github.com/docuparse/docuparse-ingest/internal/apiclient"
	"github.com/docuparse/docuparse-ingest/internal/lifecycle"
	"github.com/docuparse/docuparse-ingest/internal/store"
	"github.com/docuparse/docuparse-ingest/internal/vocab"
)

// SubmitterConfig configures a Submitter.
type SubmitterConfig struct {
	Store  SubmitStore
	Client *apiclient.Client
	Limits BatchLimits
	// BatchUpload sends each batch as one POST /batches; off, each file of
	// a batch goes to POST /extract. Defaults to false (the zero value);
	// the daemon sets it from api.batch_upload.
	BatchUpload bool
	// Concurrency bounds uploads in flight: batches in batch mode, files in
	// single mode. Defaults to 4.
	Concurrency int
	// DocumentType is an optional hint sent with every upload.
	DocumentType string
	// Roots confines reading to each source's folder. Nil confines each
	// file to its own directory.
	Roots *Roots
	// Backoff after a submission failed with a transient error (the client
	// already retried). Doubles up to BackoffMax. Defaults 5 s and 5 min.
	BackoffMin, BackoffMax time.Duration
	// AuthRetry is how long an upload waits after the API refused the API
	// key (401/403) before trying again, so that a fixed key resumes
	// without a restart. The wait does not grow and is not counted as a
	// failed attempt: the key, not the batch, is at fault. Defaults to
	// 30 seconds.
	AuthRetry time.Duration
	// Now is the wall clock, compared with the documents' discovered_at.
	// Mono is the clock that deadlines are measured on: only differences
	// between its readings count, and it must never step back. Both
	// default to time.Now, whose readings carry the monotonic clock.
	Now, Mono func() time.Time
	Logger    *slog.Logger
	// OnBatchSubmitted, when set, is told of each batch the API accepted
	// (for metrics): its mode and how many files it had.
	OnBatchSubmitted func(mode string, files int)
	// MaxUnusableAnswers is how many answers that cannot be recorded (a
	// 2xx with fewer documents than files, another shape, ids matching no
	// file; a replay of a key whose files are gone answered 404) a batch
	// or file gets before it is stopped as stuck. Defaults to 5.
	MaxUnusableAnswers int
	// SplitAfter is how many uploads of a batch may be lost (failed with
	// an unknown fate, then the API shown not to have the key) before its
	// files go on in batches of one. Defaults to 3.
	SplitAfter int
	// ResumeEvery is how often batches left submitting with no upload in
	// flight in this process are looked for and resumed (at start, and
	// then as a safety net). Defaults to 30 seconds.
	ResumeEvery time.Duration
}

// idleRecheck bounds how long the batcher sleeps without looking at the
// queue.
const idleRecheck = 5 * time.Second

// Submitter forms batches from queued documents and uploads them. Each
// batch's idempotency key is stored before its first attempt, so batches
// interrupted by a crash are re-sent with the same key on start and the
// API creates nothing twice.
type Submitter struct {
	cfg   SubmitterConfig
	poke  lifecycle.Poke
	group lifecycle.Group

	mu       sync.Mutex
	active   int            // batches being uploaded
	inFlight map[int64]bool // their ids
	ended    map[int64]bool // ids of uploads that ended since resume began listing
	limits   BatchLimits
	draining bool
	drainCh  chan struct{} // closed when draining starts
	idle     chan struct{} // closed when draining and no upload is left
	// files bounds the single-file uploads in flight across all
	// single-mode batches to Concurrency.
	files *semaphore.Weighted
	// unreadable holds the documents whose file could not be opened for
	// upload for a temporary reason, until it opens again (see readLater).
	unreadable map[int64]bool

	waits waits // when each queued document started waiting; the loop's own
}

// NewSubmitter returns a Submitter; call Start to run it.
func NewSubmitter(cfg SubmitterConfig) *Submitter {
	cfg.Limits.defaults()
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 4
	}
	if cfg.BackoffMin <= 0 {
		cfg.BackoffMin = 5 * time.Second
	}
	if cfg.BackoffMax <= 0 {
		cfg.BackoffMax = 5 * time.Minute
	}
	if cfg.AuthRetry <= 0 {
		cfg.AuthRetry = 30 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Mono == nil {
		cfg.Mono = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxUnusableAnswers <= 0 {
		cfg.MaxUnusableAnswers = 5
	}
	if cfg.SplitAfter <= 0 {
		cfg.SplitAfter = 3
	}
	if cfg.ResumeEvery <= 0 {
		cfg.ResumeEvery = 30 * time.Second
	}
	return &Submitter{cfg: cfg, poke: lifecycle.NewPoke(), limits: cfg.Limits, inFlight: map[int64]bool{}, ended: map[int64]bool{},
		files: semaphore.NewWeighted(int64(cfg.Concurrency)), unreadable: map[int64]bool{}, drainCh: make(chan struct{})}
}

// Notify wakes the batcher: documents were queued.
func (s *Submitter) Notify() { s.poke.Notify() }

// Start resumes batches left submitting by a previous run, then batches
// queued documents as they come. It returns at once.
func (s *Submitter) Start(ctx context.Context) { s.group.Go(ctx, s.loop) }

// Stop cancels uploads in flight and waits for every goroutine to end. An
// interrupted batch keeps its key and is re-sent by the next Start. Safe to
// call twice, and before Start.
func (s *Submitter) Stop() { s.group.Stop() }

// Drain stops forming new batches, lets the uploads in flight finish until
// ctx ends, then stops. An upload whose key the API refuses (401/403)
// cannot finish and is given up at once. It reports whether every upload
// finished; those cut short keep their keys and resume at the next start.
func (s *Submitter) Drain(ctx context.Context) bool {
	s.mu.Lock()
	if !s.draining {
		close(s.drainCh)
	}
	s.draining = true
	if s.active == 0 {
		s.mu.Unlock()
		s.Stop()
		return true
	}
	if s.idle == nil {
		s.idle = make(chan struct{})
	}
	idle := s.idle
	s.mu.Unlock()
	drained := false
	select {
	case <-idle:
		drained = true
	case <-ctx.Done():
	}
	s.Stop()
	return drained
}

// SetLimits changes the batch limits from the next batch on (a reload).
func (s *Submitter) SetLimits(l BatchLimits) {
	l.defaults()
	s.mu.Lock()
	s.limits = l
	s.mu.Unlock()
	s.Notify()
}

func (s *Submitter) loop(ctx context.Context) {
	s.resume(ctx, true)
	lastResume := time.Now()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		if time.Since(lastResume) >= s.cfg.ResumeEvery {
			s.resume(ctx, false)
			lastResume = time.Now()
		}
		wake, err := s.runOnce(ctx)
		if err != nil && ctx.Err() == nil {
			s.cfg.Logger.Error("batching failed", "err", err)
			wake = s.cfg.Mono().Add(s.cfg.BackoffMin)
		}
		// Re-check the queue now and then even without a poke: another
		// process (the retry command) may have queued documents.
		wait := min(idleRecheck, max(s.cfg.ResumeEvery-time.Since(lastResume), time.Millisecond))
		if !wake.IsZero() {
			wait = min(max(wake.Sub(s.cfg.Mono()), time.Millisecond), wait)
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-s.poke:
		case <-timer.C:
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
	}
}

// resume launches every batch left submitting that has no upload in flight
// here: at start, the batches a previous run was interrupted in; later, any
// batch an upload gave up on without recording its outcome (a safety net:
// every outcome is written until it commits, so none is expected).
//
// The listing can be older than the in-flight set it is checked against:
// an upload that ends meanwhile (recording its outcome just after the
// listing read the batch) is skipped too, and found by the next sweep if
// it really is left submitting.
func (s *Submitter) resume(ctx context.Context, atStart bool) {
	s.mu.Lock()
	clear(s.ended)
	s.mu.Unlock()
	batches, err := s.cfg.Store.SubmittingBatches(ctx)
	if err != nil {
		if ctx.Err() == nil {
			s.cfg.Logger.Error("cannot list batches left submitting", "err", err)
		}
		return
	}
	for i := range batches {
		b := &batches[i]
		s.mu.Lock()
		busy := s.inFlight[b.ID] || s.ended[b.ID]
		s.mu.Unlock()
		switch {
		case busy || len(b.Documents) == 0:
			continue
		case atStart:
			s.cfg.Logger.Info("resuming interrupted batch", "batch", b.ID, "files", len(b.Documents))
		default:
			s.cfg.Logger.Warn("resuming a batch left submitting with no upload in flight", "batch", b.ID, "files", len(b.Documents))
		}
		s.launch(ctx, b)
	}
}

// runOnce forms and launches every batch that is due while upload slots
// are free, and returns when the next partial batch falls due, on the Mono
// clock (zero if nothing waits).
func (s *Submitter) runOnce(ctx context.Context) (time.Time, error) {
	s.mu.Lock()
	free := s.cfg.Concurrency - s.active
	limits, draining := s.limits, s.draining
	s.mu.Unlock()
	if free <= 0 || draining {
		return time.Time{}, nil // a finishing upload pokes us
	}
	queued, err := s.cfg.Store.Documents(ctx, store.StateQueued, limits.MaxFiles*(free+1))
	if err != nil {
		return time.Time{}, err
	}
	var next time.Time
	wall, mono := s.cfg.Now(), s.cfg.Mono()
	s.waits.observe(queued, mono)
	for _, p := range planBatches(queued, limits) {
		due, left := s.waits.due(p, wall, mono, limits.MaxWait)
		if !due {
			if at := mono.Add(left); next.IsZero() || at.Before(next) {
				next = at
			}
			continue
		}
		if free == 0 {
			break
		}
		ids := make([]int64, len(p.docs))
		for i, d := range p.docs {
			ids[i] = d.ID
		}
		mode := store.ModeSingle
		if s.cfg.BatchUpload {
			mode = store.ModeBatch
		}
		b, err := s.cfg.Store.CreateBatch(ctx, mode, ids)
		if err != nil {
			return time.Time{}, err
		}
		s.cfg.Logger.Info("batch created", "batch", b.ID, "files", b.FileCount, "bytes", b.ByteCount, "mode", mode)
		s.launch(ctx, b)
		free--
	}
	return next, nil
}

func (s *Submitter) launch(ctx context.Context, b *store.Batch) {
	s.mu.Lock()
	if s.draining {
		// Draining: no new upload. The batch keeps its key and resumes at
		// the next start.
		s.mu.Unlock()
		return
	}
	s.active++
	s.inFlight[b.ID] = true
	s.mu.Unlock()
	started := s.group.Go(ctx, func(ctx context.Context) {
		defer s.finished(b.ID)
		if b.Mode == store.ModeBatch {
			s.sendBatch(ctx, b)
		} else {
			s.sendSingles(ctx, b)
		}
	})
	if !started { // stopping: the batch stays submitting for the next start
		s.finished(b.ID)
	}
}

// finished accounts for an upload that ended.
func (s *Submitter) finished(batchID int64) {
	s.mu.Lock()
	s.active--
	delete(s.inFlight, batchID)
	s.ended[batchID] = true
	if s.draining && s.active == 0 && s.idle != nil {
		close(s.idle)
		s.idle = nil
	}
	s.mu.Unlock()
	s.Notify()
}

// goneFile is a document whose file could not be opened for upload.
type goneFile struct {
	doc   store.Document
	cause error
}

// finishGone records the files that could not be opened and that the API's
// answer does not list as vanished (or rejected, when unreadable).
func (s *Submitter) finishGone(ctx context.Context, gone []goneFile, subs []store.Submitted) {
	have := map[int64]bool{}
	for _, sub := range subs {
		have[sub.DocID] = true
	}
	for _, g := range gone {
		if !have[g.doc.ID] {
			s.finishUnopenable(ctx, g.doc, g.cause)
		}
	}
}

// refused handles a permanent refusal of a whole batch. Nothing of the
// batch was created (all or nothing): the named file is rejected and the
// others are queued again for a new batch with a new key.
func (s *Submitter) refused(ctx context.Context, b *store.Batch, docs []store.Document, ae *apiclient.APIError) {
	log := s.cfg.Logger.With("batch", b.ID)
	matched := false
	if ae.Filename != "" {
		for _, d := range docs {
			if apiclient.PartFilename(d.FileName) == ae.Filename {
				matched = true
				if !s.reject(ctx, log, d.ID, ae.Code, ae.Message) {
					return
				}
				break
			}
		}
	}
	if !matched && len(docs) == 1 {
		s.reject(ctx, log, docs[0].ID, apiCode(ae), ae.Message)
		return
	}
	// Without a file name we know the culprit is unknown: each file goes
	// alone next time, so the refusal lands on the one that causes it.
	solo := !matched
	if !s.persist(ctx, log, "the refused batch's files as queued again", func(ctx context.Context) error {
		return s.cfg.Store.Requeue(ctx, b.ID, solo, apiCode(ae))
	}) {
		return
	}
	log.Warn("batch refused by the API; files queued again", "code", ae.Code, "file", ae.Filename, "solo", solo)
}

// reject records the API's refusal of one file. It reports whether the
// refusal was recorded (false only when ctx ended first).
func (s *Submitter) reject(ctx context.Context, log *slog.Logger, docID int64, code, msg string) bool {
	return s.persist(ctx, log, "the refusal", func(ctx context.Context) error {
		return s.cfg.Store.Finish(ctx, []int64{docID}, store.StateRejected, code, msg)
	})
}

// recordSubmission records the API's answer (store.RecordSubmission) until
// it commits, and reports whether it did. A file the API answered with an
// id another file already holds is recorded failed with
// vocab.CodeDocumentIDConflict by that same write: said here once, at
// ERROR, never retried in a loop.
func (s *Submitter) recordSubmission(ctx context.Context, log *slog.Logger, what string, batchID int64, apiBatchID string,
	raw []byte, subs []store.Submitted) bool {
	var conflicts []store.IDConflict
	if !s.persist(ctx, log, what, func(ctx context.Context) error {
		var err error
		conflicts, err = s.cfg.Store.RecordSubmission(ctx, batchID, apiBatchID, raw, subs)
		return err
	}) {
		return false
	}
	for _, c := range conflicts {
		log.Error("the API answered a document_id it had already given another file; this file is recorded failed, "+
			"left in place, and `docuparse-ingest retry` submits it again",
			"code", vocab.CodeDocumentIDConflict, "path", c.Path, "failed_doc", c.DocID, "document_id", c.DocumentID,
			"holder_path", c.HolderPath, "holder_doc", c.HolderID)
	}
	return true
}

// markSent records, before its first request, that a batch's key may reach
// the API. It reports false only when ctx ended first.
func (s *Submitter) markSent(ctx context.Context, log *slog.Logger, b *store.Batch) bool {
	if b.Sent {
		return true
	}
	if !s.persist(ctx, log, "the batch as sent", func(ctx context.Context) error {
		return s.cfg.Store.MarkSent(ctx, b.ID)
	}) {
		return false
	}
	b.Sent = true
	return true
}

// persist runs a state write until it commits or ctx ends, and reports
// whether it committed. Every outcome on the submit path goes through it:
// an outcome that is not recorded would leave its batch submitting with no
// upload left to finish it. When ctx ends first, the batch stays
// submitting and the next start resumes it.
func (s *Submitter) persist(ctx context.Context, log *slog.Logger, what string, write func(context.Context) error) bool {
	backoff := s.cfg.BackoffMin
	for {
		err := write(ctx)
		if err == nil {
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		log.Error("cannot record "+what+"; will retry", "err", err, "retry_in", backoff)
		s.sleep(ctx, &backoff)
	}
}

// failedAttempt counts a failed attempt on the batch and waits the
// backoff before the next. An attempt refused for the API key is neither
// counted nor backed off (see authPause). It reports whether the upload is
// to be given up: only when the key is refused while draining.
func (s *Submitter) failedAttempt(ctx context.Context, batchID int64, err error, backoff *time.Duration) bool {
	if apiclient.IsAuthRefused(err) {
		return s.authPause(ctx, batchID, err)
	}
	s.recordAttempt(ctx, batchID, err)
	s.cfg.Logger.Warn("submission failed; will retry with the same idempotency key", "batch", batchID, "err", err.Error(), "retry_in", *backoff)
	s.sleep(ctx, backoff)
	return false
}

// authPause waits after the API refused the API key: AuthRetry, or until a
// drain starts. No request can succeed until the key is fixed, so the
// batch keeps its key and its count of failed attempts, the operator is
// told once (the daemon's problem tracker logs the refusal at ERROR with
// the fix) and a drain gives the upload up at once; the next start
// resumes it. It reports whether to give up.
func (s *Submitter) authPause(ctx context.Context, batchID int64, err error) bool {
	if s.isDraining() {
		return true
	}
	s.cfg.Logger.Debug("upload paused: the API refuses the API key", "batch", batchID, "err", err.Error(), "retry_in", s.cfg.AuthRetry)
	t := time.NewTimer(s.cfg.AuthRetry)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-s.drainCh:
	case <-t.C:
	}
	return s.isDraining()
}

func (s *Submitter) isDraining() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.draining
}

// recordAttempt counts a failed attempt on the batch, with its error.
func (s *Submitter) recordAttempt(ctx context.Context, batchID int64, err error) {
	if rerr := s.cfg.Store.RecordAttempt(ctx, batchID, err.Error()); rerr != nil && ctx.Err() == nil {
		s.cfg.Logger.Error("cannot record attempt", "batch", batchID, "err", rerr)
	}
}

func (s *Submitter) sleep(ctx context.Context, backoff *time.Duration) {
	t := time.NewTimer(*backoff)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
	*backoff = min(*backoff*2, s.cfg.BackoffMax)
}

// authError: a wrong API key, or a base URL or upload mode the server does
// not serve (404, 405, 501 on a submit endpoint), is the operator's to fix,
// not the file's fault; the batch waits and retries rather than rejecting
// good files.
func authError(ae *apiclient.APIError) bool {
	switch ae.StatusCode {
	case http.StatusUnauthorized, http.StatusForbidden,
		http.StatusNotFound, http.StatusMethodNotAllowed, http.StatusNotImplemented:
		return true
	}
	return false
}

func apiCode(ae *apiclient.APIError) string {
	if ae.Code != "" {
		return ae.Code
	}
	return fmt.Sprintf("HTTP_%d", ae.StatusCode)
}
