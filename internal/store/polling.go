package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// DueForPoll returns up to limit submitted documents due for a poll at
// now, least recently polled first: those never polled that were submitted
// at least grace ago (their webhook is overdue), and those whose next poll
// time has come.
//
// A stored time further ahead of now than it can be means the wall clock
// was stepped back since it was written: a submission more than grace
// ahead, or a next poll more than maxInterval (the longest time a poll is
// ever scheduled ahead) ahead. Such a document is due now, so that a step
// back delays a poll by at most one grace or one interval, never by the
// step; the poll then schedules the next one by the new wall time.
func (s *Store) DueForPoll(ctx context.Context, now time.Time, grace, maxInterval time.Duration, limit int) ([]Document, error) {
	docs, err := queryDocuments(ctx, s.r, `WHERE d.state = 'submitted'
		AND (d.next_poll_at IS NOT NULL OR d.submitted_at <= ? OR d.submitted_at > ?)
		AND (d.next_poll_at IS NULL OR d.next_poll_at <= ? OR d.next_poll_at > ?)
		ORDER BY COALESCE(d.next_poll_at, d.submitted_at), d.id LIMIT ?`,
		formatTime(now.Add(-grace)), formatTime(now.Add(grace)), formatTime(now), formatTime(now.Add(maxInterval)), limit)
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
