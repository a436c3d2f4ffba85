package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/apiclient"
	"github.com/docuparse/docuparse-ingest/internal/docuparse"
	"github.com/docuparse/docuparse-ingest/internal/store"
)

// sendSingles uploads each file of a single-mode batch with POST /extract,
// at most Concurrency files at a time across all batches.
func (s *Submitter) sendSingles(ctx context.Context, b *store.Batch) {
	wasSent := b.Sent // an earlier run may have sent every file
	if !s.markSent(ctx, s.cfg.Logger.With("batch", b.ID), b) {
		return
	}
	var wg sync.WaitGroup
	for _, d := range b.Documents {
		if s.files.Acquire(ctx, 1) != nil { // stopping
			wg.Wait()
			return
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer s.files.Release(1)
			s.sendOne(ctx, b, d, wasSent)
		}()
	}
	wg.Wait()
}

// sendOne uploads one file under its own key until the API has answered
// for it. As for batches (see batchRun): after an attempt whose fate is
// unknown, or when an earlier run sent it, the key alone is asked first; a
// file that cannot be opened is decided by the answer under its key; and
// answers that cannot be recorded are counted up to the limit, after which
// the file is stopped as stuck.
func (s *Submitter) sendOne(ctx context.Context, b *store.Batch, d store.Document, replayFirst bool) {
	log := s.cfg.Logger.With("batch", b.ID, "doc", d.ID)
	key := store.DocumentKey(b.IdempotencyKey, d.ID)
	backoff := s.cfg.BackoffMin
	unusable := 0
	lost := false  // the last upload's fate was unknown
	var gone error // the file could not be opened: only the key is replayed
	for ctx.Err() == nil {
		replay := gone != nil || replayFirst
		var resp *docuparse.ExtractResponse
		var err error
		if replay {
			resp, err = s.cfg.Client.ReplayExtract(ctx, key)
		} else {
			resp, err = s.cfg.Client.Extract(ctx, key, s.upload(d), s.cfg.DocumentType)
		}
		if err == nil {
			raw, _ := json.Marshal(resp)
			if s.recordSubmission(ctx, log, "the submission", b.ID, "", raw,
				[]store.Submitted{{DocID: d.ID, DocumentID: resp.DocumentID}}) && s.cfg.OnBatchSubmitted != nil {
				s.cfg.OnBatchSubmitted(store.ModeSingle, 1)
			}
			return
		}
		if ctx.Err() != nil {
			return
		}
		var oe *apiclient.OpenError
		if errors.As(err, &oe) && heldBack(oe.Err) {
			s.readLater(ctx, log, b.ID, d, err, &backoff) // not the file's fault: upload it again
			continue
		}
		if errors.As(err, &oe) {
			// An earlier attempt (before a crash, or a retry whose answer
			// was lost) may have reached the API: ask it under the key.
			gone = oe.Err
			continue
		}
		if s.singleRefused(ctx, log, b, d, err, replay, gone, &replayFirst, &lost, &unusable, &backoff) {
			return
		}
	}
}

// singleRefused handles a failed attempt of sendOne and reports whether
// the file is finished with.
func (s *Submitter) singleRefused(ctx context.Context, log *slog.Logger, b *store.Batch, d store.Document, err error,
	replay bool, gone error, replayFirst, lost *bool, unusable *int, backoff *time.Duration) bool {
	var ae *apiclient.APIError
	isAPI := errors.As(err, &ae)
	switch {
	case errors.Is(err, apiclient.ErrUnusableAnswer):
	case replay && gone != nil && isAPI && ae.StatusCode == http.StatusNotFound:
		// The API does not know the key, or the base URL is wrong: the two
		// cannot be told apart, so this is counted, not settled.
		err = errors.New("a replay of the file's key was answered 404: " + ae.Message)
	case replay && gone != nil && isAPI && ae.Permanent() && !authError(ae):
		s.finishUnopenable(ctx, d, gone) // the API never had it
		return true
	case replay && isAPI && keyUnknown(ae):
		*replayFirst = false // the API does not have it: upload
		if *lost {
			// The last upload went out and is not there: wait before the
			// next one, as after any failed attempt.
			*lost = false
			return s.failedAttempt(ctx, b.ID, errors.New("upload lost: the API does not have the file's key ("+ae.Message+")"), backoff)
		}
		return false
	case isAPI && ae.Permanent() && !authError(ae):
		s.reject(ctx, log, d.ID, apiCode(ae), ae.Message)
		return true
	default:
		if !replay {
			*replayFirst = fateUnknown(err)
			*lost = *replayFirst
		}
		if errors.As(err, new(*apiclient.FateUnknownError)) {
			s.recordAttempt(ctx, b.ID, err) // ask under the key at once
			return false
		}
		return s.failedAttempt(ctx, b.ID, err, backoff)
	}
	return s.unusableAnswer(ctx, log, b.ID, []int64{d.ID}, unusable, backoff, err.Error(), func() { *replayFirst = true })
}
