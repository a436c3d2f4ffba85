package daemon

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/config"
	"github.com/docuparse/docuparse-ingest/internal/store"
	"github.com/docuparse/docuparse-ingest/internal/testclock"
	"github.com/docuparse/docuparse-ingest/internal/testlog"
)

// seededStore opens a store in a temporary folder whose clock is clock,
// holding n documents exported at clock's time.
func seededStore(t *testing.T, clock *testclock.Clock, n int) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "state.db"), store.Options{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	var files []store.NewFile
	for i := range n {
		files = append(files, store.NewFile{Source: "inbox", Path: fmt.Sprintf("/in/f%d.pdf", i), FileName: "f.pdf",
			Size: 10, ModTime: clock.Now(), SHA256: fmt.Sprint("sha-", i)})
	}
	if err := st.SeedExported(context.Background(), files, "EMPTY_FILE", "empty"); err != nil {
		t.Fatal(err)
	}
	return st
}

// A pass prunes the documents exported longer than the retention ago,
// counts them in the report zone's day, and says so in one log line; a
// pass with nothing to prune says nothing.
func TestRetentionPassPrunesWhatAgedPastTheRetention(t *testing.T) {
	exported := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	clock := testclock.New(exported)
	st := seededStore(t, clock, 3)
	log, buf := testlog.Logger(0)
	zone := time.FixedZone("UTC+14", 14*3600)
	p := &pruner{st: st, retention: 7 * 24 * time.Hour, loc: zone, now: clock.Now, interval: time.Hour, log: log}

	clock.Set(exported.Add(6 * 24 * time.Hour)) // inside the retention
	if res, err := p.RunOnce(context.Background()); err != nil || res.Documents != 0 {
		t.Fatalf("pass inside the retention = %+v, %v; want nothing pruned", res, err)
	}
	clock.Set(exported.Add(8 * 24 * time.Hour)) // 2026-11-09 12:00 UTC, 11-10 in UTC+14
	if res, err := p.RunOnce(context.Background()); err != nil || res.Documents != 3 {
		t.Fatalf("pass past the retention = %+v, %v; want the 3 documents", res, err)
	}
	if res, err := p.RunOnce(context.Background()); err != nil || res.Documents != 0 {
		t.Fatalf("second pass = %+v, %v; want nothing left", res, err)
	}
	c, err := st.Counters(context.Background(), "2026-11-10")
	if err != nil || c[store.CounterPruned] != 3 {
		t.Errorf("counters of 2026-11-10 (the report zone's day) = %v, %v", c, err)
	}
	if n := buf.Count("pruned the detail of exported documents"); n != 1 {
		t.Errorf("%d log lines about pruning, want 1:\n%s", n, buf.String())
	}
}

// signalStore is the real store, announcing each Prune it answered.
type signalStore struct {
	*store.Store
	pruned chan store.PruneResult
}

func (s signalStore) Prune(ctx context.Context, cutoff time.Time, day string) (store.PruneResult, error) {
	res, err := s.Store.Prune(ctx, cutoff, day)
	if err == nil {
		select {
		case s.pruned <- res:
		case <-ctx.Done(): // stopped: the test reads no more
		}
	}
	return res, err
}

// Started, the job makes its passes on its ticker; stopped, it makes no
// more.
func TestRetentionJobRunsOnItsTickerUntilStopped(t *testing.T) {
	clock := testclock.New(time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC))
	st := signalStore{seededStore(t, clock, 2), make(chan store.PruneResult, 1)}
	clock.Set(clock.Now().Add(30 * 24 * time.Hour))
	log, _ := testlog.Logger(0)
	p := &pruner{st: st, retention: 7 * 24 * time.Hour, loc: time.UTC, now: clock.Now, interval: time.Millisecond, log: log}
	p.Start(context.Background())
	if res := <-st.pruned; res.Documents != 2 {
		t.Errorf("first pass pruned %+v, want the 2 documents", res)
	}
	if res := <-st.pruned; res.Documents != 0 { // a second tick: nothing left
		t.Errorf("second pass pruned %+v", res)
	}
	p.Stop()
	p.Stop() // safe twice
}

// The job exists only with a retention set.
func TestRetentionJobOnlyWithARetention(t *testing.T) {
	d := newServicesDaemon(t)
	if d.services[slotPruner] != nil {
		t.Errorf("a retention job without state.retention")
	}
	d.cfg.State.Retention = config.Duration(2160 * time.Hour)
	if d.buildPruner() == nil {
		t.Errorf("no retention job with state.retention = 2160h")
	}
}
