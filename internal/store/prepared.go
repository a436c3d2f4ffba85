package store

import (
	"context"
	"database/sql"
)

// The writer's statements run once per file, event or document in the
// grouped transactions: taking files in, recording a batch's answer,
// applying webhook events and marking an export pass exported. Open prepares them once on the writer's one connection and
// every transaction runs them from there (see execTx): with this SQLite
// driver, preparing a one-row statement costs about as much as running it,
// and sqlite3_prepare_v2 was 17 % of the daemon's CPU samples in an
// end-to-end run.
const (
	// A group's events, claimed and then given their status with one
	// statement each for the whole group (the ids, and the id, status and
	// note of each, as JSON arrays: json_each).
	qClaimEvents = `UPDATE events SET applied_at = ? WHERE id IN (SELECT value FROM json_each(?)) AND status = '` + EventPending + `'
		RETURNING id`
	qEventsDone = `UPDATE events SET status = j.value ->> 1, applied_at = ?, note = j.value ->> 2
		FROM json_each(?) j WHERE events.id = j.value ->> 0`
	qResultDoc = `SELECT id, path, source, state, outcome, batch_id, result_via,
		(SELECT res.data FROM results res WHERE res.doc_id = documents.id), error_code, error_message, pruned_at
		FROM documents WHERE document_id = ?`
	qApplyResult = `UPDATE documents SET state = ?, outcome = ?, completed_at = ?, result_via = ?,
		api_timestamp = ?, error_code = ?, error_message = ?, updated_at = ? WHERE id = ?`
	// The result lives in a table of its own, so that pruning it ([state]
	// retention) frees whole pages for new rows.
	qSaveResult = `INSERT INTO results (doc_id, data) VALUES (?, ?)
		ON CONFLICT (doc_id) DO UPDATE SET data = excluded.data`
	qBatchSummary = `SELECT summary, summary_check FROM batches WHERE id = ?`
	// An export pass's statements, each run once for the pass: its
	// documents as they were, and then marked exported (the ids as a JSON
	// array), its CSV files' committed lengths and the exported counts.
	qExportedBefore = `SELECT id, source, path, state, outcome, document_id FROM documents
		WHERE id IN (SELECT value FROM json_each(?)) AND state IN ('completed', 'failed', 'rejected', 'duplicate') ORDER BY id`
	qMarkExported = `UPDATE documents SET state = 'exported', exported_at = ?, updated_at = ?,
		export_error = NULL, next_export_at = NULL
		WHERE id IN (SELECT value FROM json_each(?)) AND state IN ('completed', 'failed', 'rejected', 'duplicate')`
	qCommitCSV = `INSERT INTO csv_files (name, committed_size, tail_sha256) VALUES (?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET committed_size = excluded.committed_size, tail_sha256 = excluded.tail_sha256`
	qCountExported = `INSERT INTO exported_counts (source, outcome, count) VALUES (?, ?, ?)
		ON CONFLICT (source, outcome) DO UPDATE SET count = exported_counts.count + excluded.count`
)

// Intake's statements, run once or twice per file taken in.
const (
	qLatestAtPath = `SELECT id, sha256 FROM documents WHERE source = ? AND path = ? AND state <> 'vanished'
		ORDER BY id DESC LIMIT 1`
	qDuplicateOf = `SELECT id FROM documents
		WHERE sha256 = ? AND (outcome IS NULL OR outcome IN ('completed', 'failed'))
		ORDER BY id LIMIT 1`
	qRefreshStat    = `UPDATE documents SET size_bytes = ?, mtime = ?, dev = ?, inode = ?, ctime = ?, version = ?, updated_at = ? WHERE id = ?`
	qInsertDocument = `INSERT INTO documents
		(source, path, file_name, size_bytes, mtime, sha256, state, outcome, client_reference,
		 duplicate_of, discovered_at, completed_at, error_code, error_message, updated_at, dev, inode, ctime, version)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	qSetReference = `UPDATE documents SET client_reference = ? WHERE id = ?`
)

// The applier's queries of pending events, once per group: the group, and
// the check that no older event is pending. The status is written in the
// text, not bound: the events table has partial indexes on a status
// (events_orphan_*), and SQLite compiles a statement again at every run
// whose bound value decides whether such an index applies.
const (
	qPendingEvents      = `SELECT id, body FROM events WHERE status = '` + EventPending + `' ORDER BY id LIMIT ?`
	qOldestPendingEvent = `SELECT MIN(id) FROM events WHERE status = '` + EventPending + `'`
)

// A submit answer's marking one document at a time (see markAnsweredTx).
const (
	qMarkSubmitted = `UPDATE documents SET state = 'submitted', outcome = NULL, document_id = ?,
		submitted_at = ?, updated_at = ? WHERE id = ?`
)

// hotQueries lists the statements Open prepares.
var hotQueries = []string{qClaimEvents, qEventsDone, qResultDoc, qApplyResult, qSaveResult, qBatchSummary, qMarkExported, qExportedBefore, qCommitCSV, qCountExported,
	qLatestAtPath, qDuplicateOf, qRefreshStat, qInsertDocument, qSetReference,
	qAnswerMembers, qAnswerHolders, qMarkAnswered, qMarkSubmitted, qOldestPendingEvent}

// prepareHot prepares hotQueries on the writer. A statement that does not
// prepare (a store opened at an older schema, in a migration test) is run
// as text instead.
func (s *Store) prepareHot(ctx context.Context) {
	s.prepared = make(map[string]*sql.Stmt, len(hotQueries))
	for _, q := range hotQueries {
		if st, err := s.w.PrepareContext(ctx, q); err == nil {
			s.prepared[q] = st
		}
	}
}

// closePrepared closes the statements prepareHot prepared (closing one
// twice is harmless).
func (s *Store) closePrepared() {
	for _, st := range s.prepared {
		st.Close()
	}
}

// execTx runs query in tx, from its prepared statement when Open prepared
// one: the writer has one connection, so database/sql reuses the
// statement prepared there without preparing it again.
func (s *Store) execTx(ctx context.Context, tx *sql.Tx, query string, args ...any) (sql.Result, error) {
	if st := s.prepared[query]; st != nil {
		return tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return tx.ExecContext(ctx, query, args...)
}

// queryRowTx is execTx for a query of one row.
func (s *Store) queryRowTx(ctx context.Context, tx *sql.Tx, query string, args ...any) *sql.Row {
	if st := s.prepared[query]; st != nil {
		return tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
	}
	return tx.QueryRowContext(ctx, query, args...)
}

// queryTx is execTx for a query of rows.
func (s *Store) queryTx(ctx context.Context, tx *sql.Tx, query string, args ...any) (*sql.Rows, error) {
	if st := s.prepared[query]; st != nil {
		return tx.StmtContext(ctx, st).QueryContext(ctx, args...)
	}
	return tx.QueryContext(ctx, query, args...)
}

// eachRowTx runs query in tx (prepared, see queryTx) and calls scan for
// each row.
func (s *Store) eachRowTx(ctx context.Context, tx *sql.Tx, scan func(rowScanner) error, query string, args ...any) error {
	rows, err := s.queryTx(ctx, tx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}
