package report

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/output"
	"github.com/docuparse/docuparse-ingest/internal/store"
	"github.com/docuparse/docuparse-ingest/internal/testclock"
)

// The SQLite store is what the report needs.
var _ Store = (*store.Store)(nil)

// narrowStore has Store's methods and no other: a report built on it
// reads the store through its interface alone, as it would a second
// backend.
type narrowStore struct{ Store }

// The nightly schedule, building, recording and reading back the last
// report all work through Store alone.
func TestTheReportWorksThroughItsStoreInterfaceAlone(t *testing.T) {
	c := testclock.New(time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC))
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "state.db"), store.Options{Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ctx := context.Background()
	if _, err := st.Intake(ctx, store.NewFile{Source: "s", Path: "/in/a.pdf", FileName: "a.pdf", Size: 1, ModTime: c.Now(), SHA256: "a"}); err != nil {
		t.Fatal(err)
	}
	narrow := narrowStore{st}
	r := NewReporter(ReporterConfig{Store: narrow, Layout: output.Layout{Root: t.TempDir(), Location: time.UTC}, Hour: 2, Now: c.Now})
	c.Set(time.Date(2026, 11, 21, 2, 30, 0, 0, time.UTC))
	if days, err := r.RunOnce(ctx); err != nil || len(days) != 1 || days[0] != "2026-11-20" {
		t.Fatalf("nightly run = %v, %v; want the report of 2026-11-20", days, err)
	}
	if day, ok, err := Last(ctx, narrow); err != nil || !ok || day != "2026-11-20" {
		t.Fatalf("last report = %q, %v, %v", day, ok, err)
	}
	rep, err := Build(ctx, narrow, c.Now().AddDate(0, 0, -1), Options{Now: c.Now()})
	if err != nil || rep.Accounting.Discovered != 1 || !rep.Accounting.Balanced {
		t.Fatalf("report = %+v, %v; want one file, balanced", rep, err)
	}
	if err := RecordWritten(ctx, narrow, rep); err != nil {
		t.Fatal(err)
	}
}
