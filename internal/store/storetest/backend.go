package storetest

import (
	"context"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/store"
)

// Backend is every store method the suite exercises, grouped by the part
// that consumes it, with the signatures of *store.Store. Path (the SQLite
// file) is left out: it is no part of the state machine.
type Backend interface {
	// Intake: the sources and ingest.Intake.
	Intake(ctx context.Context, f store.NewFile) (store.IntakeResult, error)
	Reject(ctx context.Context, f store.NewFile, code, message string) (int64, error)
	Known(ctx context.Context, source, path string, size int64, mtime time.Time, id store.FileID) (bool, error)
	KnownMany(ctx context.Context, source string, files []store.KnownFile) ([]bool, error)
	SeedExported(ctx context.Context, files []store.NewFile, code, message string) error

	// Submission: ingest.Submitter.
	CreateBatch(ctx context.Context, mode string, ids []int64) (*store.Batch, error)
	SubmittingBatches(ctx context.Context) ([]store.Batch, error)
	MarkSent(ctx context.Context, batchID int64) error
	RecordAttempt(ctx context.Context, batchID int64, errMsg string) error
	RecordSubmitted(ctx context.Context, batchID int64, apiBatchID string, response []byte, subs []store.Submitted) error
	RecordSubmission(ctx context.Context, batchID int64, apiBatchID string, response []byte, subs []store.Submitted) ([]store.IDConflict, error)
	Finish(ctx context.Context, ids []int64, to store.State, code, message string) error
	Requeue(ctx context.Context, batchID int64, solo bool, reason string) error
	RequeueUnsent(ctx context.Context, batchID int64, docIDs []int64, reason string) error
	StopSubmitting(ctx context.Context, batchID int64, docIDs []int64, reason string) error
	NewIdempotencyKey() string
	OldestQueued(ctx context.Context) (time.Time, bool, error)

	// Webhook journal and its application: receiver.
	JournalEvent(ctx context.Context, e store.IncomingEvent) (bool, error)
	JournalEvents(ctx context.Context, evs []store.IncomingEvent) ([]bool, error)
	ApplyPendingEvents(ctx context.Context, limit int) (int, error)
	EventCounts(ctx context.Context) (map[string]int, error)
	LastEventAt(ctx context.Context) (time.Time, error)
	Events(ctx context.Context, status string, limit int) ([]store.EventRecord, error)
	EventStatuses(ctx context.Context, ids []int64) (map[int64]string, error)
	ReplayEvents(ctx context.Context, ids []int64) (int, error)

	// Polling and batch verification: reconcile.Poller.
	DueForPoll(ctx context.Context, now time.Time, grace, maxInterval time.Duration, limit int) ([]store.Document, error)
	RecordPoll(ctx context.Context, id int64, next time.Time, errMsg string) error
	PollCount(ctx context.Context, id int64) (int, error)
	ApplyResult(ctx context.Context, r store.Result) (string, error)
	BatchesToVerify(ctx context.Context, now time.Time, grace time.Duration, limit int) ([]store.BatchToVerify, error)
	RecordBatchVerification(ctx context.Context, batchID int64, result string) error
	BatchVerification(ctx context.Context, batchID int64) (string, error)
	BatchChecks(ctx context.Context, mismatches bool) ([]store.BatchCheck, error)
	BatchCounts(ctx context.Context) (map[string]int, error)

	// Export and CSV bookkeeping: export.Exporter.
	ExportCandidates(ctx context.Context, limit int) ([]store.Document, error)
	CSVCommitted(ctx context.Context, name string) (int64, error)
	CSVState(ctx context.Context, name string) (store.CSVFile, bool, error)
	BeginCSV(ctx context.Context, name string) error
	MarkExported(ctx context.Context, ids []int64, sizes map[string]store.CSVFile) error
	HoldExport(ctx context.Context, holds []store.ExportHold, first, most time.Duration) ([]store.ExportHold, error)
	ExportHeld(ctx context.Context, limit int) ([]store.Document, error)

	// Mirror: internal/mirror.
	IntendMirror(ctx context.Context, o store.MirrorObject) (bool, error)
	MirrorKnown(ctx context.Context, keys []string) (map[string]bool, error)
	MirrorPending(ctx context.Context, limit int) ([]store.MirrorObject, error)
	MirrorVersions(ctx context.Context, localPath string) ([]store.MirrorObject, error)
	MirrorPendingCount(ctx context.Context) (int, error)
	MirrorDone(ctx context.Context, key string) error
	MirrorConflict(ctx context.Context, key, why string) error
	MirrorDrop(ctx context.Context, key string) error
	ExportPendingBetween(ctx context.Context, from, to time.Time) (int, error)

	// Report data and counters: reconcile.Reporter, internal/counters.
	AddCounters(ctx context.Context, day string, counts map[string]int64) error
	Counters(ctx context.Context, day string) (map[string]int64, error)
	ReportData(ctx context.Context, w store.ReportWindow) (*store.ReportData, error)
	FirstDiscovered(ctx context.Context) (time.Time, bool, error)

	// Retry: the retry command.
	SelectForRetry(ctx context.Context, q store.RetryQuery) ([]store.Document, error)
	RetriedAs(ctx context.Context, id int64) (int64, error)
	FirstAttempt(ctx context.Context, id int64) (int64, error)
	CheckRetry(ctx context.Context, id int64, opts store.RetryOptions) (*store.Document, error)
	Retry(ctx context.Context, id int64, opts store.RetryOptions) (int64, error)

	// Meta and status: the status command, health, the daemon.
	Get(ctx context.Context, id int64) (*store.Document, error)
	GetByDocumentID(ctx context.Context, documentID string) (*store.Document, error)
	Documents(ctx context.Context, st store.State, limit int) ([]store.Document, error)
	Status(ctx context.Context) (*store.Status, error)
	CountOutcomes(ctx context.Context, dayStart, dayEnd time.Time) (*store.OutcomeCounts, error)
	SubmitStuck(ctx context.Context, limit int) ([]store.Document, error)
	Meta(ctx context.Context, key string) (string, bool, error)
	SetMeta(ctx context.Context, key, value string) error
	Ping(ctx context.Context) error
	Close() error
}
