package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// DueForPoll returns up to limit submitted documents that have waited for
// their webhook since before cutoff and whose next poll time has come,
// least recently polled first.
func (s *Store) DueForPoll(ctx context.Context, cutoff, now time.Time, limit int) ([]Document, error) {
	docs, err := queryDocuments(ctx, s.r, `WHERE d.state = 'submitted' AND d.submitted_at <= ?
		AND (d.next_poll_at IS NULL OR d.next_poll_at <= ?)
		ORDER BY COALESCE(d.next_poll_at, d.submitted_at), d.id LIMIT ?`,
		formatTime(cutoff), formatTime(now), limit)
	if err != nil {
		return nil, fmt.Errorf("documents due for polling: %w", err)
	}
	return docs, nil
}

// RecordPoll counts a poll that found no terminal outcome and schedules
// the next one at next. errMsg is empty when the API said "processing".
func (s *Store) RecordPoll(ctx context.Context, id int64, next time.Time, errMsg string) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE documents SET poll_count = poll_count + 1, next_poll_at = ?, last_poll_error = ?
			WHERE id = ? AND state = 'submitted'`, formatTime(next), nullString(errMsg), id)
		return err
	})
	if err != nil {
		return fmt.Errorf("record poll of document %d: %w", id, err)
	}
	return nil
}

// PollCount returns how many polls a document has had.
func (s *Store) PollCount(ctx context.Context, id int64) (int, error) {
	var n int
	if err := s.r.QueryRowContext(ctx, `SELECT poll_count FROM documents WHERE id = ?`, id).Scan(&n); err != nil {
		return 0, fmt.Errorf("poll count of document %d: %w", id, err)
	}
	return n, nil
}
