package report

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/output"
	"github.com/docuparse/docuparse-ingest/internal/store"
	"github.com/docuparse/docuparse-ingest/internal/testclock"
	"github.com/docuparse/docuparse-ingest/internal/testlog"
)

// With report.at a minute ahead on the daemon's first day, the previous
// day's report is written at report.at, and the log says so and when the
// next one is due.
func TestTheFirstDayGetsItsReportAtReportAt(t *testing.T) {
	ctx := context.Background()
	c := testclock.New(time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC))
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "state.db"), store.Options{Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	log, buf := testlog.Logger(slog.LevelInfo)
	r := NewReporter(ReporterConfig{Store: st, Layout: output.Layout{Root: t.TempDir(), Location: time.UTC},
		Hour: 10, Minute: 1, Now: c.Now, Logger: log})
	if _, err := st.Intake(ctx, store.NewFile{Source: "s", Path: "/in/a.pdf", FileName: "a.pdf", Size: 1, ModTime: c.Now(), SHA256: "a"}); err != nil {
		t.Fatal(err)
	}
	if days, err := r.RunOnce(ctx); err != nil || len(days) != 0 {
		t.Fatalf("before report.at: wrote %v, %v", days, err)
	}
	if !strings.Contains(buf.String(), "level=INFO") || !strings.Contains(buf.String(), "2026-11-19") {
		t.Errorf("the log does not say when the first report is due:\n%s", buf)
	}
	c.Advance(time.Minute)
	days, err := r.RunOnce(ctx)
	if err != nil || fmt.Sprint(days) != "[2026-11-19]" {
		t.Fatalf("at report.at on the first day: wrote %v, %v; want [2026-11-19]", days, err)
	}
	if !strings.Contains(buf.String(), `level=INFO msg="nightly report written" day=2026-11-19`) {
		t.Errorf("the log does not say the report was written:\n%s", buf)
	}
	c.Advance(24 * time.Hour)
	if days, err := r.RunOnce(ctx); err != nil || fmt.Sprint(days) != "[2026-11-20]" {
		t.Fatalf("the next day: wrote %v, %v", days, err)
	}
}

// Days older than the catch-up limit are skipped, and the log says which
// and how to write them.
func TestDaysSkippedByALongOutageAreLogged(t *testing.T) {
	r, st, c, _ := reporterRig(t, time.UTC)
	log, buf := testlog.Logger(slog.LevelInfo)
	r.cfg.Logger = log
	ctx := context.Background()
	if _, err := st.Intake(ctx, store.NewFile{Source: "s", Path: "/in/a.pdf", FileName: "a.pdf", Size: 1, ModTime: c.Now(), SHA256: "a"}); err != nil {
		t.Fatal(err)
	}
	c.Advance(100 * 24 * time.Hour)
	if _, err := r.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `msg="nightly reports skipped" from=2026-11-20 to=2027-01-27`) ||
		!strings.Contains(buf.String(), "report --from 2026-11-20 --to 2027-01-27") {
		t.Errorf("the skipped days are not logged:\n%s", buf)
	}
}
