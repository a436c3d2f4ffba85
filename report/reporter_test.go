package report

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/output"
	"github.com/docuparse/docuparse-ingest/internal/store"
	"github.com/docuparse/docuparse-ingest/internal/testclock"
)

func reporterRig(t *testing.T, loc *time.Location) (*Reporter, *store.Store, *testclock.Clock, string) {
	t.Helper()
	c := testclock.New(time.Date(2026, 11, 20, 10, 0, 0, 0, loc))
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "state.db"), store.Options{Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	out := t.TempDir()
	r := NewReporter(ReporterConfig{Store: st, Layout: output.Layout{Root: out, Location: loc}, Hour: 2, Minute: 0,
		StuckAfter: 24 * time.Hour, Now: c.Now})
	return r, st, c, out
}

func TestTheReportIsDueForYesterdayOnceTheReportTimeHasPassed(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip("no zone data")
	}
	r, _, _, _ := reporterRig(t, berlin)
	for _, tc := range []struct {
		now  time.Time
		want string
	}{
		{time.Date(2026, 11, 28, 1, 59, 0, 0, berlin), "2026-11-26"},
		{time.Date(2026, 11, 28, 2, 0, 0, 0, berlin), "2026-11-27"},
		{time.Date(2026, 11, 28, 23, 59, 0, 0, berlin), "2026-11-27"},
		// The night the clocks go back (25 October 2026): still one day.
		{time.Date(2026, 10, 25, 2, 30, 0, 0, berlin), "2026-10-24"},
		// The night they go forward (29 March 2026): 02:00 does not exist.
		{time.Date(2026, 3, 29, 3, 0, 0, 0, berlin), "2026-03-28"},
	} {
		if got := r.DueDay(tc.now).Format(output.DayFormat); got != tc.want {
			t.Errorf("at %s: due %s, want %s", tc.now, got, tc.want)
		}
	}
}

func TestDaysMissedWhileDownAreWrittenAtTheNextStartAndNeverTwice(t *testing.T) {
	r, st, c, out := reporterRig(t, time.UTC)
	ctx := context.Background()
	// Nothing seen yet: nothing to report.
	if days, err := r.RunOnce(ctx); err != nil || len(days) != 0 {
		t.Fatalf("empty store: %v, %v", days, err)
	}
	if _, err := st.Intake(ctx, store.NewFile{Source: "s", Path: "/in/a.pdf", FileName: "a.pdf", Size: 1, ModTime: c.Now(), SHA256: "a"}); err != nil {
		t.Fatal(err)
	}
	// Three days later, after 02:00: the 20th, 21st and 22nd are due.
	c.Advance(72 * time.Hour)
	days, err := r.RunOnce(ctx)
	if err != nil || fmt.Sprint(days) != "[2026-11-20 2026-11-21 2026-11-22]" {
		t.Fatalf("catch-up = %v, %v", days, err)
	}
	for _, d := range days {
		for _, ext := range []string{"md", "json", "csv"} {
			if _, err := os.Stat(filepath.Join(out, "reports", "reconciliation-"+d+"."+ext)); err != nil {
				t.Errorf("missing %s.%s: %v", d, ext, err)
			}
		}
	}
	if days, _ := r.RunOnce(ctx); len(days) != 0 {
		t.Fatalf("rewrote %v", days)
	}
	c.Advance(24 * time.Hour)
	if days, _ := r.RunOnce(ctx); fmt.Sprint(days) != "[2026-11-23]" {
		t.Fatalf("next night = %v", days)
	}
}

func TestALongOutageCatchesUpAtMostAMonth(t *testing.T) {
	r, st, c, _ := reporterRig(t, time.UTC)
	ctx := context.Background()
	if _, err := st.Intake(ctx, store.NewFile{Source: "s", Path: "/in/a.pdf", FileName: "a.pdf", Size: 1, ModTime: c.Now(), SHA256: "a"}); err != nil {
		t.Fatal(err)
	}
	c.Advance(100 * 24 * time.Hour)
	days, err := r.RunOnce(ctx)
	if err != nil || len(days) != maxCatchUp {
		t.Fatalf("wrote %d days, %v; want %d", len(days), err, maxCatchUp)
	}
}

func TestDayArithmeticHoldsWhereMidnightIsSkipped(t *testing.T) {
	santiago, err := time.LoadLocation("America/Santiago")
	if err != nil {
		t.Skip("no zone data")
	}
	r, _, _, _ := reporterRig(t, santiago)
	// Chile skipped 00:00–01:00 on 2026-09-06 (clocks went forward at
	// midnight). At 03:00 on the 7th the 6th is due, and it is one day.
	due := r.DueDay(time.Date(2026, 9, 7, 3, 0, 0, 0, santiago))
	if got := due.Format(output.DayFormat); got != "2026-09-06" {
		t.Fatalf("due %s, want 2026-09-06", got)
	}
	if got := due.AddDate(0, 0, -1).Format(output.DayFormat); got != "2026-09-05" {
		t.Fatalf("day before = %s", got)
	}
}

// report.at is a wall-clock time and stays one, but a clock stepped back
// across it must neither write a day's report twice nor skip a day.
// (A guard: the last day reported is stored, so this held before the
// monotonic-clock fixes too.)
func TestAClockSteppedBackAcrossTheReportTimeNeitherRepeatsNorSkipsADay(t *testing.T) {
	r, st, c, _ := reporterRig(t, time.UTC)
	ctx := context.Background()
	if _, err := st.Intake(ctx, store.NewFile{Source: "s", Path: "/in/a.pdf", FileName: "a.pdf", Size: 1, ModTime: c.Now(), SHA256: "a"}); err != nil {
		t.Fatal(err)
	}
	c.Set(time.Date(2026, 11, 21, 2, 30, 0, 0, time.UTC))
	if days, err := r.RunOnce(ctx); err != nil || fmt.Sprint(days) != "[2026-11-20]" {
		t.Fatalf("first night = %v, %v", days, err)
	}
	for _, step := range []time.Duration{-time.Hour, -3 * time.Hour, -26 * time.Hour} {
		c.Set(time.Date(2026, 11, 21, 2, 30, 0, 0, time.UTC).Add(step))
		if days, err := r.RunOnce(ctx); err != nil || len(days) != 0 {
			t.Fatalf("stepped back %v: wrote %v, %v; want nothing", step, days, err)
		}
		c.Set(time.Date(2026, 11, 21, 2, 30, 0, 0, time.UTC))
		if days, err := r.RunOnce(ctx); err != nil || len(days) != 0 {
			t.Fatalf("back at 02:30 after a step of %v: wrote %v, %v; want nothing", step, days, err)
		}
	}
	c.Set(time.Date(2026, 11, 22, 2, 0, 0, 0, time.UTC))
	if days, err := r.RunOnce(ctx); err != nil || fmt.Sprint(days) != "[2026-11-21]" {
		t.Fatalf("next night = %v, %v", days, err)
	}
}
