package main

import (
	"context"
	"fmt"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/config"
	"github.com/docuparse/docuparse-ingest/internal/output"
	"github.com/docuparse/docuparse-ingest/internal/safetext"
	"github.com/docuparse/docuparse-ingest/report"
)

// runReport writes the reconciliation report of one day (default
// yesterday) or of each day of a range, and prints the Markdown. A day
// that has not begun is refused before anything is written; today's
// report is written, marked partial.
func (m *Main) runReport(ctx context.Context, args []string) error {
	fs := m.newFlags("report")
	path := fs.String("config", config.DefaultPath, "configuration file")
	date := fs.String("date", "", "day to report, YYYY-MM-DD (default: yesterday)")
	from := fs.String("from", "", "first day of a range, YYYY-MM-DD")
	to := fs.String("to", "", "last day of a range, YYYY-MM-DD (default: --from)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := config.LoadWithoutSecrets(*path, m.Getenv)
	if err != nil {
		return err
	}
	loc := cfg.Report.Location()
	now := time.Now()
	first, last, err := reportRange(*date, *from, *to, now, loc)
	if err != nil {
		return err
	}
	if now.Before(last) { // last is the first instant of its day
		return fmt.Errorf("report: %s %w: it is now %s in %s (report.timezone); there is nothing to report yet",
			last.Format(output.DayFormat), report.ErrFutureDay, now.In(loc).Format("2006-01-02 15:04"), loc)
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	layout := cfg.Layout()
	// Step at noon: adding days to a midnight that does not exist in loc
	// could skip or repeat a day.
	first = time.Date(first.Year(), first.Month(), first.Day(), 12, 0, 0, 0, loc)
	last = time.Date(last.Year(), last.Month(), last.Day(), 12, 0, 0, 0, loc)
	total := int(last.Sub(first).Round(24*time.Hour)/(24*time.Hour)) + 1
	n := 0
	for day := first; !day.After(last); day = day.AddDate(0, 0, 1) {
		n++
		if total > 1 && isTerminal(m.Stderr) {
			fmt.Fprintf(m.Stderr, "… report %d of %d: %s\n", n, total, day.Format(output.DayFormat))
		}
		rep, err := report.Build(ctx, st, day, report.Options{Location: loc, StuckAfter: cfg.Reconcile.StuckAfter.D(), Now: now})
		if err != nil {
			return err
		}
		paths, err := report.Write(layout, rep)
		if err != nil {
			return err
		}
		if err := report.RecordWritten(ctx, st, rep); err != nil {
			return err
		}
		m.Stdout.Write(rep.Markdown())
		for _, p := range paths {
			fmt.Fprintf(m.Stderr, "wrote %s\n", safetext.Visible(p))
		}
	}
	return nil
}

// maxReportDays bounds a --from/--to range.
const maxReportDays = 366

func reportRange(date, from, to string, now time.Time, loc *time.Location) (time.Time, time.Time, error) {
	parse := func(flag, v string) (time.Time, error) {
		t, err := report.ParseDay(v, loc)
		if err != nil {
			return time.Time{}, usageError{fmt.Sprintf("report: --%s %q is not a date (YYYY-MM-DD)", flag, v)}
		}
		return t, nil
	}
	switch {
	case date != "" && (from != "" || to != ""):
		return time.Time{}, time.Time{}, usageError{"report: give --date or --from/--to, not both"}
	case date != "":
		d, err := parse("date", date)
		return d, d, err
	case from != "":
		f, err := parse("from", from)
		if err != nil {
			return f, f, err
		}
		t := f
		if to != "" {
			if t, err = parse("to", to); err != nil {
				return f, t, err
			}
		}
		if t.Before(f) {
			return f, t, usageError{"report: --to is before --from"}
		}
		if t.Sub(f) > maxReportDays*24*time.Hour {
			return f, t, usageError{fmt.Sprintf("report: at most %d days at once", maxReportDays)}
		}
		return f, t, nil
	case to != "":
		return time.Time{}, time.Time{}, usageError{"report: --to needs --from"}
	}
	lt := now.In(loc)
	y := time.Date(lt.Year(), lt.Month(), lt.Day(), 12, 0, 0, 0, loc).AddDate(0, 0, -1) // noon always exists
	return y, y, nil
}
