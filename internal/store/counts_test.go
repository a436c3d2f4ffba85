package store

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/docuparse"
)

// everyRowCounts is what CountOutcomes' totals were before
// exported_counts: every document read and tallied.
func everyRowCounts(t *testing.T, db *sql.DB) map[string]Tally {
	t.Helper()
	rows, err := db.Query(`SELECT source, state, outcome, COUNT(*) FROM documents GROUP BY 1, 2, 3`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]Tally{"": newTally()}
	for rows.Next() {
		var src string
		var state State
		var outcome sql.NullString
		var n int
		if err := rows.Scan(&src, &state, &outcome, &n); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"", src} {
			tl, ok := out[k]
			if !ok {
				tl = newTally()
			}
			tl.add(state, State(outcome.String), n)
			out[k] = tl
		}
	}
	return out
}

// countedTotals is CountOutcomes' totals in the same shape.
func countedTotals(t *testing.T, s *Store) map[string]Tally {
	t.Helper()
	c, err := s.CountOutcomes(context.Background(), time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]Tally{"": c.All.Total}
	for src, d := range c.Sources {
		out[src] = d.Total
	}
	return out
}

// The totals status shows, read from exported_counts and the documents
// not exported, are those of every row, through every kind of
// transition: intake (queued, duplicate), a refusal, a batch submitted
// and its results applied, a vanished file, a retry, exports, and a
// second source.
func TestCountsFollowEveryTransition(t *testing.T) {
	s, _ := setup(t)
	ctx := context.Background()
	var ids []int64
	for i := range 6 {
		ids = append(ids, mustIntake(t, s, newFile(i, fmt.Sprint("sha-", i))).ID)
	}
	dup := mustIntake(t, s, newFile(10, "sha-0")).ID
	other := newFile(11, "sha-11")
	other.Source = "scans"
	mustIntake(t, s, other)
	rej, err := s.Reject(ctx, newFile(12, ""), "UNSUPPORTED_TYPE", "no")
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.CreateBatch(ctx, ModeBatch, ids[:4])
	if err != nil {
		t.Fatal(err)
	}
	var subs []Submitted
	for i, id := range ids[:4] {
		subs = append(subs, Submitted{DocID: id, DocumentID: fmt.Sprint("doc_", i)})
	}
	if err := s.MarkSent(ctx, b.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RecordSubmission(ctx, b.ID, "bat_1", []byte(`{}`), subs); err != nil {
		t.Fatal(err)
	}
	for i, st := range []string{docuparse.StatusCompleted, docuparse.StatusFailed, docuparse.StatusCompleted} {
		if _, err := s.ApplyResult(ctx, Result{DocumentID: fmt.Sprint("doc_", i), Status: st, Data: []byte(`{"a":1}`), Via: ViaWebhook}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Finish(ctx, ids[4:5], StateVanished, "", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Retry(ctx, ids[1], RetryOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkExported(ctx, []int64{ids[0], ids[1], dup, rej}, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkExported(ctx, []int64{ids[0]}, nil); err != nil { // again: counted once
		t.Fatal(err)
	}
	want, got := everyRowCounts(t, s.r), countedTotals(t, s)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("counted %v\nthe documents say %v", got, want)
	}
	st, err := s.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Counts[StateExported] != 4 || st.Outcomes[StateCompleted] != 2 || st.Outcomes[StateFailed] != 1 {
		t.Errorf("status counts %v, outcomes %v: want 4 exported, 2 completed, 1 failed", st.Counts, st.Outcomes)
	}
}

// A store holding exported documents before migration 016 starts its
// counts from them.
func TestMigration016CountsTheExportedDocumentsAlreadyThere(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	ctx := context.Background()
	s, err := open(ctx, path, Options{}, 15)
	if err != nil {
		t.Fatal(err)
	}
	var files []NewFile
	for i := range 5 {
		files = append(files, newFile(i, fmt.Sprint("sha-", i)))
	}
	if _, err := s.IntakeMany(ctx, files); err != nil {
		t.Fatal(err)
	}
	// Exported as the code before the migration did (SeedExported's
	// statement).
	if _, err := s.w.ExecContext(ctx, `UPDATE documents SET state = 'exported', outcome = 'rejected' WHERE id <= 3`); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if want, got := everyRowCounts(t, s.r), countedTotals(t, s); !reflect.DeepEqual(got, want) {
		t.Errorf("counted %v\nthe documents say %v", got, want)
	}
}
