package report

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// A day that has not begun has nothing to report: building its report is
// refused, and nothing claims it balanced.
func TestAReportForADayThatHasNotBegunIsRefused(t *testing.T) {
	f := newRepFixture(t)
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	for _, day := range []time.Time{time.Date(2027, 1, 1, 12, 0, 0, 0, time.UTC), time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC)} {
		r, err := Build(f.ctx, f.st, day, Options{Now: now})
		if !errors.Is(err, ErrFutureDay) || r != nil {
			t.Errorf("report for %s at %s = %v, %v; want ErrFutureDay", day, now, r, err)
			continue
		}
		if !strings.Contains(err.Error(), "has not begun") {
			t.Errorf("error does not say why: %v", err)
		}
	}
}

// Today's report is allowed, but it says it covers the day so far.
func TestAReportForTodayIsMarkedPartial(t *testing.T) {
	f := newRepFixture(t)
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	f.at(now.Add(-time.Hour)).intake("/in/a.pdf")
	r := f.report(now, Options{Now: now})
	if !r.Partial {
		t.Fatal("today's report is not marked partial")
	}
	md := string(r.Markdown())
	if !strings.Contains(md, "Partial report: the day is not over") || !strings.Contains(md, "so far. Balanced.**") {
		t.Errorf("today's report does not say it is partial:\n%s", md)
	}
	js, err := r.JSON()
	if err != nil || !strings.Contains(string(js), `"partial": true`) {
		t.Errorf("JSON does not say partial: %v\n%s", err, js)
	}
	if y := f.report(now.AddDate(0, 0, -1), Options{Now: now}); y.Partial {
		t.Error("yesterday's report is marked partial")
	}
}
