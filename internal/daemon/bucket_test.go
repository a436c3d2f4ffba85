package daemon_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/bucket"
	"github.com/docuparse/docuparse-ingest/internal/bucketemu"
	"github.com/docuparse/docuparse-ingest/internal/config"
	"github.com/docuparse/docuparse-ingest/internal/e2e"
	"github.com/docuparse/docuparse-ingest/internal/samples"
	"github.com/docuparse/docuparse-ingest/internal/sim"
	"github.com/docuparse/docuparse-ingest/internal/store"
	"github.com/docuparse/docuparse-ingest/internal/vocab"
)

// newBucketHarness is newHarness with a bucket source at the store's
// prefix "in/", and the bucket opened for the test to drop objects in.
func newBucketHarness(t *testing.T, s bucketemu.Store, simCfg sim.Config) (*harness, *bucket.Bucket) {
	t.Helper()
	h := &harness{dir: t.TempDir(), tr: e2e.NewTracker()}
	h.sim = e2e.StartSim(t, simCfg)
	cfg, err := config.Parse(strings.NewReader(h.sim.BucketConfig(h.dir, s.URL("in/"), "")), "e2e.toml", e2e.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	h.cfg = cfg
	b, err := bucket.Open(context.Background(), s.URL("in/"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return h, b
}

// TestEveryObjectDroppedInABucketEndsWithExactlyOneRow is the folder
// source's end-to-end promise for each cloud: N objects in under the
// prefix (some under nested "folders", some written twice in a row),
// exactly N rows and results out,
// no content uploaded twice, and objects outside the prefix ignored.
func TestEveryObjectDroppedInABucketEndsWithExactlyOneRow(t *testing.T) {
	for i, start := range bucketemu.All(t) {
		t.Run(bucketemu.Kinds[i], func(t *testing.T) {
			s := start(t)
			h, b := newBucketHarness(t, s, sim.Config{WebhookDuplicateRate: 0.2, Seed: 11})
			outside := samples.Generate(3, 99)
			for _, f := range outside {
				if err := b.Blob().WriteAll(context.Background(), "elsewhere/"+f.Name, f.Content, nil); err != nil {
					t.Fatal(err)
				}
			}
			h.start(t)
			files := e2e.DropObjects(t, b, samples.Generate(40, 5))
			// Four objects written twice in a row, as a slow writer or a
			// retried upload does: the last content is the object.
			for i, f := range samples.Generate(44, 6)[40:] {
				key := fmt.Sprintf("in/rewritten-%d-%s", i, f.Name)
				for _, content := range [][]byte{[]byte("%PDF-1.4 a first, partial write"), f.Content} {
					if err := b.Blob().WriteAll(context.Background(), key, content, nil); err != nil {
						t.Fatal(err)
					}
				}
				files = append(files, e2e.Dropped{File: f, Path: b.PathOf(key)})
			}
			h.tr.WaitFor(t, "all 44 objects exported", 90*time.Second, h.tr.AllEnded(files))
			e2e.CheckOutputs(t, h.cfg.OutputDir, files, h.sim.Server)
		})
	}
}

// TestABucketSourceSurvivesAStopMidRun stops the daemon while documents
// are queued, submitting and submitted, and starts it again on the same
// state: every object still ends with exactly one row, and nothing listed
// again after the restart is read or uploaded twice.
func TestABucketSourceSurvivesAStopMidRun(t *testing.T) {
	s := bucketemu.S3(t)
	h, b := newBucketHarness(t, s, sim.Config{ProcessingDelay: 300 * time.Millisecond, TimeScale: 0.0005, Seed: 3})
	d := h.start(t)
	files := e2e.DropObjects(t, b, samples.Generate(60, 9))
	h.tr.WaitFor(t, "some submissions", 60*time.Second, func() bool { return h.tr.Count(store.StateSubmitted) >= 15 })
	d.Stop()
	h.start(t)
	h.tr.WaitFor(t, "all objects exported after restart", 90*time.Second, h.tr.AllEnded(files))
	e2e.CheckOutputs(t, h.cfg.OutputDir, files, h.sim.Server)
}

// An object deleted, or written again with other bytes, while its
// document waits for the API is not uploaded as what it was: the deleted
// one's document is vanished, the replaced one's too, and the new version
// is a document of its own; the API never sees the old bytes.
func TestABucketObjectGoneOrReplacedBeforeItsUploadIsNotUploaded(t *testing.T) {
	s := bucketemu.S3(t)
	h, b := newBucketHarness(t, s, sim.Config{Seed: 4})
	if err := h.sim.SetFaults(sim.Faults{Down: true}); err != nil {
		t.Fatal(err)
	}
	h.start(t)
	files := e2e.DropObjects(t, b, samples.Generate(3, 8))
	gone, replaced, kept := files[0], files[1], files[2]
	h.tr.WaitFor(t, "all three queued", 30*time.Second, func() bool { return h.tr.Count(store.StateQueued) == 3 })
	ctx := context.Background()
	key := func(f e2e.Dropped) string { k, _ := b.KeyOf(f.Path); return k }
	if err := b.Blob().Delete(ctx, key(gone)); err != nil {
		t.Fatal(err)
	}
	newer := samples.Generate(4, 8)[3] // other bytes
	if err := b.Blob().WriteAll(ctx, key(replaced), newer.Content, nil); err != nil {
		t.Fatal(err)
	}
	if err := h.sim.SetFaults(sim.Faults{}); err != nil {
		t.Fatal(err)
	}
	second := e2e.Dropped{File: samples.File{Name: replaced.Name, Content: newer.Content}, Path: replaced.Path}
	h.tr.WaitFor(t, "the kept object and the new version exported, the others vanished", 60*time.Second, func() bool {
		return h.tr.Reached(gone.Path, store.StateVanished, 1) && h.tr.Reached(replaced.Path, store.StateVanished, 1) &&
			h.tr.Reached(replaced.Path, store.StateExported, 1) && h.tr.Ended(kept.Path)
	})
	e2e.CheckOutputs(t, h.cfg.OutputDir, []e2e.Dropped{second, kept}, h.sim.Server)
}

// A reload that changes a bucket source's settings, then its URL, then
// removes it, keeps taking objects from where the configuration says and
// stops where it no longer does.
func TestReloadChangesAndRemovesABucketSource(t *testing.T) {
	s := bucketemu.Mem(t)
	h, _ := newBucketHarness(t, s, sim.Config{})
	d := h.start(t)
	reload := func(edit func(*config.Config)) {
		c := *h.cfg
		c.Sources = append([]config.Source(nil), h.cfg.Sources...)
		edit(&c)
		if _, err := d.Reload(&c); err != nil {
			t.Fatal(err)
		}
	}
	drop := func(prefix string, seed int64) []e2e.Dropped {
		in, err := bucket.Open(context.Background(), s.URL(prefix))
		if err != nil {
			t.Fatal(err)
		}
		defer in.Close()
		return e2e.DropObjects(t, in, samples.Generate(2, seed))
	}
	reload(func(c *config.Config) { c.Sources[0].PollInterval = config.Duration(200 * time.Millisecond) })
	first := drop("in/", 1)
	h.tr.WaitFor(t, "objects after a settings change", 30*time.Second, h.tr.AllEnded(first))

	reload(func(c *config.Config) { c.Sources[0].URL = s.URL("in2/") })
	second := drop("in2/", 2)
	h.tr.WaitFor(t, "objects under the new prefix", 30*time.Second, h.tr.AllEnded(second))

	// Removed (replaced by another source): in2/ is no longer listed.
	reload(func(c *config.Config) { c.Sources[0].Name, c.Sources[0].URL = "other", s.URL("in3/") })
	orphans := drop("in2/", 3) // listed by nobody now
	third := drop("in3/", 4)
	h.tr.WaitFor(t, "objects of the new source", 30*time.Second, h.tr.AllEnded(third))
	for _, o := range orphans {
		// Dropped first, they would be queued by now if in2/ were listed.
		if trs := h.tr.Transitions(o.Path); len(trs) != 0 {
			t.Fatalf("%s, under the removed source's prefix, was taken: %+v", o.Path, trs)
		}
	}
	e2e.CheckOutputs(t, h.cfg.OutputDir, append(append(first, second...), third...), h.sim.Server)
}

// after = "move" on a bucket source, through the whole daemon: once its
// result is exported, each object is copied under processed/ (completed)
// or failed/ beside the prefix, and the original is deleted.
func TestABucketSourceMovesEachObjectOnceExported(t *testing.T) {
	s := bucketemu.S3(t)
	h, b := newBucketHarness(t, s, sim.Config{Seed: 12})
	h.cfg.Sources[0].After = vocab.AfterMove
	h.start(t)
	files := e2e.DropObjects(t, b, samples.Generate(12, 3))
	h.tr.WaitFor(t, "all exported", 60*time.Second, h.tr.AllEnded(files))
	e2e.CheckOutputs(t, h.cfg.OutputDir, files, h.sim.Server)
	ctx := context.Background()
	left := map[string]bool{}
	if _, err := b.List(ctx, "", true, func(page []bucket.Object) error {
		for _, o := range page {
			left[o.Key] = true
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	rows := map[string]string{}
	for _, r := range e2e.ReadCSV(t, h.cfg.OutputDir, "documents-*.csv") {
		rows[r["source"]] = r["status"]
	}
	for _, f := range files {
		key, _ := b.KeyOf(f.Path)
		rel := strings.TrimPrefix(key, "in/")
		want := "processed/" + rel
		if rows[f.Path] == "failed" {
			want = "failed/" + rel
		}
		if left[key] || !left[want] {
			t.Errorf("%s (%s): original there %v, %s there %v", key, rows[f.Path], left[key], want, left[want])
		}
		delete(left, want)
	}
	if len(left) != 0 {
		t.Errorf("objects nobody expects: %v", left)
	}
}
