package store

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkKnownPage compares the two ways a bucket source can ask which
// of a listed page's 1,000 objects were taken in already, against a store
// of 100,000 documents: one Known query per object (as before KnownMany)
// and one KnownMany query per page. ns/op is one page.
func BenchmarkKnownPage(b *testing.B) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(b.TempDir(), "state.db"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	const total, page = 100_000, 1000
	var files []KnownFile
	for start := 0; start < total; start += page {
		seed := make([]NewFile, 0, page)
		for i := start; i < start+page; i++ {
			f := NewFile{Source: "bench", Path: fmt.Sprintf("s3://bkt/in/d%02d/obj-%07d.pdf", i%50, i), FileName: "x.pdf",
				Size: int64(i), ModTime: time.Unix(1700000000, int64(i)), FileID: FileID{Version: fmt.Sprintf("etag:%d", i)}}
			seed = append(seed, f)
			if len(files) < 10*page {
				files = append(files, KnownFile{Path: f.Path, Size: f.Size, ModTime: f.ModTime, FileID: f.FileID})
			}
		}
		if err := s.SeedExported(ctx, seed, "BENCH", "seeded"); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("known-per-object", func(b *testing.B) {
		for i := range b.N {
			for _, f := range files[i%10*page : i%10*page+page] {
				if ok, err := s.Known(ctx, "bench", f.Path, f.Size, f.ModTime, f.FileID); err != nil || !ok {
					b.Fatalf("%s: %v, %v", f.Path, ok, err)
				}
			}
		}
	})
	b.Run("known-many-per-page", func(b *testing.B) {
		for i := range b.N {
			known, err := s.KnownMany(ctx, "bench", files[i%10*page:i%10*page+page])
			if err != nil || len(known) != page || !known[0] || !known[page-1] {
				b.Fatalf("%d answers, %v", len(known), err)
			}
		}
	})
}
