package ingest

import (
	"context"

	"github.com/docuparse/docuparse-ingest/internal/store"
)

// What this package needs from the state store, one interface per part.
// *store.Store implements them all (checked in the store's conformance
// suite, internal/store/storetest); a second backend implements them too.

// IntakeStore is what Intake needs: whether a file was taken in already,
// and recording it queued (or a duplicate), several in one transaction when
// they wait together, or rejected.
type IntakeStore interface {
	// KnownMany reports, for many files of one source in one query,
	// whether each very file (same path, size, modification time and
	// identity) has a document already: known[i] answers for files[i].
	// Intake asks it once per group.
	KnownMany(ctx context.Context, source string, files []store.KnownFile) (known []bool, err error)
	// Intake records a new file: queued, or a duplicate of a document with
	// the same content.
	Intake(ctx context.Context, f store.NewFile) (store.IntakeResult, error)
	// IntakeMany records several files as Intake would, in order, in one
	// transaction (one fsync for the group), all or nothing.
	IntakeMany(ctx context.Context, files []store.NewFile) ([]store.IntakeResult, error)
	// Reject records a file that will never be submitted, with the reason.
	Reject(ctx context.Context, f store.NewFile, code, message string) (int64, error)
}

// ListingStore is what a bucket source needs: which objects of one listing
// page were taken in already, asked once per page.
type ListingStore interface {
	KnownMany(ctx context.Context, source string, files []store.KnownFile) ([]bool, error)
}

// SubmitStore is what the submitter needs: the queued documents, and each
// step of a batch written before the API call it guards (CreateBatch,
// MarkSent) and after it answers (RecordSubmission, Requeue, Finish …), so
// that a batch interrupted at any point is found again by
// SubmittingBatches.
type SubmitStore interface {
	Documents(ctx context.Context, st store.State, limit int) ([]store.Document, error)
	SubmittingBatches(ctx context.Context) ([]store.Batch, error)
	CreateBatch(ctx context.Context, mode string, ids []int64) (*store.Batch, error)
	MarkSent(ctx context.Context, batchID int64) error
	RecordAttempt(ctx context.Context, batchID int64, errMsg string) error
	RecordSubmission(ctx context.Context, batchID int64, apiBatchID string, response []byte, subs []store.Submitted) ([]store.IDConflict, error)
	Requeue(ctx context.Context, batchID int64, solo bool, reason string) error
	RequeueUnsent(ctx context.Context, batchID int64, docIDs []int64, reason string) error
	StopSubmitting(ctx context.Context, batchID int64, docIDs []int64, reason string) error
	Finish(ctx context.Context, ids []int64, to store.State, code, message string) error
}
