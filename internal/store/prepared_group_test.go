package store

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// TestLoopQueriesCompileOncePerConnection: the queries the daemon's loops
// run on the read pool every pass (the applier's pending events, the
// exporter's candidates and CSV state, the submitter's queued documents)
// are compiled once per pool connection, not once per pass: compiled each
// time they were 5 % of the daemon's CPU samples in an end-to-end run.
func TestLoopQueriesCompileOncePerConnection(t *testing.T) {
	s, _ := setup(t)
	ctx := context.Background()
	submittedDocs(t, s, 0, 3)
	mustIntake(t, s, newFile(10, "sha10"))
	s.r.SetMaxOpenConns(1) // one connection, whose compilations are counted
	n := compilationsOn(t, s.r)
	pass := func() {
		if evs, err := s.PendingEvents(ctx, 100); err != nil || len(evs) != 3 {
			t.Fatalf("PendingEvents = %d, %v; want 3", len(evs), err)
		}
		if _, err := s.ExportCandidates(ctx, 100); err != nil {
			t.Fatal(err)
		}
		if docs, err := s.Documents(ctx, StateQueued, 100); err != nil || len(docs) != 1 {
			t.Fatalf("Documents(queued) = %d, %v; want 1", len(docs), err)
		}
		if _, _, err := s.CSVState(ctx, "documents-2026-12-04.csv"); err != nil {
			t.Fatal(err)
		}
	}
	pass()
	if n.Load() == 0 {
		t.Fatal("no compilation counted: the counter does not see the read pool")
	}
	n.Store(0)
	for range 3 {
		pass()
	}
	if got := n.Load(); got != 0 {
		t.Errorf("three more passes compiled %d statements, want none", got)
	}
}

// TestMarkExportedCompilesNothingPerPass: marking an export pass exported
// runs statements compiled once at Open — the pass's documents, their
// marking (one statement for the pass), the CSV lengths and the exported
// counts —, so a second pass compiles nothing. Compiled afresh (the
// documents' lookup had one placeholder per document), they were a
// share of the exporter's SQLite CPU in an end-to-end run.
func TestMarkExportedCompilesNothingPerPass(t *testing.T) {
	s, _ := setup(t)
	ctx := context.Background()
	if got, err := s.ApplyEvents(ctx, submittedDocs(t, s, 0, 100)); err != nil || got != 100 {
		t.Fatalf("ApplyEvents = %d, %v", got, err)
	}
	done, err := s.ExportCandidates(ctx, 100)
	if err != nil || len(done) != 100 {
		t.Fatalf("ExportCandidates = %d, %v; want 100", len(done), err)
	}
	pass := func(docs []Document, size int64) {
		ids := make([]int64, len(docs))
		for i, d := range docs {
			ids[i] = d.ID
		}
		if err := s.MarkExported(ctx, ids, map[string]CSVFile{"documents-2026-12-04.csv": {Size: size}}); err != nil {
			t.Fatal(err)
		}
	}
	n := compilations(t, s)
	pass(done[:1], 10)
	pass(done[1:50], 500)
	n.Store(0)
	pass(done[50:], 1000)
	if got := n.Load(); got != 0 {
		t.Errorf("a pass of 50 documents compiled %d statements after the first passes, want none", got)
	}
	counts, err := s.CountOutcomes(ctx, time.Time{}, time.Time{})
	if err != nil || counts.byState[StateExported] != 100 || counts.All.Total.Ended[StateCompleted] != 100 || counts.All.Total.AwaitingExport != 0 {
		t.Errorf("counts = %+v, %v; want 100 exported", counts, err)
	}
	if f, _, err := s.CSVState(ctx, "documents-2026-12-04.csv"); err != nil || f.Size != 1000 {
		t.Errorf("CSV state = %+v, %v; want its last committed length 1000", f, err)
	}
}

// TestApplyEventsClaimsAGroupOnce: the group's events are claimed and
// given their status with one statement each for the group; an event
// listed twice in a group, or no longer pending, is still applied once.
func TestApplyEventsClaimsAGroupOnce(t *testing.T) {
	s, _ := setup(t)
	ctx := context.Background()
	actions := submittedDocs(t, s, 0, 3)
	if got, err := s.ApplyEvents(ctx, actions[:1]); err != nil || got != 1 {
		t.Fatalf("ApplyEvents(first) = %d, %v", got, err)
	}
	dead := EventAction{EventID: actions[2].EventID, Dead: "unreadable body"}
	twice := []EventAction{actions[0], actions[1], actions[1], dead}
	if got, err := s.ApplyEvents(ctx, twice); err != nil || got != 2 {
		t.Fatalf("ApplyEvents = %d, %v; want 2 (the first already applied, the second once)", got, err)
	}
	c, err := s.EventCounts(ctx)
	if err != nil || c[EventApplied] != 2 || c[EventDead] != 1 || c[EventPending] != 0 {
		t.Errorf("events = %v, %v; want 2 applied, 1 dead", c, err)
	}
	var note string
	if err := s.r.QueryRow(`SELECT note FROM events WHERE id = ?`, dead.EventID).Scan(&note); err != nil || note != dead.Dead {
		t.Errorf("dead event's note = %q, %v; want %q", note, err, dead.Dead)
	}
}

// TestApplyEventsChecksABatchOncePerGroup: when a batch's summary came
// before its documents' events, applying a group of them checks the batch
// against its summary once, with the group's outcomes in, not once per
// document: the per-document check compiled its count query every time.
// The check still records its verdict.
func TestApplyEventsChecksABatchOncePerGroup(t *testing.T) {
	s, _ := setup(t)
	ctx := context.Background()
	summarised := func(from, count int) []EventAction {
		actions := submittedDocs(t, s, from, count)
		summary := fmt.Sprintf(`{"total":%d,"succeeded":%d,"failed":0}`, count, count)
		if _, err := s.w.Exec(`UPDATE batches SET summary = ? WHERE api_batch_id = ?`, summary, fmt.Sprintf("batch_%d", from)); err != nil {
			t.Fatal(err)
		}
		return actions
	}
	one := summarised(0, 1)
	n := compilations(t, s)
	if got, err := s.ApplyEvents(ctx, one); err != nil || got != 1 {
		t.Fatalf("ApplyEvents(1) = %d, %v", got, err)
	}
	forOne := n.Load()
	many := summarised(1, 100)
	n.Store(0)
	if got, err := s.ApplyEvents(ctx, many); err != nil || got != 100 {
		t.Fatalf("ApplyEvents(100) = %d, %v", got, err)
	}
	if forMany := n.Load(); forMany > forOne {
		t.Errorf("applying 100 events of a summarised batch compiled %d statements, one %d: want no more for 100", forMany, forOne)
	}
	checks, err := s.BatchChecks(ctx, false)
	if err != nil || len(checks) != 2 || checks[0].Check != CheckMatch || checks[1].Check != CheckMatch {
		t.Errorf("batch checks = %+v, %v; want both batches matching their summary", checks, err)
	}
}
