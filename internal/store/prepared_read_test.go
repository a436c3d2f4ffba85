package store

import (
	"context"
	"testing"
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
