package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/docuparse/docuparse-ingest/internal/vocab"
)

// BatchStuck is the state of a batch whose every document still
// submitting is stuck (vocab.CodeSubmitStuck): nothing resumes it.
const BatchStuck = "stuck"

// StopSubmitting records in one transaction that the submitter gave up on
// the given documents of batch batchID: each still submitting keeps its
// state and gets vocab.CodeSubmitStuck with reason; the batch becomes stuck once
// none of its documents is submitting without that code. Safe to call
// again.
func (s *Store) StopSubmitting(ctx context.Context, batchID int64, docIDs []int64, reason string) error {
	if len(docIDs) == 0 {
		return nil
	}
	err := s.tx(ctx, func(tx *sql.Tx) error {
		now := s.now()
		args := append([]any{vocab.CodeSubmitStuck, reason, now, batchID}, int64Args(docIDs)...)
		if _, err := tx.ExecContext(ctx, `UPDATE documents SET error_code = ?, error_message = ?, updated_at = ?
			WHERE batch_id = ? AND state = 'submitting' AND id IN (`+placeholders(len(docIDs))+`)`, args...); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE batches SET last_error = ? WHERE id = ?`, reason, batchID); err != nil {
			return err
		}
		return s.closeBatchIfDone(ctx, tx, batchID)
	})
	if err != nil {
		return fmt.Errorf("stop submitting batch %d: %w", batchID, err)
	}
	return nil
}

// SubmitStuck returns up to limit documents stuck at submission
// (vocab.CodeSubmitStuck), oldest first (0 = no limit).
func (s *Store) SubmitStuck(ctx context.Context, limit int) ([]Document, error) {
	return s.oldestWhere(ctx, "documents stuck at submission", stuckAtSubmit, limit)
}

// stuckAtSubmit is the SQL condition (over documents d) of a document
// stuck at submission.
const stuckAtSubmit = `(d.state = 'submitting' AND d.error_code = '` + vocab.CodeSubmitStuck + `')`
