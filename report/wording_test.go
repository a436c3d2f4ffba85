package report

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/counters"
	"github.com/docuparse/docuparse-ingest/internal/store"
)

// The Markdown is read by a finance team: results by polling do not read as
// missed webhooks, API calls are named as uploads and attempts, not by
// counter names.
func TestReportWordingIsPlainForAFinanceReader(t *testing.T) {
	f := newRepFixture(t)
	utc := func(h, m int) time.Time { return time.Date(2026, 11, 27, h, m, 0, 0, time.UTC) }
	var ids []int64
	for _, p := range []string{"/in/a.pdf", "/in/b.pdf", "/in/c.pdf"} {
		ids = append(ids, f.at(utc(8, 0)).intake(p))
	}
	b := f.at(utc(8, 1)).submit(store.ModeBatch, "batch_one", ids, "doc_a", "doc_b", "doc_c")
	f.fatal(f.st.MarkSent(f.ctx, b))
	f.at(utc(8, 2)).webhookCompleted("doc_a", "EUR", "1.00", "0")
	f.webhookCompleted("doc_b", "EUR", "1.00", "0")
	f.webhookCompleted("doc_c", "EUR", "1.00", "0")
	f.fatal(f.st.AddCounters(f.ctx, "2026-11-27", map[string]int64{counters.APICallsPrefix + "submit_batch": 3,
		counters.APICallsPrefix + "get_document": 2}))
	md := string(f.report(utc(12, 0), Options{Location: time.UTC, Now: utc(23, 0).Add(2 * time.Hour)}).Markdown())
	for _, bad := range []string{"webhook missed", "api_calls_", "(UTC)", " UTC."} {
		if strings.Contains(md, bad) {
			t.Errorf("the report says %q:\n%s", bad, md)
		}
	}
	for _, good := range []string{"All 3 results from the API came by webhook.", "3 upload attempts for 1 batch (3 files)",
		"All times are in UTC (report.timezone)."} {
		if !strings.Contains(md, good) {
			t.Errorf("the report does not say %q:\n%s", good, md)
		}
	}
}

// With report.timezone = "Local" the report names one zone, never "UTC"
// beside "(Local)".
func TestReportInTheLocalZoneNamesOneZone(t *testing.T) {
	data, err := os.ReadFile("/usr/share/zoneinfo/Europe/Berlin")
	if err != nil {
		t.Skip("no zone data")
	}
	local, err := time.LoadLocationFromTZData("Local", data) // as time.Local is named
	if err != nil {
		t.Fatal(err)
	}
	f := newRepFixture(t)
	md := string(f.report(time.Date(2026, 11, 27, 12, 0, 0, 0, local), Options{Location: local,
		Now: time.Date(2026, 11, 28, 2, 0, 0, 0, local)}).Markdown())
	if strings.Contains(md, "(Local)") || strings.Contains(md, " CET") || !strings.Contains(md, "All times are in ") {
		t.Errorf("the report mixes zones:\n%s", md)
	}
}
