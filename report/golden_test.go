package report

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/counters"
	"github.com/docuparse/docuparse-ingest/internal/docuparse"
	"github.com/docuparse/docuparse-ingest/internal/store"
)

// busyDay fills a store with one day, 2026-11-27 in Europe/Berlin (UTC+1,
// so 2026-11-26T23:00Z to 2026-11-27T23:00Z), that has a bit of
// everything, and files just outside it on both sides.
func busyDay(t *testing.T) (*repFixture, time.Time, Options) {
	t.Helper()
	f := newRepFixture(t)
	utc := func(day, h, m int) time.Time { return time.Date(2026, 11, day, h, m, 0, 0, time.UTC) }
	start := utc(26, 23, 0)
	end := utc(27, 23, 0)

	f.at(start.Add(-time.Microsecond)).intake("/in/yesterday.pdf")
	f.deliver(docuparse.Event{Event: docuparse.EventDocumentCompleted, DocumentID: "doc_old"}) // an orphan of the day before
	a := f.at(start).intake("/in/a.pdf", "content-a")
	stuck := f.at(utc(26, 23, 30)).intake("/in/stuck.pdf")
	f.at(utc(27, 0, 30)).submit(store.ModeSingle, "", []int64{stuck}, "doc_stuck")
	f.fatal(f.st.RecordPoll(f.ctx, stuck, utc(27, 7, 0), "NOT_FOUND: the API does not know this document"))

	// Batch one: a, b, c, d. b's webhook never comes; polling finds it.
	f.at(utc(27, 8, 0))
	b, c, d := f.intake("/in/b.pdf"), f.intake("/in/c.pdf"), f.intake("/in/d.pdf")
	f.at(utc(27, 8, 5)).submit(store.ModeBatch, "batch_one", []int64{a, b, c, d}, "doc_a", "doc_b", "doc_c", "doc_d")
	f.at(utc(27, 8, 10)).webhookCompleted("doc_a", "EUR", "3850.00", "731.50")
	f.webhookCompleted("doc_c", "usd", "100", "0")
	f.webhookFailed("doc_d", "EXTRACTION_FAILED", "Could not read the document")
	f.at(utc(27, 8, 11)).webhookCompleted("doc_a", "EUR", "3850.00", "731.50") // a retry with a new timestamp: duplicate
	f.webhookFailed("doc_a", "EXTRACTION_FAILED", "late and wrong")            // conflict
	f.at(utc(27, 9, 0)).polled("doc_b", "EUR", "-12.5", "-2.38")               // a credit note
	f.at(utc(27, 9, 30)).deliver(docuparse.Event{Event: docuparse.EventBatchCompleted, BatchID: "batch_one",
		Summary: &docuparse.Summary{Total: 4, Succeeded: 4}})
	f.apply()

	// Batch two: done, but its batch.completed never comes. j's amounts
	// cannot be read.
	f.at(utc(27, 9, 40))
	e2, j := f.intake("/in/e2.pdf"), f.intake("/in/j.pdf")
	f.submit(store.ModeBatch, "batch_two", []int64{e2, j}, "doc_e2", "doc_j")
	f.at(utc(27, 10, 0)).webhookCompleted("doc_e2", "GBP", "12.00", "2.00")
	f.webhookCompletedRaw("doc_j", `{"currency":"EUR","total":"12,50","tax":2.1}`)

	// A copy of a, exported with a; a file that vanished; local and API
	// refusals.
	dup := f.at(utc(27, 11, 0)).intake("/in/copy of a.pdf", "content-a")
	f.at(utc(27, 12, 0)).export(a, dup)
	g := f.intake("/in/g.pdf")
	f.finish(store.StateVanished, "", "", g)
	f.reject("/in/notes.txt", "UNSUPPORTED_MEDIA_TYPE", "only PDF and CSV files are accepted")
	big := f.intake("/in/big.pdf")
	bigBatch, err := f.st.CreateBatch(f.ctx, store.ModeSingle, []int64{big})
	f.fatal(err)
	f.finish(store.StateRejected, "FILE_TOO_LARGE", "File exceeds the 10 MB limit", bigBatch.Documents[0].ID)

	// Deliveries the daemon cannot use.
	f.at(utc(27, 13, 0)).deliver(docuparse.Event{Event: "document.archived", DocumentID: "doc_a"})
	f.deliverDead(`{"event":`, "unparseable: unexpected end of JSON input")
	f.deliver(docuparse.Event{Event: docuparse.EventDocumentCompleted, DocumentID: "doc_ghost", Data: json.RawMessage(`{}`)})
	f.apply()

	// Still pending at the end of the day.
	f.at(utc(27, 20, 0)).intake("/in/h.pdf")
	sub := f.at(utc(27, 21, 0)).intake("/in/sub.pdf")
	f.submit(store.ModeSingle, "", []int64{sub}, "doc_sub")
	f.at(end.Add(-time.Microsecond)).intake("/in/last.pdf")
	f.deliver(docuparse.Event{Event: docuparse.EventDocumentCompleted, DocumentID: "doc_sub", Data: json.RawMessage(`{}`)}) // journaled, not applied yet

	// The next day.
	f.at(end).intake("/in/tomorrow.pdf")
	f.at(end).deliver(docuparse.Event{Event: "document.archived", DocumentID: "doc_b"})

	f.fatal(f.st.AddCounters(f.ctx, "2026-11-27", map[string]int64{counters.WebhookBadSignature: 3, counters.WebhookTooLarge: 1}))
	f.fatal(f.st.AddCounters(f.ctx, "2026-11-27", map[string]int64{counters.WebhookBadSignature: 1}))
	f.fatal(f.st.AddCounters(f.ctx, "2026-11-27", map[string]int64{counters.APICallsPrefix + "get_document": 12, counters.APICallsPrefix + "submit_batch": 3}))
	f.fatal(f.st.AddCounters(f.ctx, "2026-11-26", map[string]int64{counters.WebhookBadRequest: 7}))

	o := Options{Location: mustLocation(t, "Europe/Berlin"), Now: utc(28, 1, 0)}
	return f, utc(27, 12, 0), o
}

func TestReportOfABusyDayMatchesTheGoldenFiles(t *testing.T) {
	f, day, o := busyDay(t)
	r := f.report(day, o)
	a := r.Accounting
	want := Accounting{Discovered: 14, Completed: 5, Failed: 1, Rejected: 2, Duplicate: 1, Vanished: 1, Pending: 4, Balanced: true}
	if a != want {
		t.Errorf("accounting = %+v\nwant %+v", a, want)
	}
	w := r.Webhooks
	if w.Received != 12 || w.Applied != 6 || w.Duplicate != 1 || w.Conflict != 1 || w.Dead != 2 || w.Orphan != 1 || w.Pending != 1 {
		t.Errorf("webhooks = %+v, want 12 received: 6 applied, 1 duplicate, 1 conflict, 2 dead, 1 orphan, 1 pending", w)
	}
	if len(r.Stuck) != 1 || r.Stuck[0].DocumentID != "doc_stuck" {
		t.Errorf("stuck = %+v, want doc_stuck only", r.Stuck)
	}
	if r.ResultsVia != (ResultsVia{Webhook: 5, Poll: 1}) {
		t.Errorf("results via = %+v, want 5 by webhook, 1 by poll", r.ResultsVia)
	}
	js, err := r.JSON()
	if err != nil {
		t.Fatal(err)
	}
	cs, err := r.CSV()
	if err != nil {
		t.Fatal(err)
	}
	checkReportGolden(t, "busy.md", r.Markdown())
	checkReportGolden(t, "busy.json", js)
	checkReportGolden(t, "busy.csv", cs)
}
