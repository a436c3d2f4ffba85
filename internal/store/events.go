package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/docuparse"
	"github.com/docuparse/docuparse-ingest/internal/vocab"
)

// Event statuses in the journal: vocab's (vocab.EventStatuses), re-exported
// for the store's own use.
const (
	EventPending   = vocab.EventPending
	EventOrphan    = vocab.EventOrphan
	EventApplied   = vocab.EventApplied
	EventDuplicate = vocab.EventDuplicate
	EventConflict  = vocab.EventConflict
	EventDead      = vocab.EventDead
)

// IncomingEvent is a verified webhook delivery about to be journaled.
type IncomingEvent struct {
	DedupeKey  string // identity of the event (stored as bytes); a recent repeat is not stored again
	DeliveryID string
	Type       string
	DocumentID string
	BatchID    string
	Body       []byte // raw verified bytes
	Dead       bool   // unparseable or unknown type: stored as dead
	Note       string
}

// JournalEvent stores a verified delivery durably. It reports false when it
// repeats a recent event (see JournalEvents), in which case nothing changes.
func (s *Store) JournalEvent(ctx context.Context, e IncomingEvent) (bool, error) {
	inserted, err := s.JournalEvents(ctx, []IncomingEvent{e})
	if err != nil {
		return false, err
	}
	return inserted[0], nil
}

// JournalEvents stores several verified deliveries in one transaction —
// one fsync for all of them (group commit) — and reports for each whether
// it was new. A repeat of a dedupe key within evs, or of one of the last
// recentWindow events journaled, is not stored again. An older repeat is
// stored and found a duplicate when applied; see recentKeys.
//
// It is the webhook receiver's hot path, so it runs on the driver
// directly (rawTx) with one prepared statement executed per delivery, and
// the events table has no index on the key: every row it adds lands at
// the end of the table and of its indexes. Options.OnJournaled is told
// after the commit, with no lock held.
func (s *Store) JournalEvents(ctx context.Context, evs []IncomingEvent) ([]bool, error) {
	inserted, n, err := s.journalEvents(ctx, evs)
	if err != nil {
		return nil, err
	}
	s.announcePending(n)
	return inserted, nil
}

// journalEvents is JournalEvents under journalMu, without the
// announcement; it also returns how many events it stored.
func (s *Store) journalEvents(ctx context.Context, evs []IncomingEvent) ([]bool, int, error) {
	s.journalMu.Lock()
	defer s.journalMu.Unlock()
	if s.recent == nil {
		// Loaded on first use, not at Open: commands that only read the
		// store would pay for it (~150 ms for a full window) for nothing.
		if err := s.loadRecentKeys(ctx, s.opts.recentWindow()); err != nil {
			return nil, 0, fmt.Errorf("journal: load recent keys: %w", err)
		}
	}
	inserted := make([]bool, len(evs))
	err := s.rawTx(ctx, func(c rawConn) error {
		st, err := c.PrepareContext(ctx, journalInsert)
		if err != nil {
			return err
		}
		defer st.Close()
		insert, ok := st.(driver.StmtExecContext)
		if !ok {
			return fmt.Errorf("sqlite driver statement %T cannot execute with a context", st)
		}
		now := s.now()
		args := make([]driver.NamedValue, 9)
		group := make(map[string]bool, len(evs))
		for i, e := range evs {
			if group[e.DedupeKey] || s.recent.contains(e.DedupeKey) {
				continue
			}
			group[e.DedupeKey] = true
			status := EventPending
			if e.Dead {
				status = EventDead
			}
			for k, v := range [...]driver.Value{[]byte(e.DedupeKey), nullValue(e.DeliveryID), e.Type, nullValue(e.DocumentID),
				nullValue(e.BatchID), now, e.Body, status, nullValue(e.Note)} {
				args[k] = driver.NamedValue{Ordinal: k + 1, Value: v}
			}
			if _, err := insert.ExecContext(ctx, args); err != nil {
				return err
			}
			inserted[i] = true
		}
		return nil
	})
	if err != nil {
		return nil, 0, fmt.Errorf("journal %d event(s): %w", len(evs), err)
	}
	n := 0
	for i, e := range evs {
		if inserted[i] {
			s.recent.add(e.DedupeKey)
			n++
		}
	}
	return inserted, n, nil
}

// nullValue is nullString for the driver level: NULL for "".
func nullValue(v string) driver.Value {
	if v == "" {
		return nil
	}
	return v
}

// journalInsert stores one delivery.
const journalInsert = `INSERT INTO events (dedupe_key, delivery_id, event_type, document_id, batch_id, received_at, body, status, note)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`

// Result is a terminal outcome for a document, from a webhook or a poll.
type Result struct {
	DocumentID   string
	Status       string // docuparse.StatusCompleted or docuparse.StatusFailed
	Data         json.RawMessage
	ErrorCode    string
	ErrorMessage string
	Via          string // ViaWebhook or ViaPoll
	APITimestamp string
}

// Apply outcomes.
const (
	Applied   = EventApplied
	Duplicate = EventDuplicate
	Conflict  = EventConflict
)

// ApplyResult records a terminal outcome for a document in one transaction.
// The first terminal outcome wins: a repeat of it reports Duplicate, a
// contradicting one Conflict, and neither changes anything. It returns
// ErrNotFound when no submitted document has that API id.
func (s *Store) ApplyResult(ctx context.Context, r Result) (string, error) {
	var outcome string
	var tr *Transition
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var err error
		var batchID int64
		if outcome, tr, batchID, err = s.applyResultTx(ctx, tx, r); err != nil || batchID == 0 {
			return err
		}
		return s.checkBatchTx(ctx, tx, batchID)
	})
	if err != nil {
		return "", fmt.Errorf("apply result for %s: %w", r.DocumentID, err)
	}
	if tr != nil {
		s.notify([]Transition{*tr})
	}
	return outcome, nil
}

// applyResultTx records r's outcome (see ApplyResult) and returns, besides
// the outcome and the transition, the batch of the document that took it
// (0 for none), for the caller to check against its summary
// (checkBatchTx): an applier group checks each batch once.
func (s *Store) applyResultTx(ctx context.Context, tx *sql.Tx, r Result) (string, *Transition, int64, error) {
	var (
		id           int64
		path, source string
		state        State
		outcome      sql.NullString
		batchID      sql.NullInt64
		was          recordedOutcome
	)
	err := s.queryRowTx(ctx, tx, qResultDoc, r.DocumentID).
		Scan(&id, &path, &source, &state, &outcome, &batchID, &was.via, &was.data, &was.code, &was.message, &was.pruned)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil, 0, ErrNotFound
	}
	if err != nil {
		return "", nil, 0, err
	}
	to := StateCompleted
	if r.Status == docuparse.StatusFailed {
		to = StateFailed
	} else if r.Status != docuparse.StatusCompleted {
		return "", nil, 0, fmt.Errorf("status %q is not terminal", r.Status)
	}
	if state != StateSubmitted {
		if State(outcome.String) == to && was.means(to, r) {
			return Duplicate, nil, 0, nil
		}
		return Conflict, nil, 0, nil
	}
	now := s.now()
	var data sql.NullString
	if len(r.Data) > 0 && string(r.Data) != "null" {
		data = nullString(string(r.Data))
	}
	_, err = s.execTx(ctx, tx, qApplyResult,
		to, to, now, r.Via, nullString(r.APITimestamp), nullString(r.ErrorCode), nullString(r.ErrorMessage), now, id)
	if err != nil {
		return "", nil, 0, err
	}
	if data.Valid {
		// The result lives in a table of its own, so that pruning it
		// ([state] retention) frees whole pages for new rows.
		if _, err := s.execTx(ctx, tx, qSaveResult, id, data); err != nil {
			return "", nil, 0, err
		}
	}
	return Applied, &Transition{DocID: id, Source: source, Path: path, From: StateSubmitted, To: to, DocumentID: r.DocumentID, Reason: r.ErrorCode},
		batchID.Int64, nil
}

// PendingEvent is a journaled event waiting to be applied: its id and the
// raw verified body, for the receiver to read.
type PendingEvent struct {
	ID   int64
	Body []byte
}

// PendingEvents returns up to limit events waiting to be applied, oldest
// first.
func (s *Store) PendingEvents(ctx context.Context, limit int) ([]PendingEvent, error) {
	rows, err := s.readQuery(ctx, qPendingEvents, limit)
	if err != nil {
		return nil, fmt.Errorf("pending events: %w", err)
	}
	defer rows.Close()
	var out []PendingEvent
	for rows.Next() {
		var e PendingEvent
		if err := rows.Scan(&e.ID, &e.Body); err != nil {
			return nil, fmt.Errorf("pending events: %w", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("pending events: %w", err)
	}
	return out, nil
}

// EventAction is what applying one journaled event means, as the receiver
// read its body. Exactly one of Dead, Result and Summary is set.
type EventAction struct {
	EventID int64
	Dead    string        // why the event cannot be applied: kept dead with this note
	Result  *Result       // a document's terminal outcome
	Summary *BatchSummary // a batch's summary
}

// BatchSummary is what a batch.completed event says about a batch.
type BatchSummary struct {
	APIBatchID string // the API's batch id
	Summary    string // the summary, as JSON
}

// ApplyEvents applies actions in order in one transaction and reports how
// many events it applied. Each event's outcome (applied, duplicate,
// conflict, orphan, dead) is recorded on it in the same transaction as the
// state change it causes. An event no longer pending (another applier
// took it) is skipped, so an event is never applied twice. Events apply in
// arrival order: when an event older than every one in actions is pending
// (an orphan queued again by RecordSubmission after the caller read its
// group), nothing is applied and 0 is returned, for the caller to read the
// pending events again, oldest first.
func (s *Store) ApplyEvents(ctx context.Context, actions []EventAction) (int, error) {
	if len(actions) == 0 {
		return 0, nil
	}
	var trs []Transition
	var statuses []string
	err := s.tx(ctx, func(tx *sql.Tx) error {
		trs, statuses = trs[:0], statuses[:0]
		if older, err := s.olderPendingTx(ctx, tx, actions); err != nil || older {
			return err
		}
		var err error
		trs, statuses, err = s.applyGroupTx(ctx, tx, actions)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("apply events: %w", err)
	}
	s.notify(trs)
	s.notifyEvents(statuses)
	return len(statuses), nil
}

// olderPendingTx reports whether an event older than every one in actions
// is pending: one queued again since the actions' group was read.
func (s *Store) olderPendingTx(ctx context.Context, tx *sql.Tx, actions []EventAction) (bool, error) {
	first := actions[0].EventID
	for _, a := range actions[1:] {
		first = min(first, a.EventID)
	}
	var oldest sql.NullInt64
	if err := s.queryRowTx(ctx, tx, qOldestPendingEvent).Scan(&oldest); err != nil {
		return false, err
	}
	return oldest.Valid && oldest.Int64 < first, nil
}

// notifyEvents reports, after commit, the status each applied event took.
func (s *Store) notifyEvents(statuses []string) {
	if s.opts.OnEvent == nil {
		return
	}
	for _, st := range statuses {
		s.opts.OnEvent(st)
	}
}

// applyEventTx applies the action of one event claimed by claimEventsTx.
// It returns the status the event takes (recorded by eventsDoneTx), and
// adds to checks the batch to check against its summary afterwards.
func (s *Store) applyEventTx(ctx context.Context, tx *sql.Tx, a EventAction, checks map[int64]bool) (*Transition, string, error) {
	var (
		tr     *Transition
		status = EventDead
		err    error
	)
	switch {
	case a.Dead != "":
	case a.Result != nil:
		var batchID int64
		status, tr, batchID, err = s.applyResultTx(ctx, tx, *a.Result)
		if batchID != 0 {
			checks[batchID] = true
		}
		if errors.Is(err, ErrNotFound) {
			status, err = EventOrphan, nil
		}
	case a.Summary != nil:
		status, err = s.applySummaryTx(ctx, tx, *a.Summary)
	default:
		return nil, "", errors.New("no action given")
	}
	if err != nil {
		return nil, "", err
	}
	return tr, status, nil
}

// applySummaryTx records a batch's summary, the first one only, and checks
// the batch against it once its documents are done. It returns the
// event's status: orphan for a batch not recorded yet.
func (s *Store) applySummaryTx(ctx context.Context, tx *sql.Tx, b BatchSummary) (string, error) {
	r, err := tx.ExecContext(ctx, `UPDATE batches SET summary = ?, summary_at = ? WHERE api_batch_id = ? AND summary IS NULL`,
		b.Summary, s.now(), b.APIBatchID)
	if err != nil {
		return "", err
	}
	if n, _ := r.RowsAffected(); n == 1 {
		var batchID int64
		if err := tx.QueryRowContext(ctx, `SELECT id FROM batches WHERE api_batch_id = ?`, b.APIBatchID).Scan(&batchID); err != nil {
			return "", err
		}
		return EventApplied, s.checkBatchTx(ctx, tx, batchID)
	}
	var known int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM batches WHERE api_batch_id = ?`, b.APIBatchID).Scan(&known); err != nil {
		return "", err
	}
	if known == 0 {
		return EventOrphan, nil
	}
	return EventDuplicate, nil
}

// requeueOrphansTx puts back in the queue, inside a submission's
// transaction, the events that arrived before the submission was recorded
// and were kept as orphans: the applier applies them next, as it does
// every pending event. Nothing else in the store reads their bodies.
func (s *Store) requeueOrphansTx(ctx context.Context, tx *sql.Tx, documentIDs []string, apiBatchID string) (int, error) {
	args := make([]any, 0, len(documentIDs)+1)
	for _, id := range documentIDs {
		args = append(args, id)
	}
	where := `document_id IN (` + placeholders(len(documentIDs)) + `)`
	if len(documentIDs) == 0 {
		where = `1 = 0`
	}
	if apiBatchID != "" {
		where += ` OR batch_id = ?`
		args = append(args, apiBatchID)
	}
	r, err := tx.ExecContext(ctx, `UPDATE events SET status = 'pending' WHERE status = 'orphan' AND (`+where+`)`, args...)
	if err != nil {
		return 0, err
	}
	n, err := r.RowsAffected()
	return int(n), err
}

// announcePending tells Options.OnJournaled, after a commit, that n events
// became pending.
func (s *Store) announcePending(n int) {
	if n > 0 && s.opts.OnJournaled != nil {
		s.opts.OnJournaled(n)
	}
}

// EventCounts returns journaled events by status.
func (s *Store) EventCounts(ctx context.Context) (map[string]int, error) {
	out, err := s.countBy(ctx, `SELECT status, COUNT(*) FROM events GROUP BY status`)
	if err != nil {
		return nil, fmt.Errorf("event counts: %w", err)
	}
	return out, nil
}

// LastEventAt returns when the newest webhook event was journaled.
func (s *Store) LastEventAt(ctx context.Context) (time.Time, error) {
	var v sql.NullString
	if err := s.r.QueryRowContext(ctx, `SELECT MAX(received_at) FROM events`).Scan(&v); err != nil {
		return time.Time{}, fmt.Errorf("last event: %w", err)
	}
	return parseTime(v), nil
}

// EventRecord is one journaled webhook delivery.
type EventRecord struct {
	ID         int64
	DeliveryID string
	Type       string
	DocumentID string
	BatchID    string
	ReceivedAt time.Time
	Status     string
	Note       string
	Body       []byte
}

// Events returns the newest limit journaled events with the given status
// (all when empty), oldest first.
func (s *Store) Events(ctx context.Context, status string, limit int) ([]EventRecord, error) {
	q, args := `SELECT id, delivery_id, event_type, document_id, batch_id, received_at, status, note, body FROM events`, []any{}
	if status != "" {
		q, args = q+` WHERE status = ?`, append(args, status)
	}
	// The newest limit events, listed oldest first.
	q = `SELECT * FROM (` + q + ` ORDER BY id DESC LIMIT ?) ORDER BY id`
	rows, err := s.r.QueryContext(ctx, q, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	defer rows.Close()
	var out []EventRecord
	for rows.Next() {
		var e EventRecord
		var delivery, doc, batch, note sql.NullString
		var received string
		if err := rows.Scan(&e.ID, &delivery, &e.Type, &doc, &batch, &received, &e.Status, &note, &e.Body); err != nil {
			return nil, fmt.Errorf("list events: %w", err)
		}
		e.DeliveryID, e.DocumentID, e.BatchID, e.Note = delivery.String, doc.String, batch.String, note.String
		e.ReceivedAt = parseTime(nullString(received))
		out = append(out, e)
	}
	return out, rows.Err()
}

// EventStatuses returns the status of each of the events ids that exists.
func (s *Store) EventStatuses(ctx context.Context, ids []int64) (map[int64]string, error) {
	out := make(map[int64]string, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := s.r.QueryContext(ctx, `SELECT id, status FROM events WHERE id IN (`+placeholders(len(ids))+`)`, int64Args(ids)...)
	if err != nil {
		return nil, fmt.Errorf("event statuses: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var status string
		if err := rows.Scan(&id, &status); err != nil {
			return nil, fmt.Errorf("event statuses: %w", err)
		}
		out[id] = status
	}
	return out, rows.Err()
}

// ReplayEvents puts dead, orphan or conflicting events back in the queue
// to be applied again (after an upgrade that understands them, say).
// Applying stays idempotent: a replayed event can never change a terminal
// outcome. Events already applied are left alone. It returns how many
// events were queued.
func (s *Store) ReplayEvents(ctx context.Context, ids []int64) (int, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	var n int64
	err := s.tx(ctx, func(tx *sql.Tx) error {
		r, err := tx.ExecContext(ctx, `UPDATE events SET status = 'pending', note = 'replayed by operator'
			WHERE id IN (`+placeholders(len(ids))+`) AND status IN ('dead', 'orphan', 'conflict')`, int64Args(ids)...)
		if err != nil {
			return err
		}
		n, err = r.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("replay events: %w", err)
	}
	return int(n), nil
}

// countBy runs a "SELECT key, COUNT(*) … GROUP BY key" query.
func (s *Store) countBy(ctx context.Context, query string) (map[string]int, error) {
	return queryCounts[int](ctx, s.r, query)
}

// queryCounts runs a query whose rows are (key, count) pairs and returns
// them as a map: the one reader of every count the store keeps.
func queryCounts[N int | int64](ctx context.Context, q reportQuerier, query string, args ...any) (map[string]N, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]N{}
	for rows.Next() {
		var k string
		var n N
		if err := rows.Scan(&k, &n); err != nil {
			return nil, err
		}
		out[k] = n
	}
	return out, rows.Err()
}
