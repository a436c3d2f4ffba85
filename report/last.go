package report

import (
	"context"
	"fmt"
)

// lastWrittenKey is the store meta key holding the newest day whose
// complete (not partial) report was written, by the nightly schedule or
// the `report` command. It is apart from lastReportKey, the schedule's own
// progress, so that a report written by hand never makes the schedule skip
// a day.
const lastWrittenKey = "last_report_written"

// RecordWritten notes that r's files were written, for Last. A
// partial report (of the current day) is not a report of the day and is
// not noted; an older day than the one noted leaves it as it is.
func RecordWritten(ctx context.Context, st Store, r *Report) error {
	if r == nil || r.Partial {
		return nil
	}
	last, _, err := Last(ctx, st)
	if err != nil {
		return err
	}
	if r.Day <= last { // days are YYYY-MM-DD: text order is date order
		return nil
	}
	if err := st.SetMeta(ctx, lastWrittenKey, r.Day); err != nil {
		return fmt.Errorf("record report for %s: %w", r.Day, err)
	}
	return nil
}

// Last returns the newest day ("2006-01-02") whose complete report
// was written, and false when none was. A store last used by a version
// that noted only the nightly schedule's progress answers with that.
func Last(ctx context.Context, st MetaReader) (string, bool, error) {
	for _, key := range []string{lastWrittenKey, lastReportKey} {
		day, ok, err := st.Meta(ctx, key)
		if err != nil || ok {
			return day, ok, err
		}
	}
	return "", false, nil
}
