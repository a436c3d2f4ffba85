package report

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/store"
)

// retriedDay fills 2026-11-27 (UTC) with five files, four retries of
// three of them, and on the 28th one more retry of a file of the 27th.
//
//	a: completed
//	b: failed, retried as b2: completed
//	c: failed, retried as c2: failed, retried as c3: still queued
//	d: failed, not retried
//	e: stuck, retried (its row ends RESUBMITTED) as e2: failed, retried on
//	   the 28th as e3: completed
func retriedDay(t *testing.T) *repFixture {
	t.Helper()
	f := newRepFixture(t)
	utc := func(day, h int) time.Time { return time.Date(2026, 11, day, h, 0, 0, 0, time.UTC) }
	retry := func(id int64) int64 {
		n, err := f.st.Retry(f.ctx, id, store.RetryOptions{})
		f.fatal(err)
		return n
	}
	f.at(utc(27, 8))
	a, b, c, d, e := f.intake("/in/a.pdf"), f.intake("/in/b.pdf"), f.intake("/in/c.pdf"), f.intake("/in/d.pdf"), f.intake("/in/e.pdf")
	f.submit(store.ModeBatch, "batch_one", []int64{a, b, c, d, e}, "doc_a", "doc_b", "doc_c", "doc_d", "doc_e")
	f.at(utc(27, 9)).webhookCompleted("doc_a", "EUR", "10.00", "1.00")
	f.webhookFailed("doc_b", "EXTRACTION_FAILED", "unreadable")
	f.webhookFailed("doc_c", "EXTRACTION_FAILED", "unreadable")
	f.webhookFailed("doc_d", "EXTRACTION_FAILED", "unreadable")
	f.at(utc(27, 10))
	b2, c2, e2 := retry(b), retry(c), retry(e)
	f.submit(store.ModeBatch, "batch_two", []int64{b2, c2, e2}, "doc_b2", "doc_c2", "doc_e2")
	f.at(utc(27, 11)).webhookCompleted("doc_b2", "EUR", "20.00", "2.00")
	f.webhookFailed("doc_c2", "EXTRACTION_FAILED", "unreadable again")
	f.webhookFailed("doc_e2", "EXTRACTION_FAILED", "unreadable")
	f.at(utc(27, 12))
	retry(c2)
	f.at(utc(28, 9))
	e3 := retry(e2)
	f.submit(store.ModeSingle, "", []int64{e3}, "doc_e3")
	f.at(utc(28, 10)).webhookCompleted("doc_e3", "EUR", "5.00", "0.50")
	return f
}

// The report counts files, each once, by the outcome of its latest
// attempt, and lists the retries made that day separately.
func TestReportCountsFilesNotAttemptsAndListsRetries(t *testing.T) {
	f := retriedDay(t)
	now := time.Date(2026, 11, 29, 2, 0, 0, 0, time.UTC)
	r := f.report(time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC), Options{Location: time.UTC, Now: now})
	want := Accounting{Discovered: 5, Completed: 3, Failed: 1, Pending: 1, Balanced: true}
	if r.Accounting != want {
		t.Errorf("accounting = %+v\nwant %+v", r.Accounting, want)
	}
	if len(r.Retries) != 4 {
		t.Errorf("retries = %d, want 4 (b2, c2, c3, e2)", len(r.Retries))
	}
	if len(r.Failures) != 1 || len(r.Failures[0].Files) != 1 || r.Failures[0].Files[0].Path != "/in/d.pdf" {
		t.Errorf("failures = %+v, want d only", r.Failures)
	}
	if len(r.Money.Currencies) != 1 || r.Money.Currencies[0].Total != "35.00" {
		t.Errorf("money = %+v, want EUR 35.00 (a, b2, e3)", r.Money.Currencies)
	}
	md := string(r.Markdown())
	if !strings.Contains(md, "**5 files discovered: 3 completed, 1 failed") || !strings.Contains(md, "## Retries (4)") {
		t.Errorf("the Markdown does not count files and list retries:\n%s", md)
	}
	js, err := r.JSON()
	f.fatal(err)
	var j struct {
		SchemaVersion int `json:"schema_version"`
		Accounting    struct {
			Discovered int `json:"discovered"`
		} `json:"accounting"`
		Retries []struct {
			RetryOf int64 `json:"retry_of"`
		} `json:"retries"`
	}
	f.fatal(json.Unmarshal(js, &j))
	if j.SchemaVersion != 2 || j.Accounting.Discovered != 5 || len(j.Retries) != 4 || j.Retries[0].RetryOf == 0 {
		t.Errorf("JSON: %+v", j)
	}
	cs, err := r.CSV()
	f.fatal(err)
	if n := strings.Count(string(cs), `"retry"`); n != 4 {
		t.Errorf("CSV marks %d rows counted as retry, want 4:\n%s", n, cs)
	}

	next := f.report(time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC), Options{Location: time.UTC, Now: now})
	if next.Accounting.Discovered != 0 || !next.Accounting.Balanced || len(next.Retries) != 1 {
		t.Errorf("the next day: accounting %+v, %d retries; want 0 files and 1 retry", next.Accounting, len(next.Retries))
	}
}
