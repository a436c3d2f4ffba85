package store_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/cputime"
	"github.com/docuparse/docuparse-ingest/internal/docuparse"
	"github.com/docuparse/docuparse-ingest/internal/store"
)

// BenchmarkJournalEvents measures what group commit costs per delivery in
// the webhook journal, for groups of 1, 16 and 128 deliveries: the wall
// time (fsync included) and the process's CPU time, which is what the
// journal takes from the HTTP side on a small machine.
//
//	go test -run '^$' -bench JournalEvents -benchtime 1000x ./internal/store/
func BenchmarkJournalEvents(b *testing.B) {
	for _, group := range []int{1, 16, 128} {
		b.Run(fmt.Sprintf("group=%d", group), func(b *testing.B) {
			st, err := store.Open(context.Background(), filepath.Join(b.TempDir(), "state.db"), store.Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			ctx := context.Background()
			evs := make([]store.IncomingEvent, group)
			n := 0
			b.ReportAllocs()
			b.ResetTimer()
			start, cpu0 := time.Now(), cputime.Process()
			for range b.N {
				for k := range evs {
					body := fmt.Appendf(nil, `{"event":"document.completed","document_id":"doc_%d","timestamp":"2026-05-19T14:32:00Z","data":{"total":"1.00"}}`, n)
					sum := sha256.Sum256(body)
					evs[k] = store.IncomingEvent{DedupeKey: string(sum[:]), Type: docuparse.EventDocumentCompleted, DocumentID: fmt.Sprintf("doc_%d", n), Body: body}
					n++
				}
				if _, err := st.JournalEvents(ctx, evs); err != nil {
					b.Fatal(err)
				}
			}
			wall, cpu := time.Since(start), cputime.Process()-cpu0
			b.ReportMetric(float64(wall.Nanoseconds())/1000/float64(n), "µs/delivery")
			b.ReportMetric(float64(cpu.Nanoseconds())/1000/float64(n), "cpu-µs/delivery")
		})
	}
}
