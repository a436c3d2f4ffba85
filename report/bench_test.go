package report

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/docuparse"
	"github.com/docuparse/docuparse-ingest/internal/store"
)

// benchDay fills a store with n documents discovered in one day, through
// the store's own transitions: most completed (by webhook, some by poll),
// some failed, rejected, duplicate and still pending, with exports.
func benchDay(b *testing.B, n int) (*repFixture, time.Time) {
	b.Helper()
	f := newRepFixture(b)
	day := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	step := 20 * time.Hour / time.Duration(n)
	const batchSize = 50
	var queued []int64
	flush := func() {
		if len(queued) == 0 {
			return
		}
		bt, err := f.st.CreateBatch(f.ctx, store.ModeBatch, queued)
		f.fatal(err)
		subs := make([]store.Submitted, len(queued))
		var evs []store.IncomingEvent
		for i, id := range queued {
			docID := fmt.Sprintf("doc_%d", id)
			subs[i] = store.Submitted{DocID: id, DocumentID: docID}
			var ev docuparse.Event
			switch id % 20 {
			case 0, 1: // still waiting
				continue
			case 2: // failed
				ev = docuparse.Event{Event: docuparse.EventDocumentFailed, DocumentID: docID, Error: &docuparse.Error{Code: "EXTRACTION_FAILED"}}
			case 3: // by poll, below
				continue
			default:
				ev = f.completedEvent(docID, []string{"EUR", "USD", "GBP"}[id%3], fmt.Sprintf("%d.%02d", id%5000-200, id%100), "19.00")
			}
			body, err := json.Marshal(ev)
			f.fatal(err)
			sum := sha256.Sum256(body)
			evs = append(evs, store.IncomingEvent{DedupeKey: hex.EncodeToString(sum[:]), Type: ev.Event, DocumentID: docID, Body: body})
		}
		f.fatal(f.st.RecordSubmitted(f.ctx, bt.ID, fmt.Sprintf("batch_%d", bt.ID), nil, subs))
		_, err = f.st.JournalEvents(f.ctx, evs)
		f.fatal(err)
		f.apply()
		for _, id := range queued {
			if id%20 == 3 {
				f.polled(fmt.Sprintf("doc_%d", id), "EUR", "10.00", "1.90")
			}
		}
		queued = queued[:0]
	}
	for i := 0; i < n; i++ {
		f.at(day.Add(time.Duration(i) * step))
		p := fmt.Sprintf("/srv/invoices/inbox/2026/11/invoice-%05d.pdf", i)
		switch i % 50 {
		case 7:
			f.reject(p, "UNSUPPORTED_MEDIA_TYPE", "only PDF and CSV files are accepted")
			continue
		case 8:
			f.intake(p, fmt.Sprintf("sha-%d", i-1)) // a copy of the file before: a duplicate
			continue
		}
		queued = append(queued, f.intake(p, fmt.Sprintf("sha-%d", i)))
		if len(queued) == batchSize {
			flush()
		}
	}
	flush()
	return f, day
}

// BenchmarkBuildReport10k builds (and renders) the report of a day with
// 10,000 documents.
func BenchmarkBuildReport10k(b *testing.B) {
	f, day := benchDay(b, 10_000)
	o := Options{Now: day.Add(26 * time.Hour)}
	b.Run("build", func(b *testing.B) {
		for b.Loop() {
			if _, err := Build(f.ctx, f.st, day, o); err != nil {
				b.Fatal(err)
			}
		}
	})
	r, err := Build(f.ctx, f.st, day, o)
	if err != nil {
		b.Fatal(err)
	}
	if r.Accounting.Discovered != 10_000 || !r.Accounting.Balanced {
		b.Fatalf("accounting = %+v", r.Accounting)
	}
	b.Run("render", func(b *testing.B) {
		for b.Loop() {
			_ = r.Markdown()
			if _, err := r.JSON(); err != nil {
				b.Fatal(err)
			}
			if _, err := r.CSV(); err != nil {
				b.Fatal(err)
			}
		}
	})
}
