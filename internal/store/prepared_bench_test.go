package store

import (
	"context"
	"testing"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/cputime"
)

// BenchmarkApplyEvents measures what applying a group of 256
// document.completed events costs per event (the applier's transaction:
// claim, the document, its result, the batch, the event's status; fsync
// included), with the per-event statements prepared once (prepared) and,
// as before, compiled for every event (compiled), in one invocation. Each
// iteration applies one group; the documents are set up untimed.
//
//	go test -run '^$' -bench ApplyEvents -benchtime 20x -count 3 ./internal/store/
func BenchmarkApplyEvents(b *testing.B) {
	for _, mode := range []string{"prepared", "compiled"} {
		b.Run(mode, func(b *testing.B) {
			s, _ := setup(b)
			if mode == "compiled" {
				s.prepared = nil
			}
			ctx := context.Background()
			var wall, cpu time.Duration
			n := 0
			for i := range b.N {
				actions := submittedDocs(b, s, i*256, 256)
				start, cpu0 := time.Now(), cputime.Process()
				got, err := s.ApplyEvents(ctx, actions)
				wall, cpu = wall+time.Since(start), cpu+cputime.Process()-cpu0
				if err != nil || got != 256 {
					b.Fatalf("ApplyEvents = %d, %v", got, err)
				}
				n += got
			}
			b.ReportMetric(float64(wall.Nanoseconds())/1000/float64(n), "µs/event")
			b.ReportMetric(float64(cpu.Nanoseconds())/1000/float64(n), "cpu-µs/event")
			b.ReportMetric(0, "ns/op")
		})
	}
}
