package store

import (
	"context"
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
