package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"sync/atomic"
	"testing"

	"modernc.org/sqlite"

	"github.com/docuparse/docuparse-ingest/internal/docuparse"
)

// compilations counts, from now on, the statements SQLite compiles on s's
// writer connection: its authorizer is asked about every compilation
// (and about nothing else).
func compilations(t *testing.T, s *Store) *atomic.Int64 {
	t.Helper()
	return compilationsOn(t, s.w)
}

// compilationsOn is compilations on db's connection (a pool of one).
func compilationsOn(t *testing.T, db *sql.DB) *atomic.Int64 {
	t.Helper()
	var n atomic.Int64
	set := func(fn sqlite.AuthorizerFn) {
		conn, err := db.Conn(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		err = conn.Raw(func(dc any) error {
			ar, ok := dc.(sqlite.AuthorizerRegisterer)
			if !ok {
				return fmt.Errorf("driver connection %T has no authorizer", dc)
			}
			return ar.RegisterAuthorizer(fn)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	// Every compiled statement is asked about its verb (SELECT once, UPDATE
	// and INSERT once per column), and about nothing while it runs.
	set(func(action sqlite.AuthorizerActionCode, _, _, _, _ string) sqlite.AuthorizerReturnCode {
		switch action {
		case sqlite.AuthSelect, sqlite.AuthUpdate, sqlite.AuthInsert, sqlite.AuthDelete:
			n.Add(1)
		}
		return sqlite.AuthorizerOK
	})
	t.Cleanup(func() { set(nil) }) // before the store closes (cleanups run last first)
	return &n
}

// submittedDocs takes in n files and records them submitted as doc_<i>,
// and journals one document.completed for each; it returns the actions
// the receiver's ParseEvent would make of them.
func submittedDocs(t testing.TB, s *Store, from, n int) []EventAction {
	t.Helper()
	ctx := context.Background()
	var ids []int64
	var subs []Submitted
	for i := from; i < from+n; i++ {
		r := mustIntake(t, s, newFile(i, fmt.Sprintf("sha%d", i)))
		ids = append(ids, r.ID)
		subs = append(subs, Submitted{r.ID, fmt.Sprintf("doc_%d", i)})
	}
	batch, err := s.CreateBatch(ctx, ModeBatch, ids)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.RecordSubmitted(ctx, batch.ID, fmt.Sprintf("batch_%d", from), nil, subs); err != nil {
		t.Fatal(err)
	}
	for i := from; i < from+n; i++ {
		event(t, s, fmt.Sprintf("key_%d", i), docuparse.Event{Event: docuparse.EventDocumentCompleted,
			DocumentID: fmt.Sprintf("doc_%d", i), Data: json.RawMessage(`{"total":"1.00"}`)})
	}
	evs, err := s.PendingEvents(ctx, n)
	if err != nil || len(evs) != n {
		t.Fatalf("pending = %d, %v; want %d", len(evs), err, n)
	}
	actions := make([]EventAction, n)
	for i, e := range evs {
		actions[i] = EventAction{EventID: e.ID, Result: &Result{DocumentID: fmt.Sprintf("doc_%d", from+i),
			Status: docuparse.StatusCompleted, Data: json.RawMessage(`{"total":"1.00"}`), Via: ViaWebhook}}
	}
	return actions
}

// TestApplyEventsCompilesNoStatementPerEvent: applying a group of webhook
// events compiles as many SQL statements for 100 events as for one — the
// statements run for every event are compiled once per connection, not
// once per event. During a burst the applier shares the one writer with
// the journal, and compiling its five statements per event was a third of
// its CPU time (docs/benchmarks.md, "Webhook burst into the running
// daemon").
func TestApplyEventsCompilesNoStatementPerEvent(t *testing.T) {
	s, _ := setup(t)
	ctx := context.Background()
	one := submittedDocs(t, s, 0, 1)
	n := compilations(t, s)
	if got, err := s.ApplyEvents(ctx, one); err != nil || got != 1 {
		t.Fatalf("ApplyEvents(1) = %d, %v", got, err)
	}
	forOne := n.Load()
	many := submittedDocs(t, s, 1, 100)
	n.Store(0)
	if got, err := s.ApplyEvents(ctx, many); err != nil || got != 100 {
		t.Fatalf("ApplyEvents(100) = %d, %v", got, err)
	}
	if forMany := n.Load(); forMany > forOne {
		t.Errorf("applying 100 events compiled %d statements, applying one %d: want no more for 100", forMany, forOne)
	}
	c, err := s.EventCounts(ctx)
	if err != nil || c[EventApplied] != 101 {
		t.Errorf("events = %v, %v; want 101 applied", c, err)
	}
}

// TestIntakeAndSubmissionCompileNoStatementPerFile: taking in a group of
// files and recording a batch's answer compile as many SQL statements for
// 100 files as for one. Intake and the submit answer run a few statements
// per file inside their grouped transactions; compiled afresh for every
// file, they were the largest share of the daemon's SQLite CPU in an
// end-to-end run once the applier's and exporter's were prepared.
func TestIntakeAndSubmissionCompileNoStatementPerFile(t *testing.T) {
	s, _ := setup(t)
	ctx := context.Background()
	n := compilations(t, s)
	cost := func(from, count int) (intake, submit int64) {
		files := make([]NewFile, count)
		for i := range files {
			files[i] = newFile(from+i, fmt.Sprintf("sha%d", from+i))
			files[i].Dedupe = true
		}
		n.Store(0)
		rs, err := s.IntakeMany(ctx, files)
		if err != nil {
			t.Fatal(err)
		}
		intake = n.Load()
		ids := make([]int64, count)
		subs := make([]Submitted, count)
		for i, r := range rs {
			ids[i], subs[i] = r.ID, Submitted{r.ID, fmt.Sprintf("doc_%d", from+i)}
		}
		b, err := s.CreateBatch(ctx, ModeBatch, ids)
		if err != nil {
			t.Fatal(err)
		}
		n.Store(0)
		if err := s.RecordSubmitted(ctx, b.ID, fmt.Sprintf("batch_%d", from), nil, subs); err != nil {
			t.Fatal(err)
		}
		return intake, n.Load()
	}
	intakeOne, submitOne := cost(0, 1)
	intakeMany, submitMany := cost(1, 100)
	if intakeMany > intakeOne {
		t.Errorf("taking in 100 files compiled %d statements, one file %d: want no more for 100", intakeMany, intakeOne)
	}
	if submitMany > submitOne {
		t.Errorf("recording 100 submitted documents compiled %d statements, one %d: want no more for 100", submitMany, submitOne)
	}
}
