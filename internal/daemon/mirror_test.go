package daemon_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/bucket"
	"github.com/docuparse/docuparse-ingest/internal/bucketemu"
	"github.com/docuparse/docuparse-ingest/internal/e2e"
	"github.com/docuparse/docuparse-ingest/internal/samples"
	"github.com/docuparse/docuparse-ingest/internal/sim"
)

// TestOutputURLMirrorsEachResultOnce runs the daemon with output_url: each
// JSON result in the output directory appears once in the bucket, under
// the same path below the URL's prefix, with the same bytes.
func TestOutputURLMirrorsEachResultOnce(t *testing.T) {
	h := newHarness(t, sim.Config{Seed: 5}, "")
	raw := bucketemu.Mem(t).URL("erp/")
	h.cfg.OutputURL = raw
	h.start(t)
	files := e2e.DropAll(t, h.inbox, h.staging, samples.Generate(20, 5))
	h.tr.WaitFor(t, "all 20 files exported", 60*time.Second, h.tr.AllEnded(files))
	local := map[string]string{}
	root := filepath.Join(h.cfg.OutputDir, "results")
	if err := filepath.WalkDir(root, func(p string, de os.DirEntry, err error) error {
		if err != nil || de.IsDir() {
			return err
		}
		body, err := os.ReadFile(p)
		rel, _ := filepath.Rel(h.cfg.OutputDir, p)
		local[filepath.ToSlash(rel)] = string(body)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if len(local) != 20 {
		t.Fatalf("%d results in the output directory, want 20", len(local))
	}
	b, err := bucket.Open(context.Background(), raw)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	inBucket := func() map[string]string {
		got := map[string]string{}
		_, err := b.List(context.Background(), "erp/results/", true, func(page []bucket.Object) error {
			for _, o := range page {
				body, err := b.Blob().ReadAll(context.Background(), o.Key)
				if err != nil {
					return err
				}
				got[strings.TrimPrefix(o.Key, "erp/")] = string(body)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	// The mirror is woken by each export; its passes are not transitions,
	// so the bucket itself is watched until it holds them all.
	tick, deadline := time.NewTicker(50*time.Millisecond), time.After(60*time.Second)
	defer tick.Stop()
	for len(inBucket()) < 20 {
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatalf("the bucket holds %d of the 20 results", len(inBucket()))
		}
	}
	got := inBucket()
	for k, v := range local {
		if got[k] != v {
			t.Fatalf("bucket %s holds %q; the output directory %q", k, got[k], v)
		}
	}
	if len(got) != len(local) {
		t.Fatalf("bucket holds %d results, the output directory %d", len(got), len(local))
	}
}
