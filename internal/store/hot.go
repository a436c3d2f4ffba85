package store

import (
	"context"
	"database/sql"
	"errors"
)

// The statements the applier runs for every webhook event. SQLite
// compiles a statement each time it is run from its text; compiling these
// five per event was a third of the applier's CPU during a burst of
// webhooks, on the one writer the journal waits for (docs/benchmarks.md,
// "Webhook burst into the running daemon"). They are prepared once on the
// writer connection (Open) and run through hotExec and hotQueryRow.
const (
	sqlClaimEvent   = `UPDATE events SET applied_at = ? WHERE id = ? AND status = ?`
	sqlSettleEvent  = `UPDATE events SET status = ?, applied_at = ?, note = ? WHERE id = ?`
	sqlResultTarget = `SELECT id, path, source, state, outcome, batch_id, result_via, result, error_code, error_message
		FROM documents WHERE document_id = ?`
	sqlSetResult = `UPDATE documents SET state = ?, outcome = ?, completed_at = ?, result_via = ?, result = ?,
		api_timestamp = ?, error_code = ?, error_message = ?, updated_at = ? WHERE id = ?`
	sqlBatchSummary = `SELECT summary, summary_check FROM batches WHERE id = ?`
)

// hotStatements lists the statements prepared once.
var hotStatements = []string{sqlClaimEvent, sqlSettleEvent, sqlResultTarget, sqlSetResult, sqlBatchSummary}

// prepareHot prepares hotStatements on the writer. It runs in Open,
// before any transaction: the writer's one connection is free then. A
// statement the schema cannot compile (a test's store migrated only part
// of the way) is left to run from its text, and fails there as before.
func (s *Store) prepareHot(ctx context.Context) {
	s.hot = make(map[string]*sql.Stmt, len(hotStatements))
	for _, q := range hotStatements {
		if st, err := s.w.PrepareContext(ctx, q); err == nil {
			s.hot[q] = st
		}
	}
}

// closeHot closes the prepared statements (again: nothing).
func (s *Store) closeHot() error {
	var errs []error
	for _, st := range s.hot {
		errs = append(errs, st.Close())
	}
	return errors.Join(errs...)
}

// hotStmt returns tx's use of the prepared statement for query: the
// statement compiled on tx's connection once (database/sql prepares it
// again on a new connection), or, for a query not prepared, nil.
func (s *Store) hotStmt(ctx context.Context, tx *sql.Tx, query string) *sql.Stmt {
	if st := s.hot[query]; st != nil {
		return tx.StmtContext(ctx, st)
	}
	return nil
}

// hotExec runs query in tx as tx.ExecContext does, compiled once.
func (s *Store) hotExec(ctx context.Context, tx *sql.Tx, query string, args ...any) (sql.Result, error) {
	if st := s.hotStmt(ctx, tx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return tx.ExecContext(ctx, query, args...)
}

// hotQueryRow runs query in tx as tx.QueryRowContext does, compiled once.
func (s *Store) hotQueryRow(ctx context.Context, tx *sql.Tx, query string, args ...any) *sql.Row {
	if st := s.hotStmt(ctx, tx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return tx.QueryRowContext(ctx, query, args...)
}
