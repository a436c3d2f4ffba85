package ingest

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/bucket"
	"github.com/docuparse/docuparse-ingest/internal/bucketemu"
	"github.com/docuparse/docuparse-ingest/internal/store"
)

// bucketRig is a bucket source and an intake on a real store, the
// candidates between them on a channel the test reads.
type bucketRig struct {
	st  *ingestStore
	b   *bucket.Bucket
	src *Bucket
	out chan Candidate
	in  *Intake
	cfg BucketConfig
}

func newBucketRig(t *testing.T, s bucketemu.Store, cfg BucketConfig) *bucketRig {
	t.Helper()
	b, err := bucket.Open(context.Background(), s.URL("in/"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	r := &bucketRig{st: openIngestStore(t, filepath.Join(t.TempDir(), "state.db"), nil), b: b, out: make(chan Candidate, 10000)}
	cfg.Name, cfg.Bucket, cfg.Store = "bkt", b, r.st.Store
	if cfg.Include == nil {
		cfg.Include = []string{"*.pdf", "*.csv"}
	}
	r.cfg = cfg
	r.restart(t)
	roots := NewRoots(nil, nil)
	roots.SetBuckets(map[string]*bucket.Bucket{"bkt": b})
	r.in = NewIntake(IntakeConfig{Store: r.st.Store, Roots: roots, Sources: map[string]SourcePolicy{"bkt": {Dedupe: true}}}, nil)
	return r
}

// restart replaces the source by a new one on the same store, as a
// restarted daemon has.
func (r *bucketRig) restart(t *testing.T) {
	t.Helper()
	src, err := NewBucket(r.cfg, r.out)
	if err != nil {
		t.Fatal(err)
	}
	r.src = src
}

func (r *bucketRig) put(t *testing.T, key, content string) {
	t.Helper()
	if err := r.b.Blob().WriteAll(context.Background(), key, []byte(content), nil); err != nil {
		t.Fatal(err)
	}
}

// list runs one listing and returns the candidates it handed over.
func (r *bucketRig) list(t *testing.T) []Candidate {
	t.Helper()
	if err := r.src.runOnce(context.Background()); err != nil {
		t.Fatalf("listing: %v", err)
	}
	var got []Candidate
	for {
		select {
		case c := <-r.out:
			got = append(got, c)
		default:
			return got
		}
	}
}

// takeAll hands candidates to intake, as the running Intake does.
func (r *bucketRig) takeAll(t *testing.T, cs []Candidate) {
	t.Helper()
	for _, c := range cs {
		if err := r.in.Take(context.Background(), c); err != nil {
			t.Fatalf("take %s: %v", c.Path, err)
		}
	}
}

func keysOf(cs []Candidate) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Path)
	}
	return out
}

func TestBucketTakesAnObjectOnceTwoListingsSawItUnchangedOrItIsOldEnough(t *testing.T) {
	r := newBucketRig(t, bucketemu.Mem(t), BucketConfig{Settle: time.Hour, Recursive: true})
	r.put(t, "in/a.pdf", "alpha")
	if got := r.list(t); len(got) != 0 {
		t.Fatalf("first sight of a young object: took %v", keysOf(got))
	}
	r.put(t, "in/a.pdf", "alpha, still being written")
	if got := r.list(t); len(got) != 0 {
		t.Fatalf("an object that changed between listings: took %v", keysOf(got))
	}
	got := r.list(t)
	if len(got) != 1 || got[0].Path != r.b.PathOf("in/a.pdf") || got[0].Size != 26 || got[0].Version == "" || got[0].Name != "a.pdf" {
		t.Fatalf("after two listings saw it unchanged: %+v", got)
	}

	old := newBucketRig(t, bucketemu.Mem(t), BucketConfig{Settle: 0, Recursive: true})
	old.put(t, "in/b.pdf", "bravo")
	if got := old.list(t); len(got) != 1 {
		t.Fatalf("an object older than settle is taken at once: %v", keysOf(got))
	}
}

func TestBucketListsOnlyWhatItShould(t *testing.T) {
	for _, recursive := range []bool{true, false} {
		t.Run(fmt.Sprint("recursive=", recursive), func(t *testing.T) {
			r := newBucketRig(t, bucketemu.Mem(t), BucketConfig{Recursive: recursive, Skip: []string{"in/processed/", "in/failed/"}})
			for _, k := range []string{"in/a.pdf", "in/b.CSV", "in/c.txt", "in/.hidden.pdf", "in/x.pdf.part", "in/sub/d.pdf",
				"in/.git/e.pdf", "in/processed/f.pdf", "in/failed/g.pdf", "in/folder/", "out/h.pdf", "inbox/i.pdf", "j.pdf"} {
				r.put(t, k, "content of "+k)
			}
			want := []string{"in/a.pdf", "in/b.CSV"}
			if recursive {
				want = append(want, "in/sub/d.pdf")
			}
			got := keysOf(r.list(t))
			for i, k := range want {
				want[i] = r.b.PathOf(k)
			}
			if strings.Join(got, " ") != strings.Join(want, " ") {
				t.Fatalf("took %v\nwant %v", got, want)
			}
		})
	}
}

// An object taken in is never handed over, read or remembered again while
// it is unchanged, across a restart; replaced under its key with other
// content it is a new document and the old one stays; the same content
// under another key is a duplicate.
func TestBucketTakesEachObjectVersionOnceAcrossRestarts(t *testing.T) {
	s := bucketemu.S3(t)
	r := newBucketRig(t, s, BucketConfig{Recursive: true})
	r.put(t, "in/a.pdf", "%PDF alpha")
	r.put(t, "in/sub/b.pdf", "%PDF bravo")
	r.takeAll(t, r.list(t))
	gets := s.Requests("get")
	if gets != 2 {
		t.Fatalf("%d object reads to take in 2 objects", gets)
	}
	for i := range 3 {
		if i == 1 {
			r.restart(t)
		}
		if got := r.list(t); len(got) != 0 {
			t.Fatalf("listing %d after intake handed over %v again", i, keysOf(got))
		}
	}
	if len(r.src.seen) != 0 || len(r.src.emitted) != 0 || s.Requests("get") != gets {
		t.Fatalf("known objects remembered (%d seen, %d emitted) or read again (%d reads)", len(r.src.seen), len(r.src.emitted), s.Requests("get")-gets)
	}

	r.put(t, "in/a.pdf", "%PDF alpha, second edition")
	r.put(t, "in/copy of b.pdf", "%PDF bravo")
	r.takeAll(t, r.list(t))
	docs := r.st.all(t)
	if len(docs) != 4 {
		t.Fatalf("%d documents, want 4: %+v", len(docs), docs)
	}
	byPath := map[string][]store.Document{}
	for _, d := range docs {
		byPath[d.Path] = append(byPath[d.Path], d)
	}
	a := byPath[r.b.PathOf("in/a.pdf")]
	if len(a) != 2 || a[0].SHA256 == a[1].SHA256 || a[0].FileID.Version == a[1].FileID.Version || a[0].State != store.StateQueued {
		t.Fatalf("the replaced object: %+v; want the old document kept and a new one for the new content", a)
	}
	if c := byPath[r.b.PathOf("in/copy of b.pdf")]; len(c) != 1 || c[0].State != store.StateDuplicate {
		t.Fatalf("the same content under another key: %+v; want a duplicate", c)
	}
}

// An object deleted, or replaced, between the listing and intake's read
// is not recorded as what was listed: gone, it is nothing to account
// for; replaced, the next listings take the new version.
func TestBucketObjectGoneOrReplacedBeforeItIsRead(t *testing.T) {
	for _, start := range []func(testing.TB) bucketemu.Store{bucketemu.S3, bucketemu.GCS, bucketemu.Mem} {
		s := start(t)
		t.Run(s.Kind, func(t *testing.T) {
			r := newBucketRig(t, s, BucketConfig{Recursive: true})
			r.put(t, "in/gone.pdf", "%PDF gone")
			r.put(t, "in/replaced.pdf", "%PDF first")
			cs := r.list(t)
			if err := r.b.Blob().Delete(context.Background(), "in/gone.pdf"); err != nil {
				t.Fatal(err)
			}
			r.put(t, "in/replaced.pdf", "%PDF second, longer")
			r.takeAll(t, cs)
			if docs := r.st.all(t); len(docs) != 0 {
				t.Fatalf("recorded %+v for objects gone or replaced before they were read", docs)
			}
			r.takeAll(t, r.list(t))
			docs := r.st.all(t)
			if len(docs) != 1 || docs[0].SHA256 != sha256Hex([]byte("%PDF second, longer")) {
				t.Fatalf("after the next listing: %+v; want the replacement only", docs)
			}
			if _, ok := r.src.emitted["in/gone.pdf"]; ok {
				t.Fatal("an object handed over, then deleted, is still remembered")
			}
		})
	}
}

// The first candidate leaves while the listing is still on its first
// pages: a prefix is never listed whole before anything is taken.
func TestBucketHandsOverObjectsBeforeTheListingEnds(t *testing.T) {
	r := newBucketRig(t, bucketemu.Mem(t), BucketConfig{Recursive: true})
	for i := range 2500 {
		r.put(t, fmt.Sprintf("in/%05d.pdf", i), "x")
	}
	out := make(chan Candidate) // unbuffered: each send waits for the test
	listed := make(chan BucketListing, 1)
	r.cfg.Listed = func(l BucketListing) { listed <- l }
	src, err := NewBucket(r.cfg, out)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- src.runOnce(context.Background()) }()
	<-out
	select {
	case l := <-listed:
		t.Fatalf("the listing ended (%+v) before the first object was taken", l)
	default:
	}
	for range 2499 {
		<-out
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if l := <-listed; l.Objects != 2500 || l.New != 2500 || l.Requests != 3 {
		t.Fatalf("listing %+v; want 2500 objects in 3 requests", l)
	}
}

// A bucket that cannot be listed makes Healthy fail naming it, keeps what
// was seen, and recovers by itself.
func TestBucketListingFailsThenRecovers(t *testing.T) {
	s := bucketemu.S3(t)
	r := newBucketRig(t, s, BucketConfig{Recursive: true, Settle: time.Hour})
	r.put(t, "in/a.pdf", "%PDF alpha")
	if got := r.list(t); len(got) != 0 || r.src.Healthy() != nil {
		t.Fatalf("first listing: %v, healthy %v", keysOf(got), r.src.Healthy())
	}
	s.SetFailing(true)
	err := r.src.runOnce(context.Background())
	herr := r.src.Healthy()
	if err == nil || herr == nil || !strings.Contains(herr.Error(), r.b.String()) {
		t.Fatalf("listing during an outage: %v; Healthy: %v", err, herr)
	}
	if strings.Contains(err.Error(), "test-secret-key") || strings.Contains(err.Error(), "endpoint=") {
		t.Fatalf("the error shows the URL's query or a credential: %v", err)
	}
	s.SetFailing(false)
	if got := r.list(t); len(got) != 1 || r.src.Healthy() != nil {
		t.Fatalf("after the outage: took %v (want a.pdf, seen before it), healthy %v", keysOf(got), r.src.Healthy())
	}
}

// Stop ends a listing blocked on handing an object over.
func TestBucketStopsWhileHandingOver(t *testing.T) {
	r := newBucketRig(t, bucketemu.Mem(t), BucketConfig{Recursive: true, PollInterval: time.Hour})
	r.put(t, "in/a.pdf", "x")
	r.put(t, "in/b.pdf", "y")
	out := make(chan Candidate)
	src, err := NewBucket(r.cfg, out)
	if err != nil {
		t.Fatal(err)
	}
	if err := src.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	<-out // the second send blocks until Stop
	src.Stop()
	src.Stop()
	if src.Running() || src.Start(context.Background()) == nil {
		t.Fatal("a stopped source runs, or starts again")
	}
}
