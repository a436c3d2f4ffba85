package ingest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/bucket"
	"github.com/docuparse/docuparse-ingest/internal/bucketemu"
	"github.com/docuparse/docuparse-ingest/internal/store"
)

// benchObjectsEnv sets how many objects BenchmarkBucketListing lists. The
// default keeps one iteration's setup within seconds (CI runs benchmarks
// with -benchtime 1x); the figure is measured with
// DOCUPARSE_BENCH_OBJECTS=100000 (see docs/benchmarks.md).
const benchObjectsEnv = "DOCUPARSE_BENCH_OBJECTS"

func benchObjects(b *testing.B) int {
	v := os.Getenv(benchObjectsEnv)
	if v == "" {
		return 10_000
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		b.Fatalf("%s=%q: want a positive number of objects", benchObjectsEnv, v)
	}
	return n
}

// BenchmarkBucketListing measures the pass every poll of a bucket source
// pays in the steady state: a prefix of N objects, every one already taken
// in (its row in a real SQLite store), listed page by page with change
// detection and nothing handed to intake. It reports, per pass, the list
// requests and the heap the pass allocated; ns/op is the time of a pass.
// The whole daemon's figure (docs/benchmarks.md) comes from
// cmd/docuparse-bench-bucket; this explains it.
func BenchmarkBucketListing(b *testing.B) {
	n := benchObjects(b)
	for _, kind := range []string{"mem", "s3"} {
		b.Run(fmt.Sprintf("%s/%d", kind, n), func(b *testing.B) {
			var s bucketemu.Store
			if kind == "mem" {
				s = bucketemu.Mem(b)
			} else {
				s = bucketemu.S3(b)
			}
			benchListing(b, s, n)
		})
	}
}

// BenchmarkBucketListOnly is BenchmarkBucketListing's baseline: the same
// prefix listed page by page with no change detection (no store, no
// patterns), what any client pays to list it.
func BenchmarkBucketListOnly(b *testing.B) {
	n := benchObjects(b)
	for _, kind := range []string{"mem", "s3"} {
		b.Run(fmt.Sprintf("%s/%d", kind, n), func(b *testing.B) {
			var s bucketemu.Store
			if kind == "mem" {
				s = bucketemu.Mem(b)
			} else {
				s = bucketemu.S3(b)
			}
			ctx := context.Background()
			bkt, err := bucket.Open(ctx, s.URL("in/"))
			if err != nil {
				b.Fatal(err)
			}
			defer bkt.Close()
			fillBucket(b, bkt, n)
			var reqs int
			b.ResetTimer()
			for range b.N {
				got := 0
				r, err := bkt.List(ctx, bkt.Prefix, true, func(page []bucket.Object) error {
					got += len(page)
					return nil
				})
				if err != nil || got != n {
					b.Fatalf("listed %d, %v; want %d", got, err, n)
				}
				reqs += r
			}
			b.ReportMetric(float64(reqs)/float64(b.N), "requests/pass")
		})
	}
}

func benchListing(b *testing.B, s bucketemu.Store, n int) {
	ctx := context.Background()
	bkt, err := bucket.Open(ctx, s.URL("in/"))
	if err != nil {
		b.Fatal(err)
	}
	defer bkt.Close()
	fillBucket(b, bkt, n)
	st, err := store.Open(ctx, filepath.Join(b.TempDir(), "state.db"), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	seedKnown(b, st, bkt)

	listed := make(chan BucketListing, 1)
	out := make(chan Candidate)
	src, err := NewBucket(BucketConfig{Name: "bench", Bucket: bkt, Recursive: true, PollInterval: time.Hour, Store: st,
		Listed: func(l BucketListing) { listed <- l }}, out)
	if err != nil {
		b.Fatal(err)
	}
	if err := src.Start(ctx); err != nil {
		b.Fatal(err)
	}
	defer src.Stop()
	first := <-listed // the first listing, at start
	if first.Err != nil || first.Objects != n || first.New != 0 {
		b.Fatalf("first listing: %+v; want %d objects, none new", first, n)
	}
	var reqs int
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	for range b.N {
		src.Rescan()
		l := <-listed
		if l.Err != nil || l.Objects != n || l.New != 0 {
			b.Fatalf("listing: %+v; want %d objects, none new", l, n)
		}
		reqs += l.Requests
	}
	b.StopTimer()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(reqs)/float64(b.N), "requests/pass")
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(b.N)/(1<<20), "MiB-allocated/pass")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/object")
}

// fillBucket writes n small objects under the prefix, some under nested
// "folders", eight at a time.
func fillBucket(b *testing.B, bkt *bucket.Bucket, n int) {
	ctx := context.Background()
	keys := make(chan int)
	errs := make(chan error, 8)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for i := range keys {
				key := fmt.Sprintf("%sd%02d/obj-%07d.pdf", bkt.Prefix, i%50, i)
				if err := bkt.Blob().WriteAll(ctx, key, []byte("%PDF-1.4 "+strconv.Itoa(i)), nil); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	for i := range n {
		select {
		case keys <- i:
		case err := <-errs:
			close(keys)
			wg.Wait()
			b.Fatal(err)
		}
	}
	close(keys)
	wg.Wait()
	select {
	case err := <-errs:
		b.Fatal(err)
	default:
	}
}

// seedKnown records every object of the bucket as a document of source
// "bench", as intake would have (Path, size, modification time and
// version from the listing), ended and exported: the state after the
// first pass took them in. One transaction per page (store.SeedExported).
func seedKnown(b *testing.B, st *store.Store, bkt *bucket.Bucket) {
	ctx := context.Background()
	_, err := bkt.List(ctx, bkt.Prefix, true, func(page []bucket.Object) error {
		files := make([]store.NewFile, 0, len(page))
		for _, o := range page {
			files = append(files, store.NewFile{Source: "bench", Path: bkt.PathOf(o.Key), FileName: filepath.Base(o.Key),
				Size: o.Size, ModTime: o.ModTime, FileID: store.FileID{Version: o.Version}})
		}
		return st.SeedExported(ctx, files, "BENCH", "seeded as known")
	})
	if err != nil {
		b.Fatal(err)
	}
}
