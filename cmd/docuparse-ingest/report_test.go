package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// `report --date` for a day that has not begun is refused with a clear
// error and writes nothing; today's report is written but says partial.
func TestReportRefusesAFutureDayAndMarksTodayPartial(t *testing.T) {
	f := newRetryFixture(t)
	f.add("a.pdf", "queued", "")
	next := time.Now().AddDate(1, 0, 0).Format("2006-01-02")
	out, _, err := run(t, nil, "", "report", "--config", f.cfgPath, "--date", next)
	if err == nil || !strings.Contains(err.Error(), "has not begun") || strings.Contains(out, "Balanced") {
		t.Fatalf("report --date %s: err %v\n%s", next, err, out)
	}
	reports := filepath.Join(filepath.Dir(f.cfgPath), "out", "reports")
	if _, err := os.Stat(filepath.Join(reports, "reconciliation-"+next+".md")); err == nil {
		t.Errorf("a report for %s was written", next)
	}
	if _, _, err := run(t, nil, "", "report", "--config", f.cfgPath, "--from", "2026-01-01", "--to", next); err == nil {
		t.Errorf("a range ending on %s was accepted", next)
	}
	out, _, err = run(t, nil, "", "report", "--config", f.cfgPath, "--date", time.Now().Format("2006-01-02"))
	if err != nil || !strings.Contains(out, "Partial report") {
		t.Fatalf("today's report: %v\n%s", err, out)
	}
}
