package store

import (
	"context"
	"strings"
	"testing"
)

// statusQueries are the queries `status` and every /metrics scrape run,
// with arguments for EXPLAIN.
var statusQueries = []struct {
	query string
	args  []any
}{
	{qExportedCounts, nil},
	{qNotExported, nil},
	{qOldestPending, nil},
	{qExportHeldCount, nil},
	{qSubmitStuck, nil},
	{qInFlightToday, []any{"a", "b"}},
	{qEndedToday, []any{"a", "b"}},
}

// partialIndexes hold only the few documents they are about: a scan of
// one reads those documents, not the table.
var partialIndexes = []string{"documents_export_held", "documents_retry_of"}

// Status and CountOutcomes answer from indexes and small tables: no query
// of theirs scans the documents table or a full index of it, so `status`
// costs the same with a million exported documents as with ten (issue 14:
// it took 0.5 s at 50,000 documents and grew with them).
func TestStatusQueriesReadNoDocumentScan(t *testing.T) {
	s, _ := setup(t)
	for _, q := range statusQueries {
		plan := queryPlan(t, s, q.query, q.args...)
		for _, step := range plan {
			if fullDocumentScan(step) {
				t.Errorf("%s\nscans every document: %q (plan %q)", q.query, step, plan)
			}
		}
	}
}

// fullDocumentScan reports whether a plan step reads the whole documents
// table or one of its full indexes.
func fullDocumentScan(step string) bool {
	if !strings.HasPrefix(step, "SCAN documents") && !strings.HasPrefix(step, "SCAN d ") && step != "SCAN d" {
		return false
	}
	for _, ix := range partialIndexes {
		if strings.Contains(step, "INDEX "+ix) {
			return false
		}
	}
	return true
}

// queryPlan returns the steps of SQLite's plan for query (EXPLAIN QUERY
// PLAN), as it words them.
func queryPlan(t *testing.T, s *Store, query string, args ...any) []string {
	t.Helper()
	rows, err := s.r.QueryContext(context.Background(), `EXPLAIN QUERY PLAN `+query, args...)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return plan
}
