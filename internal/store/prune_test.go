package store

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/storefault"
)

// Each pass finds what it prunes through an index: the exported documents
// not pruned yet by export time, the events by arrival; it never reads
// every document or every event.
func TestPruneReadsOnlyWhatItPrunes(t *testing.T) {
	s, _ := setup(t)
	for _, c := range []struct {
		q, want string
		args    []any
	}{
		{qPrunable, "USING INDEX documents_unpruned (exported_at<?)", []any{"a", 1}},
		{qPruneEvents, "USING INDEX events_received (received_at<?)", []any{"a", "b", "c", 1}},
	} {
		q, want := c.q, c.want
		plan := queryPlan(t, s, q, c.args...)
		if !strings.Contains(strings.Join(plan, "\n"), want) || strings.Contains(strings.Join(plan, "\n"), "SCAN") {
			t.Errorf("%s\nplan %q, want %q", q, plan, want)
		}
	}
}

// A pass that stops part way — its transaction failing as a kill -9 would
// leave it, uncommitted — leaves a consistent store: every document marked
// pruned has lost its result, every other one has it, the counts agree
// with the marks; and the next pass prunes the rest, each document
// counted once.
func TestPruneInterruptedLeavesAConsistentStoreAndResumes(t *testing.T) {
	s, b := setup(t)
	ctx := context.Background()
	const n = 1500
	var ids []int64
	for i := range n {
		ids = append(ids, mustIntake(t, s, newFile(i, fmt.Sprint("sha-", i))).ID)
	}
	for _, id := range ids {
		if _, err := s.w.ExecContext(ctx, `INSERT INTO results (doc_id, data) VALUES (?, '{"total":"1.00"}')`, id); err != nil {
			t.Fatal(err)
		}
	}
	// Exported as MarkExported does, all at one time.
	if _, err := s.w.ExecContext(ctx, `UPDATE documents SET state = 'exported', outcome = 'completed', exported_at = '2026-11-01T00:00:00.000000Z'`); err != nil {
		t.Fatal(err)
	}
	fault := storefault.Break(t, b.path, "documents", "UPDATE OF pruned_at", fmt.Sprintf("NEW.id > %d", ids[1200]))
	_, err := s.Prune(ctx, time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), "2026-12-01")
	if err == nil || !strings.Contains(err.Error(), storefault.Message) {
		t.Fatalf("prune with a failing write = %v, want the injected failure", err)
	}
	checkPruned(t, s, 1000)
	fault.Heal()
	if _, err := s.Prune(ctx, time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), "2026-12-01"); err != nil {
		t.Fatal(err)
	}
	checkPruned(t, s, n)
}

// checkPruned fails t unless exactly want documents are marked pruned,
// those and only those lost their result, and the total and the day's
// counter both say want.
func checkPruned(t *testing.T, s *Store, want int) {
	t.Helper()
	var marked, markedWithResult, unmarkedWithout int
	for q, v := range map[string]*int{
		`SELECT COUNT(*) FROM documents WHERE pruned_at IS NOT NULL`:                                                          &marked,
		`SELECT COUNT(*) FROM documents d WHERE pruned_at IS NOT NULL AND EXISTS (SELECT 1 FROM results WHERE doc_id = d.id)`: &markedWithResult,
		`SELECT COUNT(*) FROM documents d WHERE pruned_at IS NULL AND NOT EXISTS (SELECT 1 FROM results WHERE doc_id = d.id)`: &unmarkedWithout,
	} {
		if err := s.r.QueryRow(q).Scan(v); err != nil {
			t.Fatal(err)
		}
	}
	total, _, err := s.Meta(context.Background(), MetaPrunedTotal)
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.Counters(context.Background(), "2026-12-01")
	if err != nil {
		t.Fatal(err)
	}
	if marked != want || markedWithResult != 0 || unmarkedWithout != 0 || total != fmt.Sprint(want) || c[CounterPruned] != int64(want) {
		t.Errorf("pruned %d (want %d), %d of them with a result, %d not pruned without one; total %q, counter %d",
			marked, want, markedWithResult, unmarkedWithout, total, c[CounterPruned])
	}
}

// The journal is pruned a chunk at a time too: a pass failing part way
// through a million old events keeps the chunks it committed, so no one
// transaction holds the writer — and every webhook's 200 behind it — for
// the whole delete; the next pass deletes the rest.
func TestPruneDeletesOldEventsAChunkATime(t *testing.T) {
	s, b := setup(t)
	ctx := context.Background()
	const n = 2*pruneChunk + 100
	if _, err := s.w.ExecContext(ctx, `WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < ?)
		INSERT INTO events (id, dedupe_key, event_type, received_at, body, status)
		SELECT i, randomblob(32), 'document.completed', '2026-11-01T00:00:00.000000Z', '{}', 'applied' FROM k`, n); err != nil {
		t.Fatal(err)
	}
	applied := func() int {
		t.Helper()
		c, err := s.EventCounts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return c[EventApplied]
	}
	cutoff := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	fault := storefault.Break(t, b.path, "events", "DELETE", fmt.Sprintf("OLD.id > %d", pruneChunk+pruneChunk/2))
	if _, err := s.Prune(ctx, cutoff, "2026-12-01"); err == nil || !strings.Contains(err.Error(), storefault.Message) {
		t.Fatalf("prune with a failing delete = %v, want the injected failure", err)
	}
	if got := applied(); got != n-pruneChunk {
		t.Errorf("%d applied events left after a pass failed in its second chunk, want %d (the first chunk deleted)", got, n-pruneChunk)
	}
	fault.Heal()
	res, err := s.Prune(ctx, cutoff, "2026-12-01")
	if err != nil || res.Events != n-pruneChunk || applied() != 0 {
		t.Errorf("second pass = %+v, %v, %d applied left; want the other %d deleted", res, err, applied(), n-pruneChunk)
	}
}
