package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/vocab"
)

// notExported lists every state but exported, quoted for SQL: the states
// whose documents the counts read from the documents table.
var notExported = func() string {
	var q []string
	for _, st := range vocab.States {
		if st != vocab.StateExported {
			q = append(q, "'"+string(st)+"'")
		}
	}
	return strings.Join(q, ", ")
}()

// The queries of Status and CountOutcomes, which `status` and every
// /metrics scrape run. Each reads an index range or a small table, never
// every document (TestStatusQueriesReadNoDocumentScan): the exported
// documents — nearly all of an old store — are counted by exported_counts,
// kept by MarkExported; the others through documents_state; the day's
// through their time's index.
var (
	qExportedCounts  = `SELECT source, 'exported', outcome, count FROM exported_counts WHERE count > 0`
	qNotExported     = `SELECT source, state, outcome, COUNT(*) FROM documents WHERE state IN (` + notExported + `) GROUP BY 1, 2, 3`
	qOldestPending   = `SELECT MIN(discovered_at) FROM documents WHERE state IN ('queued', 'submitting', 'submitted')`
	qExportHeldCount = `SELECT COUNT(*) FROM documents WHERE export_error IS NOT NULL`
	qSubmitStuck     = `SELECT COUNT(*) FROM documents d WHERE ` + stuckAtSubmit
	qInFlightToday   = `SELECT source, state, outcome, COUNT(*) FROM documents
		WHERE discovered_at >= ? AND discovered_at < ? AND state IN ('queued', 'submitting', 'submitted') GROUP BY 1, 2, 3`
	qEndedToday = `SELECT source, state, outcome, COUNT(*) FROM documents
		WHERE completed_at >= ? AND completed_at < ? AND state NOT IN ('queued', 'submitting', 'submitted') GROUP BY 1, 2, 3`
)

// countExportedTx adds docs, just exported inside tx, to exported_counts.
func (s *Store) countExportedTx(ctx context.Context, tx *sql.Tx, docs []Document) error {
	type key struct{ source, outcome string }
	add := map[key]int{}
	for _, d := range docs {
		add[key{d.Source, string(d.Outcome)}]++
	}
	for k, n := range add {
		if _, err := s.execTx(ctx, tx, qCountExported, k.source, k.outcome, n); err != nil {
			return err
		}
	}
	return nil
}

// CountOutcomes counts the documents by how they ended (whether exported
// since or not) and what is still in flight, in all and per source; "today"
// is [dayStart, dayEnd): documents whose outcome was recorded then and, in
// flight, those taken in then. A zero dayEnd counts no day.
func (s *Store) CountOutcomes(ctx context.Context, dayStart, dayEnd time.Time) (*OutcomeCounts, error) {
	out := &OutcomeCounts{All: DayTallies{Total: newTally(), Today: newTally()}, Sources: map[string]*DayTallies{},
		byState: map[State]int{}, byOutcome: map[State]int{}}
	type query struct {
		sql   string
		today bool
		args  []any
	}
	qs := []query{{qExportedCounts, false, nil}, {qNotExported, false, nil}}
	if !dayEnd.IsZero() {
		from, to := formatTime(dayStart), formatTime(dayEnd)
		qs = append(qs, query{qInFlightToday, true, []any{from, to}}, query{qEndedToday, true, []any{from, to}})
	}
	// One read transaction: one snapshot for every query, so documents
	// exported between two of them are counted once, not missed.
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("count outcomes: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	for _, q := range qs {
		if err := tallyRows(ctx, tx, out, q.today, q.sql, q.args...); err != nil {
			return nil, fmt.Errorf("count outcomes: %w", err)
		}
	}
	return out, nil
}

// tallyRows adds the (source, state, outcome, count) rows of query to
// out's totals, or to its day's tallies when today is set.
func tallyRows(ctx context.Context, tx *sql.Tx, out *OutcomeCounts, today bool, query string, args ...any) error {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			src     string
			state   State
			outcome sql.NullString
			count   int
		)
		if err := rows.Scan(&src, &state, &outcome, &count); err != nil {
			return err
		}
		if out.Sources[src] == nil {
			out.Sources[src] = &DayTallies{Total: newTally(), Today: newTally()}
		}
		for _, t := range []*DayTallies{&out.All, out.Sources[src]} {
			if today {
				t.Today.add(state, State(outcome.String), count)
			} else {
				t.Total.add(state, State(outcome.String), count)
			}
		}
		if !today && count > 0 {
			out.byState[state] += count
			if outcome.String != "" {
				out.byOutcome[State(outcome.String)] += count
			}
		}
	}
	return rows.Err()
}
