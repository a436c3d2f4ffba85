package report

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/lifecycle"
	"github.com/docuparse/docuparse-ingest/internal/output"
)

// lastReportKey is the store meta key holding the last day reported.
const lastReportKey = "last_report_day"

// scheduleFromKey is the store meta key holding the first day the nightly
// schedule reports, set when it first runs on a store (see firstDay).
const scheduleFromKey = "report_schedule_from"

// maxCatchUp bounds how many missed days one start writes.
const maxCatchUp = 31

// ReporterConfig configures a Reporter.
type ReporterConfig struct {
	Store  Store
	Layout output.Layout // Location is the report's time zone
	// Hour and Minute of the local time at which the previous day's
	// report is due. Defaults to 02:00 (the zero value is midnight).
	Hour, Minute int
	StuckAfter   time.Duration
	// Check is how often the reporter looks whether a report is due.
	// Defaults to one minute.
	Check  time.Duration
	Now    func() time.Time
	Logger *slog.Logger
	// OnReport, when set, is told whether each report was written.
	OnReport func(ok bool)
}

// Reporter writes the nightly reconciliation report for each day once it
// is due, including days missed while the daemon was down.
type Reporter struct {
	cfg       ReporterConfig
	group     lifecycle.Group
	announced atomic.Bool // the next report due was logged
}

// NewReporter returns a Reporter; Start runs it.
func NewReporter(cfg ReporterConfig) *Reporter {
	if cfg.Check <= 0 {
		cfg.Check = time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Layout.Location == nil {
		cfg.Layout.Location = time.Local
	}
	return &Reporter{cfg: cfg}
}

// Start checks at once and then every Check whether a report is due. It
// returns at once.
func (r *Reporter) Start(ctx context.Context) {
	r.group.Go(ctx, func(ctx context.Context) {
		lifecycle.Loop(ctx, r.cfg.Check, nil, func(ctx context.Context) {
			if _, err := r.RunOnce(ctx); err != nil && ctx.Err() == nil {
				r.cfg.Logger.Error("nightly report failed; will retry", "err", err)
			}
		})
	})
}

// Stop waits for a report being written. Safe to call twice.
func (r *Reporter) Stop() { r.group.Stop() }

// DueDay returns the latest day whose report is due at now: yesterday once
// today's report time has passed, else the day before.
func (r *Reporter) DueDay(now time.Time) time.Time {
	loc := r.cfg.Layout.Location
	lt := now.In(loc)
	today := noon(lt)
	at := time.Date(lt.Year(), lt.Month(), lt.Day(), r.cfg.Hour, r.cfg.Minute, 0, 0, loc)
	if now.Before(at) {
		return today.AddDate(0, 0, -2)
	}
	return today.AddDate(0, 0, -1)
}

// noon returns 12:00 on t's calendar day in t's location. Day arithmetic
// is done at noon: midnight does not exist on some days in some zones
// (Santiago, Havana), noon always does.
func noon(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 12, 0, 0, 0, t.Location())
}

// RunOnce writes every report that is due and not written yet, oldest
// first, and returns the days written. The last day written is recorded
// after its files, so a crash rewrites a day rather than skipping it. Each
// report written is logged at INFO with why it was written then, and so are
// days skipped and, on the first call and after a report, the next one due.
func (r *Reporter) RunOnce(ctx context.Context) ([]string, error) {
	now := r.cfg.Now()
	due := r.DueDay(now)
	start, err := r.firstDay(ctx, due)
	if err != nil {
		return nil, err
	}
	if oldest := due.AddDate(0, 0, -(maxCatchUp - 1)); start.Before(oldest) {
		from, to := start.Format(output.DayFormat), oldest.AddDate(0, 0, -1).Format(output.DayFormat)
		r.cfg.Logger.Info("nightly reports skipped", "from", from, "to", to,
			"reason", fmt.Sprintf("more than %d days were missed; `report --from %s --to %s` writes them", maxCatchUp, from, to))
		start = oldest
	}
	var written []string
	for day := start; !day.After(due); day = day.AddDate(0, 0, 1) {
		if ctx.Err() != nil {
			return written, ctx.Err()
		}
		name := day.Format(output.DayFormat)
		rep, err := r.write(ctx, day, now)
		if r.cfg.OnReport != nil {
			r.cfg.OnReport(err == nil)
		}
		if err != nil {
			return written, fmt.Errorf("report for %s: %w", name, err)
		}
		if err := r.cfg.Store.SetMeta(ctx, lastReportKey, name); err != nil {
			return written, err
		}
		why := "due at " + r.dueAt(day)
		if day.Before(due) {
			why = "catching up: it was due at " + r.dueAt(day) + ", while the daemon was not running"
		}
		r.cfg.Logger.Info("nightly report written", "day", name, "files", rep.Accounting.Discovered, "reason", why)
		written = append(written, name)
	}
	if len(written) > 0 || !r.announced.Swap(true) {
		next := due.AddDate(0, 0, 1)
		r.cfg.Logger.Info("next nightly report", "day", next.Format(output.DayFormat), "at", r.dueAt(next))
	}
	return written, nil
}

// firstDay returns the first day the schedule has not reported yet: the
// day after the last one reported. On a schedule that never reported, it is
// the first day files were seen or the day whose report came due first
// after the schedule first ran on this store, whichever is earlier: on the
// daemon's first day the previous day's report is written at report.at too.
func (r *Reporter) firstDay(ctx context.Context, due time.Time) (time.Time, error) {
	loc := r.cfg.Layout.Location
	last, ok, err := r.cfg.Store.Meta(ctx, lastReportKey)
	if err != nil {
		return time.Time{}, err
	}
	if ok {
		d, err := time.ParseInLocation(output.DayFormat, last, loc)
		if err != nil {
			return time.Time{}, fmt.Errorf("last report day %q: %w", last, err)
		}
		return noon(d).AddDate(0, 0, 1), nil
	}
	from, known, err := r.cfg.Store.Meta(ctx, scheduleFromKey)
	if err != nil {
		return time.Time{}, err
	}
	start := due.AddDate(0, 0, 1)
	if d, err := time.ParseInLocation(output.DayFormat, from, loc); known && err == nil {
		start = noon(d)
	}
	if !known {
		if err := r.cfg.Store.SetMeta(ctx, scheduleFromKey, start.Format(output.DayFormat)); err != nil {
			return time.Time{}, err
		}
	}
	first, seen, err := r.cfg.Store.FirstDiscovered(ctx)
	if err != nil {
		return time.Time{}, err
	}
	if d := noon(first.In(loc)); seen && d.Before(start) {
		start = d
	}
	if !known {
		r.announced.Store(true)
		r.cfg.Logger.Info("nightly reports start", "day", start.Format(output.DayFormat), "at", r.dueAt(start),
			"reason", "no files were seen before that day; `report --date` writes the report of any past day")
	}
	return start, nil
}

// dueAt says when day's report is due: report.at on the next day, in the
// report's time zone.
func (r *Reporter) dueAt(day time.Time) string {
	loc := r.cfg.Layout.Location
	next := noon(day.In(loc)).AddDate(0, 0, 1)
	at := time.Date(next.Year(), next.Month(), next.Day(), r.cfg.Hour, r.cfg.Minute, 0, 0, loc)
	return at.Format("2006-01-02 15:04 MST")
}

// Write builds and writes the report for the day containing day.
func (r *Reporter) Write(ctx context.Context, day, now time.Time) error {
	_, err := r.write(ctx, day, now)
	return err
}

func (r *Reporter) write(ctx context.Context, day, now time.Time) (*Report, error) {
	rep, err := Build(ctx, r.cfg.Store, day, Options{Location: r.cfg.Layout.Location, StuckAfter: r.cfg.StuckAfter, Now: now})
	if err != nil {
		return nil, err
	}
	if _, err = Write(r.cfg.Layout, rep); err != nil {
		return nil, err
	}
	return rep, RecordWritten(ctx, r.cfg.Store, rep)
}
