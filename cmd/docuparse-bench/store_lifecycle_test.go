package main

import (
	"context"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/cputime"
	"github.com/docuparse/docuparse-ingest/internal/samples"
	"github.com/docuparse/docuparse-ingest/internal/store"
)

// BenchmarkStoreLifecycle measures the floor the store puts under the
// daemon's CPU per document: every call the daemon's parts make on the
// store for a document (intake's IntakeMany, the submitter's CreateBatch,
// MarkSent and RecordSubmission, the journal's JournalEvents, the
// applier's PendingEvents, parse and ApplyEvents, the exporter's
// MarkExported), durable as the daemon (synchronous=FULL, each
// transaction fsynced), and grouped more generously than the daemon
// groups them (2,000 files a group, one journal commit and one applier
// transaction for all of them): no HTTP, no file read, no result file,
// no CSV. The API's answers and webhook bodies are made before the timer
// runs. A pipeline around this store cannot spend less per document; the
// e2e benchmark's "0.75 of the naive client" is compared with it in
// docs/benchmarks.md.
//
//	go test -run '^$' -bench StoreLifecycle -benchtime 10x -count 3 ./cmd/docuparse-bench/
func BenchmarkStoreLifecycle(b *testing.B) {
	ctx := context.Background()
	dir := b.TempDir()
	inbox := filepath.Join(dir, "inbox")
	const perDir = 500
	if err := samples.WriteTree(inbox, b.N*storeGroup, perDir, treeSeed); err != nil {
		b.Fatal(err)
	}
	st, err := store.Open(ctx, filepath.Join(dir, "state.db"), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	mtime := time.Now().Add(-2 * time.Hour).Truncate(time.Second)
	var wall, cpu time.Duration
	for i := range b.N {
		files, err := statGroup(inbox, i*storeGroup, storeGroup, perDir, mtime)
		if err != nil {
			b.Fatal(err)
		}
		plan, err := planGroup(files, i*storeGroup)
		if err != nil {
			b.Fatal(err)
		}
		runtime.GC() // the plan's garbage is not the store's
		start, cpu0 := time.Now(), cputime.Process()
		if err := recordGroup(ctx, st, files, plan); err != nil {
			b.Fatal(err)
		}
		wall, cpu = wall+time.Since(start), cpu+cputime.Process()-cpu0
	}
	docs := float64(b.N * storeGroup)
	b.ReportMetric(float64(wall.Microseconds())/docs, "µs/doc")
	b.ReportMetric(float64(cpu.Microseconds())/docs, "cpu-µs/doc")
	b.ReportMetric(0, "ns/op")
}
