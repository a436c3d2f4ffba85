package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// Meta keys of the pruning ([state] retention), for the report and
// status.
const (
	// MetaPrunedBefore is the cutoff of the latest pass that pruned a
	// document: documents exported before it have no detail any more.
	MetaPrunedBefore = "pruned_before"
	// MetaPrunedTotal counts the documents pruned since the store began.
	MetaPrunedTotal = "pruned_total"
)

// CounterPruned is the daily counter (see AddCounters) of the documents
// whose detail was pruned that day, for the report.
const CounterPruned = "documents_pruned"

// pruneChunk bounds the documents one pruning transaction takes, so a pass
// over a large backlog never holds the one writer for long.
const pruneChunk = 1000

// The queries that find what to prune, each through an index that holds
// little else (TestPruneReadsOnlyWhatItPrunes): documents_unpruned holds
// the exported documents not pruned yet (only exporting sets exported_at),
// by export time; events_received the events by arrival, those before the
// cutoff being the few a pass keeps. The status test is written as an
// expression (status concatenated with an empty string) so that the
// planner does not walk events_status instead, which lists every applied
// event.
const (
	qPrunable = `SELECT id FROM documents
		WHERE pruned_at IS NULL AND exported_at < ? ORDER BY exported_at LIMIT ?`
	qPruneEvents = `DELETE FROM events WHERE id IN
		(SELECT id FROM events WHERE received_at < ? AND status || '' IN (?, ?) LIMIT ?)`
)

// PruneResult says what one Prune did.
type PruneResult struct {
	Documents int // documents whose detail was dropped
	Events    int // journaled webhook events deleted
	Batches   int // batches whose submit answer was dropped
}

// Prune drops the detail of the documents exported before cutoff: each
// one's result JSON, the webhook events received before cutoff that were
// applied (or repeated one), and a batch's raw submit answer once all of
// its documents are pruned. It keeps every column that dedupe (sha256),
// Known (source, path, size, mtime, identity) and the reports' counts
// (state, outcome, times, error code and message, result channel) read.
// day ("2006-01-02", in the report's zone) is the day whose counter
// (CounterPruned) counts the pruned documents.
//
// Each step is one transaction of at most pruneChunk documents that drops
// their detail, marks them pruned (pruned_at) and counts them, together:
// a pass killed at any point leaves a consistent store, and the next pass
// goes on with what is left. A document is pruned once; pruning again
// changes nothing.
func (s *Store) Prune(ctx context.Context, cutoff time.Time, day string) (PruneResult, error) {
	var res PruneResult
	if _, err := time.Parse(counterDayLayout, day); err != nil {
		return res, fmt.Errorf("prune: day %q is not YYYY-MM-DD", day)
	}
	for {
		n, err := s.pruneDocuments(ctx, cutoff, day)
		if err != nil {
			return res, fmt.Errorf("prune: %w", err)
		}
		res.Documents += n
		if n < pruneChunk {
			break
		}
	}
	var err error
	if res.Events, err = s.pruneEvents(ctx, cutoff); err != nil {
		return res, fmt.Errorf("prune: %w", err)
	}
	if res.Batches, err = s.pruneBatches(ctx); err != nil {
		return res, fmt.Errorf("prune: %w", err)
	}
	return res, nil
}

// pruneDocuments prunes, in one transaction, up to pruneChunk of the
// documents exported before cutoff that still hold their detail, oldest
// export first, and returns how many.
func (s *Store) pruneDocuments(ctx context.Context, cutoff time.Time, day string) (int, error) {
	n := 0
	err := s.tx(ctx, func(tx *sql.Tx) error {
		n = 0
		limit := formatTime(cutoff)
		rows, err := tx.QueryContext(ctx, qPrunable, limit, pruneChunk)
		if err != nil {
			return err
		}
		var ids []int64
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			ids = append(ids, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil || len(ids) == 0 {
			return err
		}
		n = len(ids)
		return s.pruneIDsTx(ctx, tx, ids, limit, day)
	})
	return n, err
}

// pruneIDsTx drops the detail of the documents ids inside tx, marks them
// pruned and counts them.
func (s *Store) pruneIDsTx(ctx context.Context, tx *sql.Tx, ids []int64, cutoff, day string) error {
	in := `(` + placeholders(len(ids)) + `)`
	if _, err := tx.ExecContext(ctx, `DELETE FROM results WHERE doc_id IN `+in, int64Args(ids)...); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE documents SET pruned_at = ? WHERE id IN `+in,
		append([]any{s.now()}, int64Args(ids)...)...); err != nil {
		return err
	}
	total, err := metaInt(ctx, tx, MetaPrunedTotal)
	if err != nil {
		return err
	}
	if err := setMetaTx(ctx, tx, MetaPrunedTotal, strconv.FormatInt(total+int64(len(ids)), 10)); err != nil {
		return err
	}
	if err := setMetaTx(ctx, tx, MetaPrunedBefore, cutoff); err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO daily_counters (day, name, count) VALUES (?, ?, ?)
		ON CONFLICT (day, name) DO UPDATE SET count = daily_counters.count + excluded.count`, day, CounterPruned, len(ids))
	return err
}

// pruneEvents deletes the journaled events received before cutoff that
// were applied, or repeated one: what they said is on their documents, and
// a repeat that old is refused at the door (receiver.max_event_age, which
// state.retention is never shorter than) or harmless to the state machine.
// Pending, orphan, conflicting and dead events stay (`webhook list` shows
// them). events_received bounds the read to the events before cutoff, and
// those left there are the few that stay. At most pruneChunk events a
// transaction, as for documents: the first pass over a store that has
// journaled a million events must not hold the one writer — and every
// webhook's 200 behind it — for the whole delete.
func (s *Store) pruneEvents(ctx context.Context, cutoff time.Time) (int, error) {
	total := 0
	for {
		n := 0
		err := s.tx(ctx, func(tx *sql.Tx) error {
			r, err := tx.ExecContext(ctx, qPruneEvents, formatTime(cutoff), EventApplied, EventDuplicate, pruneChunk)
			if err != nil {
				return err
			}
			c, err := r.RowsAffected()
			n = int(c)
			return err
		})
		total += n
		if err != nil || n < pruneChunk {
			return total, err
		}
	}
}

// pruneBatches drops the raw submit answer of every submitted batch whose
// documents are all pruned (it is kept for the record only; nothing reads
// it back), in one transaction.
func (s *Store) pruneBatches(ctx context.Context) (int, error) {
	n := 0
	err := s.tx(ctx, func(tx *sql.Tx) error {
		r, err := tx.ExecContext(ctx, `UPDATE batches SET response = NULL WHERE response IS NOT NULL AND state = ?
			AND EXISTS (SELECT 1 FROM documents d WHERE d.batch_id = batches.id)
			AND NOT EXISTS (SELECT 1 FROM documents d WHERE d.batch_id = batches.id AND d.pruned_at IS NULL)`, BatchSubmitted)
		if err != nil {
			return err
		}
		c, err := r.RowsAffected()
		n = int(c)
		return err
	})
	return n, err
}

// metaInt reads an integer meta value inside tx (0 when never set).
func metaInt(ctx context.Context, tx *sql.Tx, key string) (int64, error) {
	var v string
	err := tx.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = ?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("meta %s: %w", key, err)
	}
	return n, nil
}

// setMetaTx sets a meta value inside tx.
func setMetaTx(ctx context.Context, tx *sql.Tx, key, value string) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES (?, ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value)
	return err
}
