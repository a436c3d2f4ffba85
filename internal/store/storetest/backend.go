package storetest

import (
	"context"
	"time"

	"github.com/docuparse/docuparse-ingest/ingest"
	"github.com/docuparse/docuparse-ingest/internal/export"
	"github.com/docuparse/docuparse-ingest/internal/mirror"
	"github.com/docuparse/docuparse-ingest/internal/store"
	"github.com/docuparse/docuparse-ingest/receiver"
	"github.com/docuparse/docuparse-ingest/reconcile"
	"github.com/docuparse/docuparse-ingest/report"
)

// Backend is everything a store backend implements: the narrow interface
// each consuming package declares (its own file says what it needs and
// why), and below them the methods only commands, status, metrics and
// tests call. The suite exercises every method; a backend that compiles
// against Backend and passes Run can replace *store.Store. Path (the
// SQLite file) is left out: it is no part of the state machine.
type Backend interface {
	ingest.IntakeStore  // ingest.Intake: take a file in, or reject it
	ingest.ListingStore // ingest.Bucket: which listed objects are known
	ingest.SubmitStore  // ingest.Submitter: batches, intention before each API call
	receiver.Journal    // receiver.Handler: verified deliveries, group commit
	receiver.EventStore // receiver.Applier: pending events applied as typed actions
	reconcile.Store     // reconcile.Poller: due documents, results, batch verification
	export.Store        // export.Exporter: candidates, CSV intentions and results
	mirror.Store        // mirror.Mirror: upload intentions and results
	report.Store        // report.Reporter: one snapshot of a day, schedule notes

	// One file's look-up, as KnownMany answers it for a group (the
	// suite's checks of what a file's identity makes known).
	Known(ctx context.Context, source, path string, size int64, mtime time.Time, id store.FileID) (bool, error)

	// Intake seeding (`seed` of a folder's existing files) and a
	// submission recorded whole (tests and the simulator's tools).
	SeedExported(ctx context.Context, files []store.NewFile, code, message string) error
	RecordSubmitted(ctx context.Context, batchID int64, apiBatchID string, response []byte, subs []store.Submitted) error
	NewIdempotencyKey() string
	OldestQueued(ctx context.Context) (time.Time, bool, error)

	// The journal as `webhook events`, `status` and /metrics read it.
	EventCounts(ctx context.Context) (map[string]int, error)
	LastEventAt(ctx context.Context) (time.Time, error)
	Events(ctx context.Context, status string, limit int) ([]store.EventRecord, error)
	EventStatuses(ctx context.Context, ids []int64) (map[int64]string, error)
	ReplayEvents(ctx context.Context, ids []int64) (int, error)

	// Polls and batch checks as `status` and the report read them.
	PollCount(ctx context.Context, id int64) (int, error)
	BatchVerification(ctx context.Context, batchID int64) (string, error)
	BatchChecks(ctx context.Context, mismatches bool) ([]store.BatchCheck, error)
	BatchCounts(ctx context.Context) (map[string]int, error)
	CSVCommitted(ctx context.Context, name string) (int64, error)
	ExportHeld(ctx context.Context, limit int) ([]store.Document, error)

	// Daily counters: internal/counters.
	AddCounters(ctx context.Context, day string, counts map[string]int64) error
	Counters(ctx context.Context, day string) (map[string]int64, error)

	// Retry: the retry command (its retryStore) and the report.
	SelectForRetry(ctx context.Context, q store.RetryQuery) ([]store.Document, error)
	FirstAttempt(ctx context.Context, id int64) (int64, error)
	CheckRetry(ctx context.Context, id int64, opts store.RetryOptions) (*store.Document, error)
	Retry(ctx context.Context, id int64, opts store.RetryOptions) (int64, error)

	// Status: the status command, health, the daemon.
	Get(ctx context.Context, id int64) (*store.Document, error)
	GetByDocumentID(ctx context.Context, documentID string) (*store.Document, error)
	Status(ctx context.Context) (*store.Status, error)
	CountOutcomes(ctx context.Context, dayStart, dayEnd time.Time) (*store.OutcomeCounts, error)
	SubmitStuck(ctx context.Context, limit int) ([]store.Document, error)
	Ping(ctx context.Context) error

	// Pruning: the daemon's retention job ([state] retention).
	Prune(ctx context.Context, cutoff time.Time, day string) (store.PruneResult, error)
	Close() error
}
