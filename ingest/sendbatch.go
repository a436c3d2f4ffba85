package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/apiclient"
	"github.com/docuparse/docuparse-ingest/internal/docuparse"
	"github.com/docuparse/docuparse-ingest/internal/store"
	"github.com/docuparse/docuparse-ingest/internal/vocab"
)

// batchRun is the upload of one batch with POST /batches, until the API has
// answered for every file (recorded, refused or vanished), the batch is
// split, or it is stopped as stuck.
//
// A file that can no longer be opened is not written off at once: if the
// batch's key may already have reached the API, the API's answer decides.
// The batch is re-sent under the same key without it (or, when no file is
// left, the key alone is replayed); a replayed answer that lists the file
// means the API has it, and only otherwise is it vanished.
//
// After an attempt whose fate is unknown (a network error, a stall, a 5xx;
// or a batch an earlier run had sent), the key alone is replayed before
// anything is uploaded again: if the API has the batch, its answer is
// recorded and nothing is sent twice. A batch whose upload keeps failing
// while the API does not have its key is split: its files go on in
// batches of one, under new keys. Answers that cannot be recorded are
// counted, and a batch that keeps getting them is stopped as stuck.
type batchRun struct {
	s       *Submitter
	b       *store.Batch
	log     *slog.Logger
	docs    []store.Document // files still to upload
	gone    []goneFile       // files that could not be opened
	backoff time.Duration

	resumed     bool // an earlier run (or upload) had sent the batch
	replayFirst bool // the last attempt's fate is unknown: ask the API first
	unknownLost bool // ... and that attempt was an upload whose transfer broke
	lost        int  // uploads lost that way, the API then not having the key
	unusable    int  // answers that could not be recorded
}

func (s *Submitter) sendBatch(ctx context.Context, b *store.Batch) {
	r := &batchRun{s: s, b: b, log: s.cfg.Logger.With("batch", b.ID),
		docs: append([]store.Document(nil), b.Documents...), backoff: s.cfg.BackoffMin,
		resumed: b.Sent, replayFirst: b.Sent}
	// The intention before the side effect: from here on the API may have
	// this key.
	if !s.markSent(ctx, r.log, b) {
		return
	}
	for ctx.Err() == nil && !r.attempt(ctx) {
	}
}

// attempt makes one request and reports whether the batch is finished with.
func (r *batchRun) attempt(ctx context.Context) bool {
	if len(r.docs) == 0 && len(r.gone) == 0 {
		return true
	}
	replay := r.replayFirst || len(r.docs) == 0
	var resp *docuparse.BatchResponse
	var err error
	if replay {
		resp, err = r.s.cfg.Client.ReplayBatch(ctx, r.b.IdempotencyKey)
	} else {
		uploads := make([]apiclient.Upload, len(r.docs))
		for i, d := range r.docs {
			uploads[i] = r.s.upload(d)
		}
		resp, err = r.s.cfg.Client.SubmitBatch(ctx, r.b.IdempotencyKey, uploads, r.s.cfg.DocumentType)
	}
	switch {
	case err == nil:
		return r.answered(ctx, resp)
	case ctx.Err() != nil:
		return true
	case errors.Is(err, apiclient.ErrUnusableAnswer):
		return r.unusableAnswer(ctx, err.Error())
	case replay && len(r.docs) > 0:
		return r.replayFailed(ctx, err)
	case replay:
		return r.onlyGoneLeft(ctx, err)
	}
	var oe *apiclient.OpenError
	if errors.As(err, &oe) && oe.Index < len(r.docs) && heldBack(oe.Err) {
		// The body was cut before its end: the API created nothing. The
		// file is not at fault (see heldBack): the batch waits for it.
		r.s.readLater(ctx, r.log, r.b.ID, r.docs[oe.Index], err, &r.backoff)
		return false
	}
	if errors.As(err, &oe) && oe.Index < len(r.docs) {
		r.gone = append(r.gone, goneFile{doc: r.docs[oe.Index], cause: oe.Err})
		r.docs = append(r.docs[:oe.Index:oe.Index], r.docs[oe.Index+1:]...)
		return false
	}
	var ae *apiclient.APIError
	if errors.As(err, &ae) && ae.Permanent() && !authError(ae) {
		// Refused as a whole: nothing of the batch exists at the API (a
		// replay of a known key would have answered), so the files that
		// are gone are gone.
		r.s.finishGone(ctx, r.gone, nil)
		if len(r.docs) > 0 {
			r.s.refused(ctx, r.b, r.docs, ae)
		}
		return true
	}
	r.replayFirst = fateUnknown(err)
	// Only a transfer that broke (a reset, a stall, a timeout) counts
	// towards splitting; an API answering 5xx is busy, and smaller
	// batches would not help it.
	r.unknownLost = r.replayFirst && !errors.As(err, &ae)
	if errors.As(err, new(*apiclient.FateUnknownError)) {
		// Sent whole, no answer: ask under the key at once, which costs no
		// upload (a failing replay waits as usual).
		r.s.recordAttempt(ctx, r.b.ID, err)
		return false
	}
	return r.s.failedAttempt(ctx, r.b.ID, err, &r.backoff)
}

// answered records the API's answer for the batch.
func (r *batchRun) answered(ctx context.Context, resp *docuparse.BatchResponse) bool {
	subs, missing, err := matchBatchResponse(r.b.AllDocuments, r.docs, resp)
	if err != nil {
		return r.unusableAnswer(ctx, err.Error())
	}
	raw, _ := json.Marshal(resp)
	if len(subs) > 0 && !r.s.recordSubmission(ctx, r.log, "the batch's submission", r.b.ID, resp.BatchID, raw, subs) {
		return true
	}
	if len(missing) > 0 && resp.Replayed && r.resumed {
		// The original answer to a request an earlier run made under this
		// key: the files it does not list were not in that request (gone
		// then, back now; this run tried them first). They can never be
		// created under this key, so they go on in a new batch. A short
		// answer to this run's own request is the API's fault, counted
		// below.
		r.s.finishGone(ctx, r.gone, subs)
		ids := make([]int64, len(missing))
		for i, d := range missing {
			ids[i] = d.ID
		}
		if r.s.persist(ctx, r.log, "the files the batch's answer does not list as queued again", func(ctx context.Context) error {
			return r.s.cfg.Store.RequeueUnsent(ctx, r.b.ID, ids, vocab.CodeNotInAnswer)
		}) {
			r.log.Info("batch submitted without files its original answer does not list; those go in a new batch",
				"api_batch", resp.BatchID, "files", len(subs), "requeued", len(ids))
		}
		return true
	}
	if len(missing) > 0 {
		// The files it lists are recorded; the others wait for an answer
		// that lists them.
		sent := len(r.docs)
		r.docs = missing
		return r.unusableAnswer(ctx, fmt.Sprintf("batch %s: the API's answer lists %d of the %d files sent", resp.BatchID, sent-len(missing), sent))
	}
	r.s.finishGone(ctx, r.gone, subs)
	r.log.Info("batch submitted", "api_batch", resp.BatchID, "files", len(subs))
	if r.s.cfg.OnBatchSubmitted != nil {
		r.s.cfg.OnBatchSubmitted(store.ModeBatch, len(subs))
	}
	return true
}

// replayFailed handles a failed replay of the key while files are left to
// upload. A refusal (or 404) means the API does not have the key: the
// files are uploaded next, and a batch whose uploads keep being lost that
// way is split. Anything else (the API unreachable) leaves the fate
// unknown: wait and ask again.
func (r *batchRun) replayFailed(ctx context.Context, err error) bool {
	var ae *apiclient.APIError
	if !errors.As(err, &ae) || !keyUnknown(ae) {
		return r.s.failedAttempt(ctx, r.b.ID, err, &r.backoff)
	}
	r.replayFirst = false
	if !r.unknownLost {
		return false
	}
	r.unknownLost = false
	r.lost++
	if r.lost < r.s.cfg.SplitAfter || len(r.docs) < 2 {
		return r.s.failedAttempt(ctx, r.b.ID, fmt.Errorf("upload lost: the API does not have the batch's key (%s)", ae.Message), &r.backoff)
	}
	// The API never had this key, so nothing of the batch exists there:
	// the files that are gone are gone, the others go on one by one.
	r.s.finishGone(ctx, r.gone, nil)
	if !r.s.persist(ctx, r.log, "the batch's files as queued again", func(ctx context.Context) error {
		return r.s.cfg.Store.Requeue(ctx, r.b.ID, true, vocab.CodeUploadFailed)
	}) {
		return true
	}
	r.log.Warn("batch could not get through; its files go on in batches of one", "uploads", r.lost, "files", len(r.docs))
	return true
}

// onlyGoneLeft handles a failed replay of a batch none of whose files can
// be sent any more: the API's answer under the key is all that can tell
// whether it has them.
func (r *batchRun) onlyGoneLeft(ctx context.Context, err error) bool {
	var ae *apiclient.APIError
	switch {
	case errors.As(err, &ae) && ae.StatusCode == http.StatusNotFound:
		// The API does not know the key, or the base URL is wrong: the two
		// cannot be told apart, so this is counted, not settled.
		return r.unusableAnswer(ctx, "a replay of the batch's key was answered 404: "+ae.Message)
	case errors.As(err, &ae) && ae.Permanent() && !authError(ae):
		r.s.finishGone(ctx, r.gone, nil) // the API never had the key
		return true
	}
	return r.s.failedAttempt(ctx, r.b.ID, err, &r.backoff)
}

// unusableAnswer counts an answer that cannot be recorded. Below the limit
// the key is asked again after a wait; at the limit the batch's files
// still waiting are stopped as stuck (vocab.CodeSubmitStuck), for status,
// the report and `retry --stuck`.
func (r *batchRun) unusableAnswer(ctx context.Context, reason string) bool {
	var ids []int64
	for _, d := range r.docs {
		ids = append(ids, d.ID)
	}
	for _, g := range r.gone {
		ids = append(ids, g.doc.ID)
	}
	return r.s.unusableAnswer(ctx, r.log, r.b.ID, ids, &r.unusable, &r.backoff, reason, func() { r.replayFirst = true })
}

// unusableAnswer is batchRun.unusableAnswer for either upload mode: again
// runs before the next try.
func (s *Submitter) unusableAnswer(ctx context.Context, log *slog.Logger, batchID int64, ids []int64,
	count *int, backoff *time.Duration, reason string, again func()) bool {
	*count++
	if rerr := s.cfg.Store.RecordAttempt(ctx, batchID, reason); rerr != nil && ctx.Err() == nil {
		log.Error("cannot record attempt", "err", rerr)
	}
	if *count < s.cfg.MaxUnusableAnswers {
		log.Warn("the API's answer cannot be recorded; will ask again under the same key",
			"reason", reason, "answers", *count, "limit", s.cfg.MaxUnusableAnswers, "retry_in", *backoff)
		s.sleep(ctx, backoff)
		again()
		return false
	}
	if !s.persist(ctx, log, "the files as stuck", func(ctx context.Context) error {
		return s.cfg.Store.StopSubmitting(ctx, batchID, ids, reason)
	}) {
		return true
	}
	log.Error("upload stopped: the API keeps answering in a way that cannot be recorded; `docuparse-ingest status` lists the files and `retry --stuck` resubmits them",
		"reason", reason, "answers", *count, "files", len(ids))
	return true
}

// fateUnknown reports whether an attempt that failed with err may have
// reached the API and created something: a network error, a stall, a
// timeout, a 5xx; not a 429 or another refusal, which create nothing.
func fateUnknown(err error) bool {
	var ae *apiclient.APIError
	if !errors.As(err, &ae) {
		return true
	}
	return ae.StatusCode >= 500 || ae.StatusCode == http.StatusRequestTimeout || ae.StatusCode == http.StatusConflict
}

// keyUnknown reports whether a replay's refusal means the API does not
// have the key: an invalid-request refusal of the empty replay, or a 404.
// A wrong API key (401, 403) says nothing about the key.
func keyUnknown(ae *apiclient.APIError) bool {
	if ae.StatusCode == http.StatusNotFound {
		return true
	}
	return ae.Permanent() && !authError(ae)
}

// matchBatchResponse pairs the API's documents with the batch's, by client
// reference, else by part filename (unique within a batch by
// construction). It returns the pairs, and the documents of sent the
// answer does not list; an answer listing a document that matches none of
// the batch's is an error.
func matchBatchResponse(all, sent []store.Document, resp *docuparse.BatchResponse) ([]store.Submitted, []store.Document, error) {
	byRef := map[string]int64{}
	byName := map[string]int64{}
	for _, d := range all {
		byRef[d.ClientReference] = d.ID
		byName[strings.ToLower(apiclient.PartFilename(d.FileName))] = d.ID
	}
	var subs []store.Submitted
	listed := map[int64]bool{}
	for _, rd := range resp.Documents {
		id, ok := byRef[rd.ClientReference]
		if !ok {
			id, ok = byName[strings.ToLower(rd.Filename)]
		}
		if !ok || rd.DocumentID == "" {
			return nil, nil, fmt.Errorf("batch %s: response document %q (%q) matches no file sent", resp.BatchID, rd.DocumentID, rd.Filename)
		}
		if listed[id] {
			return nil, nil, fmt.Errorf("batch %s: response lists file %q twice", resp.BatchID, rd.Filename)
		}
		listed[id] = true
		subs = append(subs, store.Submitted{DocID: id, DocumentID: rd.DocumentID})
	}
	var missing []store.Document
	for _, d := range sent {
		if !listed[d.ID] {
			missing = append(missing, d)
		}
	}
	return subs, missing, nil
}
