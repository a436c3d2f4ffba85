package store

import (
	"context"
	"database/sql"
	"sync"
)

// maxReadStmts bounds the read pool's prepared statements: the queries
// that go through readQuery have a fixed text (a LIMIT is one per caller),
// and one built per call would only be run as text past the bound.
const maxReadStmts = 64

// readStmts holds the statements the daemon's loops run on the read pool
// every pass — the pending events, the export candidates, the queued
// documents, a CSV file's committed length, whether files were taken in —,
// prepared once, by query text. database/sql prepares each again once per
// pool connection that runs it, not once per run: with this SQLite driver
// compiling a statement costs about as much as running it, and these were
// 5 % of the daemon's CPU samples in an end-to-end run.
type readStmts struct {
	mu sync.Mutex
	m  map[string]*sql.Stmt
}

// readStmt returns query's statement on the read pool, preparing it on first
// use, or nil when it cannot be prepared (it is then run as text, which
// reports the error) or the bound is reached.
func (s *Store) readStmt(ctx context.Context, query string) *sql.Stmt {
	rs := &s.reads
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if st := rs.m[query]; st != nil {
		return st
	}
	if len(rs.m) >= maxReadStmts {
		return nil
	}
	st, err := s.r.PrepareContext(ctx, query)
	if err != nil {
		return nil
	}
	if rs.m == nil {
		rs.m = make(map[string]*sql.Stmt)
	}
	rs.m[query] = st
	return st
}

// readQuery runs query on the read pool from its prepared statement.
func (s *Store) readQuery(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := s.readStmt(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return s.r.QueryContext(ctx, query, args...)
}

// readQueryRow is readQuery for a query of one row.
func (s *Store) readQueryRow(ctx context.Context, query string, args ...any) *sql.Row {
	if st := s.readStmt(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return s.r.QueryRowContext(ctx, query, args...)
}

// preparedReads is the read pool through readQuery, for queryDocuments.
type preparedReads struct{ s *Store }

func (p preparedReads) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return p.s.readQuery(ctx, query, args...)
}

// closeReads closes the read pool's prepared statements.
func (s *Store) closeReads() {
	s.reads.mu.Lock()
	defer s.reads.mu.Unlock()
	for _, st := range s.reads.m {
		st.Close()
	}
	s.reads.m = nil
}
