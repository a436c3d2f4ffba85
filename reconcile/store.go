package reconcile

import (
	"context"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/store"
)

// Store is what the poller needs of the daemon's store: the submitted
// documents due for a poll, a record of each poll, the application of a
// polled outcome, and the batches to confirm with the API. The SQLite
// store (*store.Store) implements it; another backend must too.
type Store interface {
	// DueForPoll returns up to limit submitted documents due for a poll
	// at now: never polled and submitted at least grace ago, or whose
	// next poll has come. A time stored further ahead than grace (a
	// submission) or maxInterval (a next poll) is due now: the wall clock
	// was stepped back since it was written.
	DueForPoll(ctx context.Context, now time.Time, grace, maxInterval time.Duration, limit int) ([]store.Document, error)
	// Documents returns the documents in state st, oldest first, at most
	// limit (0 = no limit).
	Documents(ctx context.Context, st store.State, limit int) ([]store.Document, error)
	// RecordPoll counts a poll of document id that found no outcome and
	// schedules the next at next; errMsg is empty when the API said
	// "processing".
	RecordPoll(ctx context.Context, id int64, next time.Time, errMsg string) error
	// ApplyResult records a polled outcome in one transaction; the first
	// terminal outcome wins (store.Applied, store.Duplicate or
	// store.Conflict).
	ApplyResult(ctx context.Context, r store.Result) (string, error)
	// BatchesToVerify returns up to limit batches whose documents are all
	// done and whose batch.completed never came within grace, or
	// disagreed.
	BatchesToVerify(ctx context.Context, now time.Time, grace time.Duration, limit int) ([]store.BatchToVerify, error)
	// RecordBatchVerification keeps what the API said about a batch:
	// "match" or "mismatch: …".
	RecordBatchVerification(ctx context.Context, batchID int64, result string) error
}
