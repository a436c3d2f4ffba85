package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/docuparse"
)

// Batch check outcomes (batches.summary_check).
const (
	CheckMatch    = "match"
	CheckMismatch = "mismatch"
)

// checkBatchTx compares a batch's batch.completed summary with the
// daemon's own counts once the summary is in and none of the batch's
// documents is still waiting for a result. It records "match" or
// "mismatch: …" on the batch; until both conditions hold it does nothing,
// so a summary that arrives before its documents' events is checked when
// the last of them is applied.
func (s *Store) checkBatchTx(ctx context.Context, tx *sql.Tx, batchID int64) error {
	var summary sql.NullString
	var check sql.NullString
	err := s.queryRowTx(ctx, tx, qBatchSummary, batchID).Scan(&summary, &check)
	if err != nil || !summary.Valid || check.Valid {
		return ignoreNoRows(err)
	}
	var want docuparse.Summary
	if err := json.Unmarshal([]byte(summary.String), &want); err != nil {
		return s.setBatchCheck(ctx, tx, batchID, CheckMismatch+": unreadable summary")
	}
	var pending, succeeded, failed int
	err = tx.QueryRowContext(ctx, `SELECT
			COALESCE(SUM(CASE WHEN state IN ('submitting', 'submitted') THEN 1 ELSE 0 END), 0),
			COALESCE(SUM(CASE WHEN outcome = 'completed' THEN 1 ELSE 0 END), 0),
			COALESCE(SUM(CASE WHEN outcome = 'failed' THEN 1 ELSE 0 END), 0)
		FROM documents WHERE batch_id = ? AND document_id IS NOT NULL`, batchID).Scan(&pending, &succeeded, &failed)
	if err != nil || pending > 0 {
		return err
	}
	got := docuparse.Summary{Total: succeeded + failed, Succeeded: succeeded, Failed: failed}
	if got == want {
		return s.setBatchCheck(ctx, tx, batchID, CheckMatch)
	}
	return s.setBatchCheck(ctx, tx, batchID, fmt.Sprintf("%s: API says total %d, succeeded %d, failed %d; daemon has total %d, succeeded %d, failed %d",
		CheckMismatch, want.Total, want.Succeeded, want.Failed, got.Total, got.Succeeded, got.Failed))
}

func (s *Store) setBatchCheck(ctx context.Context, tx *sql.Tx, batchID int64, check string) error {
	_, err := tx.ExecContext(ctx, `UPDATE batches SET summary_check = ?, checked_at = ? WHERE id = ?`, check, s.now(), batchID)
	return err
}

func ignoreNoRows(err error) error {
	if err == sql.ErrNoRows {
		return nil
	}
	return err
}

// BatchCheck is a batch whose summary has been checked.
type BatchCheck struct {
	ID         int64
	APIBatchID string
	Check      string // "match" or "mismatch: …"
	CheckedAt  time.Time
}

// BatchChecks returns checked batches, mismatches only when mismatches is
// set, oldest first.
func (s *Store) BatchChecks(ctx context.Context, mismatches bool) ([]BatchCheck, error) {
	q := `SELECT id, api_batch_id, summary_check, checked_at FROM batches WHERE summary_check IS NOT NULL`
	if mismatches {
		q += ` AND summary_check <> 'match'`
	}
	out, err := queryBatchChecks(ctx, s.r, q+` ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("batch checks: %w", err)
	}
	return out, nil
}

// queryBatchChecks runs a query selecting id, api_batch_id, summary_check
// and checked_at from batches.
func queryBatchChecks(ctx context.Context, q reportQuerier, query string, args ...any) ([]BatchCheck, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []BatchCheck
	for rows.Next() {
		var c BatchCheck
		var api, at sql.NullString
		if err := rows.Scan(&c.ID, &api, &c.Check, &at); err != nil {
			return nil, err
		}
		c.APIBatchID, c.CheckedAt = api.String, parseTime(at)
		out = append(out, c)
	}
	return out, rows.Err()
}

// BatchCounts returns the number of batches in each state.
func (s *Store) BatchCounts(ctx context.Context) (map[string]int, error) {
	out, err := s.countBy(ctx, `SELECT state, COUNT(*) FROM batches GROUP BY state`)
	if err != nil {
		return nil, fmt.Errorf("batch counts: %w", err)
	}
	return out, nil
}

// BatchToVerify is a batch whose outcome should be confirmed with the API.
type BatchToVerify struct {
	ID         int64
	APIBatchID string
	Reason     string // "summary missing" or the mismatch found
	Documents  []Document
}

// BatchesToVerify returns up to limit submitted batches, not yet verified
// with the API, whose documents are all done and which either never got a
// batch.completed within grace of their submission or got one that
// disagrees with the daemon's counts. A batch submitted more than grace
// ahead of now is taken as overdue: the wall clock was stepped back since,
// and the step must not delay its check (see DueForPoll).
func (s *Store) BatchesToVerify(ctx context.Context, now time.Time, grace time.Duration, limit int) ([]BatchToVerify, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT b.id, b.api_batch_id, b.summary_check FROM batches b
		WHERE b.state = 'submitted' AND b.api_batch_id IS NOT NULL AND b.api_check IS NULL
		  AND ((b.summary IS NULL AND (b.submitted_at <= ? OR b.submitted_at > ?)) OR b.summary_check LIKE 'mismatch%')
		  AND NOT EXISTS (SELECT 1 FROM documents d WHERE d.batch_id = b.id AND d.state IN ('submitting', 'submitted'))
		ORDER BY b.id LIMIT ?`, formatTime(now.Add(-grace)), formatTime(now.Add(grace)), limit)
	if err != nil {
		return nil, fmt.Errorf("batches to verify: %w", err)
	}
	var out []BatchToVerify
	for rows.Next() {
		var b BatchToVerify
		var check sql.NullString
		if err := rows.Scan(&b.ID, &b.APIBatchID, &check); err != nil {
			rows.Close()
			return nil, fmt.Errorf("batches to verify: %w", err)
		}
		b.Reason = "summary missing"
		if check.Valid {
			b.Reason = check.String
		}
		out = append(out, b)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("batches to verify: %w", err)
	}
	for i := range out {
		docs, err := queryDocuments(ctx, s.r, `WHERE d.batch_id = ? AND d.document_id IS NOT NULL ORDER BY d.id`, out[i].ID)
		if err != nil {
			return nil, fmt.Errorf("batches to verify: %w", err)
		}
		out[i].Documents = docs
	}
	return out, nil
}

// RecordBatchVerification keeps what the API said about a batch: "match"
// or "mismatch: …".
func (s *Store) RecordBatchVerification(ctx context.Context, batchID int64, result string) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE batches SET api_check = ?, api_checked_at = ? WHERE id = ?`, result, s.now(), batchID)
		return err
	})
	if err != nil {
		return fmt.Errorf("record verification of batch %d: %w", batchID, err)
	}
	return nil
}

// BatchVerification returns what the API said about a batch, or "" when it
// was not asked.
func (s *Store) BatchVerification(ctx context.Context, batchID int64) (string, error) {
	var v sql.NullString
	if err := s.r.QueryRowContext(ctx, `SELECT api_check FROM batches WHERE id = ?`, batchID).Scan(&v); err != nil {
		return "", fmt.Errorf("verification of batch %d: %w", batchID, err)
	}
	return v.String, nil
}
