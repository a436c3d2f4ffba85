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

// A report written by the `report` command is the last report `status`
// names, in text and JSON; a partial report of today is not.
func TestStatusNamesTheLastReportWritten(t *testing.T) {
	f := newRetryFixture(t)
	f.add("a.pdf", "queued", "")
	yesterday := time.Now().AddDate(0, 0, -1).Format("2006-01-02")
	older := time.Now().AddDate(0, 0, -3).Format("2006-01-02")
	for _, day := range []string{yesterday, older, time.Now().Format("2006-01-02")} {
		if _, _, err := run(t, nil, "", "report", "--config", f.cfgPath, "--date", day); err != nil {
			t.Fatal(err)
		}
	}
	out, _, err := run(t, nil, "", "status", "--config", f.cfgPath)
	if err != nil || !strings.Contains(out, "last report:    "+yesterday) {
		t.Fatalf("status after reports up to %s: %v\n%s", yesterday, err, out)
	}
	js, _, err := run(t, nil, "", "status", "--json", "--config", f.cfgPath)
	if err != nil || !strings.Contains(js, `"last_report_day": "`+yesterday+`"`) {
		t.Fatalf("status --json: %v\n%s", err, js)
	}
}
