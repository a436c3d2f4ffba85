package store

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"time"
)

// counterDayLayout is the layout of a counter's day, as in the output file names.
const counterDayLayout = "2006-01-02"

// AddCounters adds counts to the named counters of day ("2006-01-02", the
// calendar day in the report's time zone), creating them at zero first, in
// one transaction. The names are the caller's (see internal/counters); the
// store keeps any. Zero counts are skipped; a negative count, an empty name
// or a malformed day is an error and nothing is added.
func (s *Store) AddCounters(ctx context.Context, day string, counts map[string]int64) error {
	if _, err := time.Parse(counterDayLayout, day); err != nil {
		return fmt.Errorf("add counters: day %q is not YYYY-MM-DD", day)
	}
	names := make([]string, 0, len(counts))
	for name, n := range counts {
		if name == "" {
			return fmt.Errorf("add counters for %s: empty counter name", day)
		}
		if n < 0 {
			return fmt.Errorf("add counters for %s: negative count %d for %s", day, n, name)
		}
		if n > 0 {
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		return nil
	}
	sort.Strings(names) // a fixed lock order, should two writers ever share the table
	err := s.tx(ctx, func(tx *sql.Tx) error {
		for _, name := range names {
			if _, err := tx.ExecContext(ctx, `INSERT INTO daily_counters (day, name, count) VALUES (?, ?, ?)
				ON CONFLICT (day, name) DO UPDATE SET count = daily_counters.count + excluded.count`,
				day, name, counts[name]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("add counters for %s: %w", day, err)
	}
	return nil
}

// Counters returns the counters of day ("2006-01-02"); an empty map when
// none were added.
func (s *Store) Counters(ctx context.Context, day string) (map[string]int64, error) {
	out, err := queryCounters(ctx, s.r, day)
	if err != nil {
		return nil, fmt.Errorf("counters for %s: %w", day, err)
	}
	return out, nil
}

// reportQuerier is what *sql.DB and *sql.Tx share for reading.
type reportQuerier interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
	QueryRowContext(context.Context, string, ...any) *sql.Row
}

func queryCounters(ctx context.Context, q reportQuerier, day string) (map[string]int64, error) {
	return queryCounts[int64](ctx, q, `SELECT name, count FROM daily_counters WHERE day = ?`, day)
}

// ReportWindow selects what one day's report covers.
type ReportWindow struct {
	// Day names the day ("2006-01-02"); it is the key of its counters.
	Day string
	// From and To are the instants the day starts and ends, [From, To).
	From, To time.Time
}

// ReportDocument is a document as the report sees it.
type ReportDocument struct {
	Document
	// LastPollError is the error of the latest poll that found no
	// outcome (NOT_FOUND when the API no longer knows the document).
	LastPollError string
}

// ReportEvent is a journaled delivery the report lists (its Body is not
// loaded), with the path of the document it names when that is recorded.
type ReportEvent struct {
	EventRecord
	Path string
}

// MissingSummary is a batch uploaded with POST /batches whose documents
// are all done, for which no batch.completed event has arrived.
type MissingSummary struct {
	ID         int64
	APIBatchID string
	FileCount  int
	DoneAt     time.Time // when its last document was done
}

// ReportData is everything the day's report is built from, read in one
// snapshot so that its parts agree with each other.
type ReportData struct {
	// Discovered counts the files discovered in the window (documents
	// that are not retries), by a query of its own: the report's
	// accounting line checks against it.
	Discovered int
	// Documents are those discovered in the window, in discovery order,
	// retries included.
	Documents []ReportDocument
	// Retries says, for each document of Documents that is a retry or
	// was retried, how it stands in its chain (see retryInfo); a document
	// absent is a file's only attempt.
	Retries map[int64]RetryInfo
	// Latest holds the newest retry of each retried file of Documents,
	// whenever it was discovered, by the file's first document's id.
	Latest map[int64]ReportDocument
	// EventCounts counts the deliveries received in the window by status.
	EventCounts map[string]int
	// Events lists the dead, conflicting and orphaned deliveries received
	// in the window, oldest first.
	Events []ReportEvent
	// Mismatches are the batches whose summary check, made in the window,
	// found a mismatch, oldest first.
	Mismatches []BatchCheck
	// MissingSummaries are the batches whose last document was done in
	// the window and that have no batch.completed summary, oldest first.
	MissingSummaries []MissingSummary
	// Counters are the day's counters (see AddCounters).
	Counters map[string]int64
	// Uploads counts the batches first sent in the window, and their
	// files, by upload mode (ModeBatch, ModeSingle); a mode with none is
	// absent.
	Uploads map[string]UploadCount
}

// UploadCount is how many batches of one upload mode were sent, with how
// many files in all.
type UploadCount struct {
	Batches, Files int
}

// ReportData reads what the report of window w needs, in one read-only
// transaction: SQLite (WAL) then reads one snapshot, so a document taken in
// meanwhile is either in every part or in none. A PostgreSQL store would
// run the same statements at REPEATABLE READ.
func (s *Store) ReportData(ctx context.Context, w ReportWindow) (*ReportData, error) {
	if !w.From.Before(w.To) {
		return nil, fmt.Errorf("report data for %s: empty window %s .. %s", w.Day, formatTime(w.From), formatTime(w.To))
	}
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("report data for %s: %w", w.Day, err)
	}
	defer func() { _ = tx.Rollback() }()
	from, to := formatTime(w.From), formatTime(w.To)
	d := &ReportData{}
	steps := []struct {
		what string
		fn   func() error
	}{
		{"count documents", func() error {
			return tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM documents d WHERE d.discovered_at >= ? AND d.discovered_at < ? AND `+notARetry,
				from, to).Scan(&d.Discovered)
		}},
		{"retries", func() (err error) { d.Retries, d.Latest, err = retryInfo(ctx, tx, from, to); return err }},
		{"documents", func() (err error) { d.Documents, err = reportDocuments(ctx, tx, from, to, d.Discovered); return err }},
		{"event counts", func() (err error) { d.EventCounts, err = reportEventCounts(ctx, tx, from, to); return err }},
		{"events", func() (err error) { d.Events, err = reportEvents(ctx, tx, from, to); return err }},
		{"batch mismatches", func() (err error) { d.Mismatches, err = reportMismatches(ctx, tx, from, to); return err }},
		{"missing summaries", func() (err error) { d.MissingSummaries, err = reportMissingSummaries(ctx, tx, from, to); return err }},
		{"counters", func() (err error) { d.Counters, err = queryCounters(ctx, tx, w.Day); return err }},
		{"uploads", func() (err error) { d.Uploads, err = reportUploads(ctx, tx, from, to); return err }},
	}
	for _, st := range steps {
		if err := st.fn(); err != nil {
			return nil, fmt.Errorf("report data for %s: %s: %w", w.Day, st.what, err)
		}
	}
	return d, nil
}

// reportDocuments reads the documents discovered in [from, to); n, their
// count, sizes the slice once (a day can hold tens of thousands).
func reportDocuments(ctx context.Context, q reportQuerier, from, to string, n int) ([]ReportDocument, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+docColumns+`, d.last_poll_error`+docFrom+`
		WHERE d.discovered_at >= ? AND d.discovered_at < ? ORDER BY d.discovered_at, d.id`, from, to)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make([]ReportDocument, 0, n)
	for rows.Next() {
		var pollErr sql.NullString
		doc, err := scanDocument(rows, &pollErr)
		if err != nil {
			return nil, err
		}
		out = append(out, ReportDocument{Document: *doc, LastPollError: pollErr.String})
	}
	return out, rows.Err()
}

func reportEventCounts(ctx context.Context, q reportQuerier, from, to string) (map[string]int, error) {
	return queryCounts[int](ctx, q, `SELECT status, COUNT(*) FROM events
		WHERE received_at >= ? AND received_at < ? GROUP BY status`, from, to)
}

func reportEvents(ctx context.Context, q reportQuerier, from, to string) ([]ReportEvent, error) {
	rows, err := q.QueryContext(ctx, `SELECT e.id, e.delivery_id, e.event_type, e.document_id, e.batch_id,
			e.received_at, e.status, e.note, d.path
		FROM events e LEFT JOIN documents d ON d.document_id = e.document_id
		WHERE e.received_at >= ? AND e.received_at < ? AND e.status IN (?, ?, ?)
		ORDER BY e.id`, from, to, EventDead, EventConflict, EventOrphan)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ReportEvent
	for rows.Next() {
		var e ReportEvent
		var delivery, doc, batch, note, path sql.NullString
		var received string
		if err := rows.Scan(&e.ID, &delivery, &e.Type, &doc, &batch, &received, &e.Status, &note, &path); err != nil {
			return nil, err
		}
		e.DeliveryID, e.DocumentID, e.BatchID, e.Note, e.Path = delivery.String, doc.String, batch.String, note.String, path.String
		e.ReceivedAt = parseTime(nullString(received))
		out = append(out, e)
	}
	return out, rows.Err()
}

func reportMismatches(ctx context.Context, q reportQuerier, from, to string) ([]BatchCheck, error) {
	return queryBatchChecks(ctx, q, `SELECT id, api_batch_id, summary_check, checked_at FROM batches
		WHERE summary_check LIKE ? AND checked_at >= ? AND checked_at < ? ORDER BY id`, CheckMismatch+"%", from, to)
}

// reportMissingSummaries finds batches sent with POST /batches (only those
// get a batch.completed event) that the API accepted, none of whose
// documents is still waiting, whose last document was done in the window,
// and which have no summary.
func reportMissingSummaries(ctx context.Context, q reportQuerier, from, to string) ([]MissingSummary, error) {
	rows, err := q.QueryContext(ctx, `SELECT b.id, b.api_batch_id, b.file_count, MAX(d.completed_at)
		FROM batches b JOIN documents d ON d.batch_id = b.id
		WHERE b.upload_mode = ? AND b.state = ? AND b.api_batch_id IS NOT NULL
		  AND b.summary IS NULL AND b.summary_check IS NULL
		GROUP BY b.id, b.api_batch_id, b.file_count
		HAVING SUM(CASE WHEN d.state IN ('queued', 'submitting', 'submitted') THEN 1 ELSE 0 END) = 0
		   AND MAX(d.completed_at) >= ? AND MAX(d.completed_at) < ?
		ORDER BY b.id`, ModeBatch, BatchSubmitted, from, to)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []MissingSummary
	for rows.Next() {
		var m MissingSummary
		var done sql.NullString
		if err := rows.Scan(&m.ID, &m.APIBatchID, &m.FileCount, &done); err != nil {
			return nil, err
		}
		m.DoneAt = parseTime(done)
		out = append(out, m)
	}
	return out, rows.Err()
}

// reportUploads counts the batches first sent in [from, to) (those sent
// before MarkSent existed: submitted then) by upload mode.
func reportUploads(ctx context.Context, q reportQuerier, from, to string) (map[string]UploadCount, error) {
	rows, err := q.QueryContext(ctx, `SELECT upload_mode, COUNT(*), COALESCE(SUM(file_count), 0) FROM batches
		WHERE COALESCE(sent_at, submitted_at) >= ? AND COALESCE(sent_at, submitted_at) < ?
		GROUP BY upload_mode`, from, to)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]UploadCount{}
	for rows.Next() {
		var mode string
		var c UploadCount
		if err := rows.Scan(&mode, &c.Batches, &c.Files); err != nil {
			return nil, err
		}
		out[mode] = c
	}
	return out, rows.Err()
}
