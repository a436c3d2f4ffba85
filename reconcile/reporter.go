package reconcile

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/lifecycle"
	"github.com/docuparse/docuparse-ingest/internal/output"
	"github.com/docuparse/docuparse-ingest/internal/store"
)

// lastReportKey is the store meta key holding the last day reported.
const lastReportKey = "last_report_day"

// maxCatchUp bounds how many missed days one start writes.
const maxCatchUp = 31

// ReporterConfig configures a Reporter.
type ReporterConfig struct {
	Store  *store.Store
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
	cfg   ReporterConfig
	group lifecycle.Group
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
// after its files, so a crash rewrites a day rather than skipping it.
func (r *Reporter) RunOnce(ctx context.Context) ([]string, error) {
	now := r.cfg.Now()
	loc := r.cfg.Layout.Location
	due := r.DueDay(now)
	start := due.AddDate(0, 0, -(maxCatchUp - 1))
	last, ok, err := r.cfg.Store.Meta(ctx, lastReportKey)
	if err != nil {
		return nil, err
	}
	if ok {
		d, err := time.ParseInLocation(output.DayFormat, last, loc)
		if d = noon(d); err == nil && d.AddDate(0, 0, 1).After(start) {
			start = d.AddDate(0, 0, 1)
		}
	} else {
		// Never reported: begin with the first day anything was seen.
		first, any, err := r.cfg.Store.FirstDiscovered(ctx)
		if err != nil {
			return nil, err
		}
		if !any {
			return nil, nil
		}
		if d := noon(first.In(loc)); d.After(start) {
			start = d
		}
	}
	var written []string
	for day := start; !day.After(due); day = day.AddDate(0, 0, 1) {
		if ctx.Err() != nil {
			return written, ctx.Err()
		}
		name := day.Format(output.DayFormat)
		err := r.Write(ctx, day, now)
		if r.cfg.OnReport != nil {
			r.cfg.OnReport(err == nil)
		}
		if err != nil {
			return written, fmt.Errorf("report for %s: %w", name, err)
		}
		if err := r.cfg.Store.SetMeta(ctx, lastReportKey, name); err != nil {
			return written, err
		}
		r.cfg.Logger.Info("nightly report written", "day", name)
		written = append(written, name)
	}
	return written, nil
}

// Write builds and writes the report for the day containing day.
func (r *Reporter) Write(ctx context.Context, day, now time.Time) error {
	rep, err := BuildReport(ctx, r.cfg.Store, day, ReportOptions{Location: r.cfg.Layout.Location, StuckAfter: r.cfg.StuckAfter, Now: now})
	if err != nil {
		return err
	}
	if _, err = WriteReport(r.cfg.Layout, rep); err != nil {
		return err
	}
	return RecordWritten(ctx, r.cfg.Store, rep)
}
