package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"
)

// ExportCandidates returns up to limit documents with a terminal outcome
// not yet written to the outputs, oldest first. A duplicate waits until its
// original has an API id (or was refused), so its row can name it; an
// original that vanished hands its place to a duplicate (see Finish). A
// document held by HoldExport waits until its next try is due.
func (s *Store) ExportCandidates(ctx context.Context, limit int) ([]Document, error) {
	rows, err := s.readQuery(ctx, `SELECT `+docColumns+`, o.document_id, o.path, o.outcome,
		ro.client_reference, ro.document_id`+docFrom+`
		LEFT JOIN documents o ON o.id = d.duplicate_of
		LEFT JOIN documents ro ON ro.id = d.retry_of
		WHERE d.state IN ('completed', 'failed', 'rejected', 'duplicate')
		  AND (d.state <> 'duplicate' OR o.document_id IS NOT NULL OR o.outcome = 'rejected')
		  AND (d.next_export_at IS NULL OR d.next_export_at <= ?)
		ORDER BY d.id LIMIT ?`, s.now(), limit)
	if err != nil {
		return nil, fmt.Errorf("export candidates: %w", err)
	}
	defer rows.Close()
	var out []Document
	for rows.Next() {
		var origID, origPath, origOutcome, retryRef, retryDocID sql.NullString
		d, err := scanDocument(rows, &origID, &origPath, &origOutcome, &retryRef, &retryDocID)
		if err != nil {
			return nil, fmt.Errorf("export candidates: %w", err)
		}
		d.OriginalDocumentID, d.OriginalPath = origID.String, origPath.String
		d.OriginalOutcome = State(origOutcome.String)
		d.RetryOfReference, d.RetryOfDocumentID = retryRef.String, retryDocID.String
		out = append(out, *d)
	}
	return out, rows.Err()
}

// CSVFile is what the store knows of one output CSV file.
type CSVFile struct {
	// Size is the committed length: the file's bytes known to be complete.
	// Bytes past it are a crash's leftover and are cut off before the next
	// append, if they are the daemon's own rows.
	Size int64
	// TailSHA256 is the hex SHA-256 of the last 4096 bytes before Size; ""
	// when unknown (written before migration 010, or not written yet).
	TailSHA256 string
}

// CSVCommitted returns the committed length of the named output file (0
// for a file never written).
func (s *Store) CSVCommitted(ctx context.Context, name string) (int64, error) {
	f, _, err := s.CSVState(ctx, name)
	return f.Size, err
}

// CSVState returns what the store recorded of the named output file (a
// path relative to output_dir), and whether it recorded anything: a file
// with no record is not the daemon's, and is never cut or appended to.
func (s *Store) CSVState(ctx context.Context, name string) (CSVFile, bool, error) {
	var f CSVFile
	err := s.readQueryRow(ctx, `SELECT committed_size, tail_sha256 FROM csv_files WHERE name = ?`, name).Scan(&f.Size, &f.TailSHA256)
	if errors.Is(err, sql.ErrNoRows) {
		return CSVFile{}, false, nil
	}
	if err != nil {
		return CSVFile{}, false, fmt.Errorf("committed size of %s: %w", name, err)
	}
	return f, true, nil
}

// BeginCSV records, before a new output file's first append, that the
// daemon is starting it (committed length 0). A crash during that append
// then leaves a file the store knows, whose leftover is cut; without the
// record the file could not be told from one the store never knew (a lost
// state database). A file already recorded keeps its record.
func (s *Store) BeginCSV(ctx context.Context, name string) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO csv_files (name, committed_size) VALUES (?, 0) ON CONFLICT (name) DO NOTHING`, name)
		return err
	})
	if err != nil {
		return fmt.Errorf("begin %s: %w", name, err)
	}
	return nil
}

// MarkExported records, in one transaction, that the documents ids were
// written out and that the named CSV files now end as given.
func (s *Store) MarkExported(ctx context.Context, ids []int64, sizes map[string]CSVFile) error {
	if len(ids) == 0 && len(sizes) == 0 {
		return nil
	}
	var trs []Transition
	err := s.tx(ctx, func(tx *sql.Tx) error {
		trs = trs[:0]
		names := make([]string, 0, len(sizes))
		for n := range sizes {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			if _, err := s.execTx(ctx, tx, qCommitCSV, n, sizes[n].Size, sizes[n].TailSHA256); err != nil {
				return err
			}
		}
		if len(ids) == 0 {
			return nil
		}
		docs, err := s.markExportedTx(ctx, tx, ids)
		if err != nil {
			return err
		}
		for _, d := range docs {
			trs = append(trs, Transition{DocID: d.ID, Source: d.Source, Path: d.Path, From: d.State, To: StateExported, DocumentID: d.DocumentID})
		}
		return s.countExportedTx(ctx, tx, docs)
	})
	if err != nil {
		return fmt.Errorf("mark exported: %w", err)
	}
	s.notify(trs)
	return nil
}

// markExportedTx marks the documents of ids that have a terminal outcome
// exported, with one statement for the whole pass, and returns them as they
// were (id, source, path, state, outcome and API id only).
func (s *Store) markExportedTx(ctx context.Context, tx *sql.Tx, ids []int64) ([]Document, error) {
	list, err := json.Marshal(ids)
	if err != nil {
		return nil, err
	}
	var docs []Document
	err = s.eachRowTx(ctx, tx, func(sc rowScanner) error {
		var d Document
		var outcome, docID sql.NullString
		if err := sc.Scan(&d.ID, &d.Source, &d.Path, &d.State, &outcome, &docID); err != nil {
			return err
		}
		d.Outcome, d.DocumentID = State(outcome.String), docID.String
		docs = append(docs, d)
		return nil
	}, qExportedBefore, string(list))
	if err != nil {
		return nil, err
	}
	now := s.now()
	_, err = s.execTx(ctx, tx, qMarkExported, now, now, string(list))
	return docs, err
}

// ExportHold is a document the exporter could not write, and why.
type ExportHold struct {
	ID     int64
	Reason string
}

// HoldExport records, in one transaction, that the exporter could not
// write the given documents: each keeps its state, carries the reason
// (shown by status, the report and /metrics) and is offered again by
// ExportCandidates only after a wait of first, doubling with each failed
// try up to most. It returns the holds that are new — the document was not
// held before — so that the caller logs each held document once, not on
// every try.
func (s *Store) HoldExport(ctx context.Context, holds []ExportHold, first, most time.Duration) ([]ExportHold, error) {
	if first <= 0 || most < first {
		return nil, fmt.Errorf("hold export: bad backoff %s..%s", first, most)
	}
	var fresh []ExportHold
	err := s.tx(ctx, func(tx *sql.Tx) error {
		fresh = fresh[:0]
		now := s.opts.Now()
		for _, h := range holds {
			var prev sql.NullString
			var attempts int
			err := tx.QueryRowContext(ctx, `SELECT export_error, export_attempts FROM documents
				WHERE id = ? AND state IN ('completed', 'failed', 'rejected', 'duplicate')`, h.ID).Scan(&prev, &attempts)
			if errors.Is(err, sql.ErrNoRows) {
				continue // exported or retried meanwhile
			}
			if err != nil {
				return err
			}
			wait := first
			for i := 0; i < attempts && wait < most; i++ {
				wait *= 2
			}
			wait = min(wait, most)
			if _, err := tx.ExecContext(ctx, `UPDATE documents SET export_error = ?, export_attempts = export_attempts + 1,
				next_export_at = ? WHERE id = ?`, h.Reason, formatTime(now.Add(wait)), h.ID); err != nil {
				return err
			}
			if !prev.Valid {
				fresh = append(fresh, h)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("hold export: %w", err)
	}
	return fresh, nil
}

// ExportHeld returns up to limit documents the exporter holds, oldest
// first (0 = no limit).
func (s *Store) ExportHeld(ctx context.Context, limit int) ([]Document, error) {
	return s.oldestWhere(ctx, "held documents", `d.export_error IS NOT NULL`, limit)
}

// oldestWhere returns up to limit documents matching cond (SQL over
// documents d), oldest first (0 = no limit); what names them in errors.
func (s *Store) oldestWhere(ctx context.Context, what, cond string, limit int) ([]Document, error) {
	where := `WHERE ` + cond + ` ORDER BY d.id`
	if limit > 0 {
		where += fmt.Sprintf(` LIMIT %d`, limit)
	}
	docs, err := queryDocuments(ctx, preparedReads{s}, where)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return docs, nil
}

// Status summarises the store for the status command and health checks.
type Status struct {
	Counts        map[State]int
	Outcomes      map[State]int // documents by how they ended, exported since or not (see CountOutcomes)
	Events        map[string]int
	OldestPending time.Time // discovered_at of the oldest document not yet terminal
	LastEvent     time.Time
	ExportHeld    int // documents the exporter holds (see HoldExport)
	SubmitStuck   int // documents stuck at submission (vocab.CodeSubmitStuck)
}

// Status returns counts by state and by outcome, the oldest pending
// document and the last webhook event.
func (s *Store) Status(ctx context.Context) (*Status, error) {
	st := &Status{Counts: map[State]int{}}
	counts, err := s.CountOutcomes(ctx, time.Time{}, time.Time{})
	if err != nil {
		return nil, fmt.Errorf("status: %w", err)
	}
	st.Counts, st.Outcomes = counts.byState, counts.byOutcome
	var oldest sql.NullString
	if err := s.r.QueryRowContext(ctx, qOldestPending).Scan(&oldest); err != nil {
		return nil, fmt.Errorf("status: %w", err)
	}
	st.OldestPending = parseTime(oldest)
	if err := s.r.QueryRowContext(ctx, qExportHeldCount).Scan(&st.ExportHeld); err != nil {
		return nil, fmt.Errorf("status: %w", err)
	}
	if err := s.r.QueryRowContext(ctx, qSubmitStuck).Scan(&st.SubmitStuck); err != nil {
		return nil, fmt.Errorf("status: %w", err)
	}
	if st.Events, err = s.EventCounts(ctx); err != nil {
		return nil, err
	}
	if st.LastEvent, err = s.LastEventAt(ctx); err != nil {
		return nil, err
	}
	return st, nil
}
