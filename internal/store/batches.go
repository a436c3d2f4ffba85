package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"github.com/docuparse/docuparse-ingest/internal/vocab"
	"time"
)

// Upload modes of a batch.
const (
	ModeBatch  = "batch"  // one POST /batches for all its files
	ModeSingle = "single" // one POST /extract per file, tracked as a batch locally
)

// Batch is a group of documents submitted together, with the idempotency
// key that makes re-sending it safe.
type Batch struct {
	ID             int64
	IdempotencyKey string
	Mode           string
	State          string // submitting | submitted | abandoned
	APIBatchID     string
	FileCount      int
	ByteCount      int64
	Attempts       int
	CreatedAt      time.Time
	// Sent is true once the key may have reached the API (see MarkSent).
	Sent bool
	// Documents are the batch's documents still submitting.
	Documents []Document
	// AllDocuments are all of the batch's documents, whatever their state:
	// an answer replayed for the key lists every file of the first attempt.
	AllDocuments []Document
}

// Batch states.
const (
	BatchSubmitting = "submitting"
	BatchSubmitted  = "submitted"
	BatchAbandoned  = "abandoned" // refused as a whole; its files were queued again
)

// DocumentKey is the idempotency key of one file of a single-mode batch:
// derived from the batch's stored key, so it too exists before the first
// attempt and survives restarts.
func DocumentKey(batchKey string, docID int64) string {
	return fmt.Sprintf("%s-%d", batchKey, docID)
}

// CreateBatch moves the queued documents ids into a new batch in state
// submitting, with a fresh idempotency key saved before any upload starts.
func (s *Store) CreateBatch(ctx context.Context, mode string, ids []int64) (*Batch, error) {
	if len(ids) == 0 {
		return nil, errors.New("create batch: no documents")
	}
	b := &Batch{IdempotencyKey: s.NewIdempotencyKey(), Mode: mode, State: BatchSubmitting}
	var trs []Transition
	err := s.tx(ctx, func(tx *sql.Tx) error {
		trs = trs[:0]
		docs, err := queryDocuments(ctx, tx, `WHERE d.id IN (`+placeholders(len(ids))+`) AND d.state = 'queued' ORDER BY d.id`, int64Args(ids)...)
		if err != nil {
			return err
		}
		if len(docs) != len(ids) {
			return fmt.Errorf("%d of %d documents are no longer queued", len(ids)-len(docs), len(ids))
		}
		var bytes int64
		for _, d := range docs {
			bytes += d.SizeBytes
		}
		now := s.now()
		r, err := tx.ExecContext(ctx, `INSERT INTO batches (idempotency_key, upload_mode, state, file_count, byte_count, created_at)
			VALUES (?, ?, ?, ?, ?, ?)`, b.IdempotencyKey, mode, BatchSubmitting, len(docs), bytes, now)
		if err != nil {
			return err
		}
		if b.ID, err = r.LastInsertId(); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE documents SET state = 'submitting', batch_id = ?, updated_at = ?
			WHERE id IN (`+placeholders(len(ids))+`)`, append([]any{b.ID, now}, int64Args(ids)...)...); err != nil {
			return err
		}
		b.FileCount, b.ByteCount, b.CreatedAt = len(docs), bytes, parseTime(nullString(now))
		b.Documents = docs
		for i := range b.Documents {
			b.Documents[i].State, b.Documents[i].BatchID = StateSubmitting, b.ID
			trs = append(trs, Transition{DocID: docs[i].ID, Source: docs[i].Source, Path: docs[i].Path, From: StateQueued, To: StateSubmitting})
		}
		b.AllDocuments = append([]Document(nil), b.Documents...)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("create batch: %w", err)
	}
	s.notify(trs)
	return b, nil
}

// SubmittingBatches returns every batch whose submission has not been
// recorded yet, each with its documents still in state submitting. After a
// restart these are sent again with the same idempotency key.
//
// The batches and their documents are read in one read transaction, so the
// two agree.
func (s *Store) SubmittingBatches(ctx context.Context) ([]Batch, error) {
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("submitting batches: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // read-only
	rows, err := tx.QueryContext(ctx, `SELECT id, idempotency_key, upload_mode, state, file_count, byte_count, attempts, created_at, sent_at
		FROM batches WHERE state = ? ORDER BY id`, BatchSubmitting)
	if err != nil {
		return nil, fmt.Errorf("submitting batches: %w", err)
	}
	var out []Batch
	for rows.Next() {
		var b Batch
		var created string
		var sent sql.NullString
		if err := rows.Scan(&b.ID, &b.IdempotencyKey, &b.Mode, &b.State, &b.FileCount, &b.ByteCount, &b.Attempts, &created, &sent); err != nil {
			rows.Close()
			return nil, fmt.Errorf("submitting batches: %w", err)
		}
		b.CreatedAt, b.Sent = parseTime(nullString(created)), sent.Valid
		out = append(out, b)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("submitting batches: %w", err)
	}
	for i := range out {
		all, err := queryDocuments(ctx, tx, `WHERE d.batch_id = ? ORDER BY d.id`, out[i].ID)
		if err != nil {
			return nil, fmt.Errorf("submitting batches: %w", err)
		}
		out[i].AllDocuments = all
		for _, d := range all {
			if d.State == StateSubmitting && d.ErrorCode != vocab.CodeSubmitStuck {
				out[i].Documents = append(out[i].Documents, d)
			}
		}
	}
	return out, nil
}

// Submitted pairs a local document with the id the API gave it.
type Submitted struct {
	DocID      int64
	DocumentID string
}

// RecordSubmitted records the API's answer to a submit request in one
// transaction: each listed document becomes submitted with its API id, the
// batch becomes submitted once none of its documents is still submitting,
// and webhook events that arrived before this answer (orphans) are queued
// again, for the applier to apply now that their document is known.
// Documents not in state submitting are left alone, so recording the same
// answer twice changes nothing. See RecordSubmission for an id the API had
// already given another file.
func (s *Store) RecordSubmitted(ctx context.Context, batchID int64, apiBatchID string, response []byte, subs []Submitted) error {
	_, err := s.RecordSubmission(ctx, batchID, apiBatchID, response, subs)
	return err
}

// IDConflict is a document the API answered with a document_id that
// another document already holds: recorded failed with
// vocab.CodeDocumentIDConflict instead of submitted.
type IDConflict struct {
	DocID      int64  // the document that could not take the id
	Path       string // its file
	DocumentID string // the id the API answered
	HolderID   int64  // the document that holds the id
	HolderPath string // its file
}

// RecordSubmission is RecordSubmitted, and returns the documents the API
// answered with a document_id another document already holds (an earlier
// file, or one listed before it in the same answer). An id names one
// document, so only the first file takes it; each later one is recorded
// failed with vocab.CodeDocumentIDConflict in the same transaction, naming the
// id and the file that holds it, so that the answer is recorded once
// instead of failing on the id's uniqueness again and again. Its file is
// left in place and `retry` resubmits it.
func (s *Store) RecordSubmission(ctx context.Context, batchID int64, apiBatchID string, response []byte, subs []Submitted) ([]IDConflict, error) {
	var trs []Transition
	var conflicts []IDConflict
	var requeued int
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var docIDs []string
		var err error
		trs, conflicts, docIDs, err = s.recordAnswerTx(ctx, tx, batchID, subs)
		if err != nil {
			return err
		}
		if apiBatchID != "" {
			if _, err := tx.ExecContext(ctx, `UPDATE batches SET api_batch_id = ?, response = ? WHERE id = ? AND api_batch_id IS NULL`,
				apiBatchID, string(response), batchID); err != nil {
				return err
			}
		}
		if err := s.closeBatchIfDone(ctx, tx, batchID); err != nil {
			return err
		}
		requeued, err = s.requeueOrphansTx(ctx, tx, docIDs, apiBatchID)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("record submission of batch %d: %w", batchID, err)
	}
	s.notify(trs)
	s.announcePending(requeued)
	return conflicts, nil
}

// failIDConflictTx records c's document as failed with
// vocab.CodeDocumentIDConflict. Its content has no API id the daemon can track,
// so a duplicate of it takes its place, as for a vanished original.
func (s *Store) failIDConflictTx(ctx context.Context, tx *sql.Tx, c IDConflict, source string, from State) ([]Transition, error) {
	now := s.now()
	msg := fmt.Sprintf("the API answered document_id %q for this file, an id it had already given to %s (document %d); "+
		"the file is left in place, and `retry` submits it again", c.DocumentID, c.HolderPath, c.HolderID)
	if _, err := tx.ExecContext(ctx, `UPDATE documents SET state = ?, outcome = ?, completed_at = ?, error_code = ?, error_message = ?,
		updated_at = ? WHERE id = ?`, StateFailed, StateFailed, now, vocab.CodeDocumentIDConflict, msg, now, c.DocID); err != nil {
		return nil, err
	}
	promoted, err := s.promoteDuplicateTx(ctx, tx, c.DocID)
	trs := []Transition{{DocID: c.DocID, Source: source, Path: c.Path, From: from, To: StateFailed, Reason: vocab.CodeDocumentIDConflict}}
	return append(trs, promoted...), err
}

// closeBatchIfDone marks a batch submitted once none of its documents is
// still waiting to be submitted, or stuck once the only ones left waiting
// are stuck (vocab.CodeSubmitStuck).
func (s *Store) closeBatchIfDone(ctx context.Context, tx *sql.Tx, batchID int64) error {
	var pending, stuck int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*), COUNT(CASE WHEN d.error_code = ? THEN 1 END)
		FROM documents d WHERE d.batch_id = ? AND d.state = 'submitting'`, vocab.CodeSubmitStuck, batchID).Scan(&pending, &stuck); err != nil {
		return err
	}
	switch {
	case pending == 0:
		_, err := tx.ExecContext(ctx, `UPDATE batches SET state = ?, submitted_at = ? WHERE id = ? AND state = ?`,
			BatchSubmitted, s.now(), batchID, BatchSubmitting)
		return err
	case pending == stuck:
		_, err := tx.ExecContext(ctx, `UPDATE batches SET state = ? WHERE id = ? AND state = ?`,
			BatchStuck, batchID, BatchSubmitting)
		return err
	}
	return nil
}

// MarkSent records, before the first request with a batch's key goes out,
// that the API may have the batch from now on. Safe to call again.
func (s *Store) MarkSent(ctx context.Context, batchID int64) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE batches SET sent_at = ? WHERE id = ? AND sent_at IS NULL`, s.now(), batchID)
		return err
	})
	if err != nil {
		return fmt.Errorf("mark batch %d sent: %w", batchID, err)
	}
	return nil
}

// RecordAttempt counts a failed attempt at submitting a batch and keeps
// its (secret-free) error for the status command.
func (s *Store) RecordAttempt(ctx context.Context, batchID int64, errMsg string) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE batches SET attempts = attempts + 1, last_error = ? WHERE id = ?`, errMsg, batchID)
		return err
	})
	if err != nil {
		return fmt.Errorf("record attempt of batch %d: %w", batchID, err)
	}
	return nil
}

// Finish moves documents that are queued or submitting to a terminal local
// outcome: StateRejected (with the reason) or StateVanished. The batch is
// closed if that was its last pending document.
func (s *Store) Finish(ctx context.Context, ids []int64, to State, code, message string) error {
	if to != StateRejected && to != StateVanished {
		return fmt.Errorf("finish documents: %s is not a local outcome", to)
	}
	if len(ids) == 0 {
		return nil
	}
	var trs []Transition
	err := s.tx(ctx, func(tx *sql.Tx) error {
		trs = trs[:0]
		docs, err := queryDocuments(ctx, tx, `WHERE d.id IN (`+placeholders(len(ids))+`) AND d.state IN ('queued', 'submitting')`, int64Args(ids)...)
		if err != nil {
			return err
		}
		now := s.now()
		batches := map[int64]bool{}
		for _, d := range docs {
			if _, err := tx.ExecContext(ctx, `UPDATE documents SET state = ?, outcome = ?, completed_at = ?, error_code = ?, error_message = ?, updated_at = ?
				WHERE id = ?`, to, to, now, nullString(code), nullString(message), now, d.ID); err != nil {
				return err
			}
			if d.BatchID != 0 {
				batches[d.BatchID] = true
			}
			trs = append(trs, Transition{DocID: d.ID, Path: d.Path, From: d.State, To: to, Reason: code, Source: d.Source, Message: message})
			// The original's content was never extracted: a duplicate of it
			// still on disk takes its place instead of pointing at nothing.
			if to == StateVanished || code == vocab.CodeUnreadable || code == vocab.CodeHardlinked {
				promoted, err := s.promoteDuplicateTx(ctx, tx, d.ID)
				if err != nil {
					return err
				}
				trs = append(trs, promoted...)
			}
		}
		for b := range batches {
			if err := s.closeBatchIfDone(ctx, tx, b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("finish documents as %s: %w", to, err)
	}
	s.notify(trs)
	return nil
}

// Requeue abandons a batch the API refused as a whole (nothing of it was
// created) and puts its documents still submitting back in the queue, to be
// sent in new batches with new keys. With solo set, each goes alone next
// time, so a refusal that names no file can be pinned on one.
func (s *Store) Requeue(ctx context.Context, batchID int64, solo bool, reason string) error {
	var trs []Transition
	err := s.tx(ctx, func(tx *sql.Tx) error {
		trs = trs[:0]
		docs, err := queryDocuments(ctx, tx, `WHERE d.batch_id = ? AND d.state = 'submitting'`, batchID)
		if err != nil {
			return err
		}
		soloFlag := 0
		if solo {
			soloFlag = 1
		}
		now := s.now()
		if _, err := tx.ExecContext(ctx, `UPDATE documents SET state = 'queued', batch_id = NULL, solo = ?, updated_at = ?
			WHERE batch_id = ? AND state = 'submitting'`, soloFlag, now, batchID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE batches SET state = ?, last_error = ? WHERE id = ?`, BatchAbandoned, reason, batchID); err != nil {
			return err
		}
		for _, d := range docs {
			trs = append(trs, Transition{DocID: d.ID, Source: d.Source, Path: d.Path, From: StateSubmitting, To: StateQueued, Reason: reason})
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("requeue batch %d: %w", batchID, err)
	}
	s.notify(trs)
	return nil
}

// RequeueUnsent puts documents of batch batchID that are still submitting
// back in the queue, to go in a new batch with a new key, and closes the
// batch if nothing else of it waits. It is for documents the API's
// original answer under the batch's key does not list: they were never
// sent under that key (a file gone during an earlier attempt, since back),
// and sending them under it again could never create them.
func (s *Store) RequeueUnsent(ctx context.Context, batchID int64, docIDs []int64, reason string) error {
	if len(docIDs) == 0 {
		return nil
	}
	var trs []Transition
	err := s.tx(ctx, func(tx *sql.Tx) error {
		trs = trs[:0]
		args := append([]any{batchID}, int64Args(docIDs)...)
		docs, err := queryDocuments(ctx, tx, `WHERE d.batch_id = ? AND d.state = 'submitting' AND d.id IN (`+placeholders(len(docIDs))+`)`, args...)
		if err != nil {
			return err
		}
		now := s.now()
		for _, d := range docs {
			if _, err := tx.ExecContext(ctx, `UPDATE documents SET state = 'queued', batch_id = NULL, error_code = NULL,
				error_message = NULL, updated_at = ? WHERE id = ?`, now, d.ID); err != nil {
				return err
			}
			trs = append(trs, Transition{DocID: d.ID, Source: d.Source, Path: d.Path, From: StateSubmitting, To: StateQueued, Reason: reason})
		}
		return s.closeBatchIfDone(ctx, tx, batchID)
	})
	if err != nil {
		return fmt.Errorf("requeue unsent documents of batch %d: %w", batchID, err)
	}
	s.notify(trs)
	return nil
}

// promoteDuplicateTx makes the oldest duplicate of an original that ended
// without being extracted a queued document of its own, and points the
// other duplicates at it.
func (s *Store) promoteDuplicateTx(ctx context.Context, tx *sql.Tx, original int64) ([]Transition, error) {
	dups, err := queryDocuments(ctx, tx, `WHERE d.duplicate_of = ? AND d.state = 'duplicate' ORDER BY d.id`, original)
	if err != nil || len(dups) == 0 {
		return nil, err
	}
	heir := dups[0]
	now := s.now()
	if _, err := tx.ExecContext(ctx, `UPDATE documents SET state = 'queued', outcome = NULL, duplicate_of = NULL, completed_at = NULL,
		updated_at = ? WHERE id = ?`, now, heir.ID); err != nil {
		return nil, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE documents SET duplicate_of = ?, updated_at = ? WHERE duplicate_of = ? AND state = 'duplicate'`,
		heir.ID, now, original); err != nil {
		return nil, err
	}
	return []Transition{{DocID: heir.ID, Source: heir.Source, Path: heir.Path, From: StateDuplicate, To: StateQueued, Reason: "original ended without a result"}}, nil
}
