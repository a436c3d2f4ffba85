package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"github.com/docuparse/docuparse-ingest/internal/vocab"
	"strings"
	"time"
)

// ErrNotRetryable is the sentinel every refusal of Retry and CheckRetry
// matches with errors.Is; errors.As with *NotRetryableError gives the reason.
var ErrNotRetryable = errors.New("not retryable")

// NotRetryableError says why a document is not retried. It matches
// ErrNotRetryable.
type NotRetryableError struct {
	ID     int64
	Reason string // for people: "completed documents are not retried"
	// RetriedAs is the newest retry of the document when it was refused
	// because it had been retried already; 0 otherwise.
	RetriedAs int64
}

func (e *NotRetryableError) Error() string {
	return fmt.Sprintf("document %d is not retried: %s", e.ID, e.Reason)
}

// Unwrap makes the error match ErrNotRetryable.
func (e *NotRetryableError) Unwrap() error { return ErrNotRetryable }

// RetryOptions tune Retry and CheckRetry. The zero value is the careful
// default.
type RetryOptions struct {
	// Again retries a document that was retried before (another document
	// has retry_of = it). Defaults to false: such a document is refused.
	Again bool
}

// RetryQuery chooses documents for SelectForRetry. At least one of Failed
// (or Code) and Stuck must be set; the chosen sets are united.
type RetryQuery struct {
	// Failed chooses documents whose outcome is failed, exported or not.
	Failed bool
	// Code, when set, narrows Failed (and implies it) to documents with
	// this error_code; rejected documents with the code are chosen too.
	Code string
	// Stuck chooses documents still submitted since before StuckBefore,
	// and documents stuck at submission (vocab.CodeSubmitStuck).
	Stuck       bool
	StuckBefore time.Time
	// Source, when set, keeps only the documents of this source.
	Source string
	// Again also chooses failed (or, with Code, rejected) documents that
	// are themselves retries. Defaults to false: a file is retried once by
	// a selection, and its retry's own failure is retried only by id or
	// with Again. Stuck documents are chosen whether retries or not.
	//
	// A document already retried is never chosen, Again or not: the file
	// is its retry's business (its newest attempt), so one selection
	// retries each file at most once.
	Again bool
}

// SelectForRetry returns the documents q chooses, oldest first. Whether
// each can really be retried is for Retry to decide.
func (s *Store) SelectForRetry(ctx context.Context, q RetryQuery) ([]Document, error) {
	failed := q.Failed || q.Code != ""
	if !failed && !q.Stuck {
		return nil, errors.New("select for retry: choose failed or stuck documents")
	}
	if q.Stuck && q.StuckBefore.IsZero() {
		return nil, errors.New("select for retry: stuck documents need a cutoff time")
	}
	var (
		conds []string
		args  []any
	)
	if failed {
		firstTry := ` AND d.retry_of IS NULL`
		if q.Again {
			firstTry = ""
		}
		if q.Code == "" {
			conds = append(conds, `(d.outcome = 'failed'`+firstTry+`)`)
		} else {
			conds = append(conds, `(d.outcome IN ('failed', 'rejected') AND d.error_code = ?`+firstTry+`)`)
			args = append(args, q.Code)
		}
	}
	if q.Stuck {
		conds = append(conds, `(d.state = 'submitted' AND d.submitted_at < ?)`, stuckAtSubmit)
		args = append(args, formatTime(q.StuckBefore))
	}
	where := `WHERE (` + strings.Join(conds, ` OR `) + `)`
	if q.Source != "" {
		where += ` AND d.source = ?`
		args = append(args, q.Source)
	}
	where += ` AND NOT EXISTS (SELECT 1 FROM documents r WHERE r.retry_of = d.id)`
	docs, err := queryDocuments(ctx, s.r, where+` ORDER BY d.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("select for retry: %w", err)
	}
	return docs, nil
}

// RetriedAs returns the newest document retrying id, or 0 when id was
// never retried. A retried document's input file belongs to its retry
// from then on (an after-export action must leave it alone).
func (s *Store) RetriedAs(ctx context.Context, id int64) (int64, error) {
	n, err := retriedAs(ctx, s.r, id)
	if err != nil {
		return 0, fmt.Errorf("retries of document %d: %w", id, err)
	}
	return n, nil
}

// FirstAttempt returns the local id of the first attempt at document id's
// file: id itself for a document that retries nothing (retry_of NULL),
// else the document at the start of its retry_of chain. Each document with
// retry_of NULL is one file; the others are retries of it, so a count of
// files (not attempts) counts only the former, and a retry's file is its
// first attempt's. An unknown id wraps ErrNotFound.
func (s *Store) FirstAttempt(ctx context.Context, id int64) (int64, error) {
	var first int64
	err := s.r.QueryRowContext(ctx, `WITH RECURSIVE chain (id, retry_of, depth) AS (
			SELECT id, retry_of, 0 FROM documents WHERE id = ?
			UNION ALL
			SELECT d.id, d.retry_of, c.depth + 1 FROM documents d JOIN chain c ON d.id = c.retry_of
			WHERE c.depth < 100000)
		SELECT id FROM chain ORDER BY depth DESC LIMIT 1`, id).Scan(&first)
	if errors.Is(err, sql.ErrNoRows) {
		err = ErrNotFound
	}
	if err != nil {
		return 0, fmt.Errorf("first attempt of document %d: %w", id, err)
	}
	return first, nil
}

// CheckRetry reports, changing nothing, whether Retry would retry id: it
// returns the document, or a *NotRetryableError saying why not (or an
// error wrapping ErrNotFound). It is the dry run of Retry.
func (s *Store) CheckRetry(ctx context.Context, id int64, opts RetryOptions) (*Document, error) {
	d, err := retryable(ctx, s.r, id, opts)
	if err != nil {
		return nil, fmt.Errorf("check retry of document %d: %w", id, err)
	}
	return d, nil
}

// Retry resubmits document id as a new document in one transaction, and
// returns the new document's id. The new document has the same source,
// path, name, size, modification time and content hash, a fresh client
// reference, retry_of = id, and is queued; dedupe is bypassed, since the
// same content is the point. The submitter of a running daemon picks it up.
//
// A failed or rejected document (exported or not) is left as it is: its row
// stands. A document still submitted (stuck) becomes failed in the same
// transaction with error_code vocab.CodeResubmitted, so it has exactly one row,
// and a result that arrives for it later changes nothing. Any other state,
// a document without a content hash, and a document retried before (unless
// opts.Again) are refused with a *NotRetryableError and nothing changes.
//
// Retry does not look at the file itself: callers check that it is still
// there and unchanged first.
func (s *Store) Retry(ctx context.Context, id int64, opts RetryOptions) (int64, error) {
	var (
		newID int64
		trs   []Transition
	)
	err := s.tx(ctx, func(tx *sql.Tx) error {
		trs = trs[:0]
		d, err := retryable(ctx, tx, id, opts)
		if err != nil {
			return err
		}
		f := NewFile{Source: d.Source, Path: d.Path, FileName: d.FileName, Size: d.SizeBytes, ModTime: d.ModTime, FileID: d.FileID, SHA256: d.SHA256}
		if newID, err = s.insertDocument(ctx, tx, f, StateQueued, sql.NullInt64{}, "", ""); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE documents SET retry_of = ? WHERE id = ?`, id, newID); err != nil {
			return err
		}
		trs = append(trs, Transition{DocID: newID, Source: d.Source, Path: d.Path, To: StateQueued, Reason: fmt.Sprintf("retry of document %d", id)})
		if d.State != StateSubmitted && d.State != StateSubmitting {
			return nil
		}
		now := s.now()
		msg := fmt.Sprintf("resubmitted as document %d", newID)
		if d.State == StateSubmitting {
			msg = fmt.Sprintf("stuck at submission (%s); resubmitted as document %d", d.ErrorMessage, newID)
		}
		r, err := tx.ExecContext(ctx, `UPDATE documents SET state = 'failed', outcome = 'failed', completed_at = ?,
			error_code = ?, error_message = ?, updated_at = ? WHERE id = ? AND state = ?`,
			now, vocab.CodeResubmitted, msg, now, id, d.State)
		if err != nil {
			return err
		}
		if n, err := r.RowsAffected(); err != nil || n != 1 {
			return fmt.Errorf("mark document %d resubmitted: %d rows changed (%v)", id, n, err)
		}
		trs = append(trs, Transition{DocID: id, Source: d.Source, Path: d.Path, From: d.State, To: StateFailed,
			DocumentID: d.DocumentID, Reason: vocab.CodeResubmitted})
		if d.State == StateSubmitting {
			return nil // its batch stays stuck: the API never answered usably
		}
		if d.BatchID != 0 {
			// It may have been the batch's last document without a result.
			return s.checkBatchTx(ctx, tx, d.BatchID)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("retry document %d: %w", id, err)
	}
	s.notify(trs)
	return newID, nil
}

// retryQuerier is what retryable reads through: the read pool or the
// writer's transaction.
type retryQuerier interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
	QueryRowContext(context.Context, string, ...any) *sql.Row
}

// retryable loads document id and decides whether it may be retried.
func retryable(ctx context.Context, q retryQuerier, id int64, opts RetryOptions) (*Document, error) {
	docs, err := queryDocuments(ctx, q, `WHERE d.id = ?`, id)
	if err != nil {
		return nil, err
	}
	if len(docs) == 0 {
		return nil, ErrNotFound
	}
	d := &docs[0]
	if reason := stateRefusal(d); reason != "" {
		return nil, &NotRetryableError{ID: id, Reason: reason}
	}
	if d.SHA256 == "" {
		return nil, &NotRetryableError{ID: id, Reason: "its content was never read (no sha256); once the file changes it is taken in anew"}
	}
	if opts.Again {
		return d, nil
	}
	newer, err := retriedAs(ctx, q, id)
	if err != nil {
		return nil, err
	}
	if newer != 0 {
		return nil, &NotRetryableError{ID: id, Reason: fmt.Sprintf("already retried as document %d", newer), RetriedAs: newer}
	}
	return d, nil
}

// stateRefusal returns why a document in d's state is not retried, or ""
// when it may be.
func stateRefusal(d *Document) string {
	st := d.State
	if st == StateExported {
		st = d.Outcome
	}
	switch st {
	case StateSubmitted, StateFailed, StateRejected:
		return ""
	case StateQueued:
		return "queued documents are not retried: it is still waiting to be submitted"
	case StateSubmitting:
		if d.ErrorCode == vocab.CodeSubmitStuck {
			return ""
		}
		return "submitting documents are not retried: its upload is under way"
	case StateDuplicate:
		if d.DuplicateOf != 0 {
			return fmt.Sprintf("duplicate documents are not retried (retry its original, document %d)", d.DuplicateOf)
		}
		return "duplicate documents are not retried"
	case StateVanished:
		return "vanished documents are not retried: the file was gone or changed before upload"
	case "":
		return fmt.Sprintf("%s documents without an outcome are not retried", d.State)
	default:
		return fmt.Sprintf("%s documents are not retried", st)
	}
}

func retriedAs(ctx context.Context, q retryQuerier, id int64) (int64, error) {
	var newer int64
	err := q.QueryRowContext(ctx, `SELECT id FROM documents WHERE retry_of = ? ORDER BY id DESC LIMIT 1`, id).Scan(&newer)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return newer, err
}
