package sourcestate

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/testclock"
)

func read(t *testing.T, dir string) map[string]Listing {
	t.Helper()
	s, err := Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	if s.PID != os.Getpid() {
		t.Fatalf("pid %d; want this process's", s.PID)
	}
	return s.Sources
}

// A failure, its end and a change of the object count are written at
// once; a listing that changed only its time is written at most every
// MinInterval (and by Flush); Retain drops removed sources.
func TestListingsAreWrittenWhenTheyChangeAndAtMostEveryFewSeconds(t *testing.T) {
	dir := t.TempDir()
	clock := testclock.New(time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC))
	if got, err := Read(dir); err != nil || len(got.Sources) != 0 {
		t.Fatalf("absent file: %+v, %v; want no source", got, err)
	}
	r := New(Options{Dir: dir, Now: clock.Now})
	if got := read(t, dir); len(got) != 0 {
		t.Fatalf("a new recorder wrote %+v; want no source", got)
	}
	t0 := clock.Now()
	r.Listed("a", "s3://bkt/in/", t0, 10, nil)
	if got := read(t, dir)["a"]; got.Objects != 10 || got.LastSuccess == nil || !got.LastSuccess.Equal(t0) || got.Bucket != "s3://bkt/in/" {
		t.Fatalf("first listing written as %+v", got)
	}
	clock.Advance(time.Second)
	r.Listed("a", "s3://bkt/in/", clock.Now(), 10, nil)
	if got := read(t, dir)["a"]; !got.LastSuccess.Equal(t0) {
		t.Fatalf("an unchanged listing 1s later was written: %+v", got)
	}
	clock.Advance(time.Second)
	r.Listed("a", "s3://bkt/in/", clock.Now(), 0, errors.New("list s3://bkt/in/: connection refused"))
	failed := read(t, dir)["a"]
	if failed.Error == "" || failed.Errors != 1 || failed.FailingSince == nil || failed.Objects != 10 || !failed.LastSuccess.Equal(t0.Add(time.Second)) {
		t.Fatalf("failure written as %+v; want the error, since when, and the last success kept", failed)
	}
	clock.Advance(time.Second)
	r.Listed("a", "s3://bkt/in/", clock.Now(), 0, errors.New("list s3://bkt/in/: connection refused"))
	if got := r.Listings()["a"]; got.Errors != 2 || !got.FailingSince.Equal(*failed.FailingSince) {
		t.Fatalf("second failure: %+v; want 2 errors, failing since the first", got)
	}
	clock.Advance(time.Second)
	r.Listed("a", "s3://bkt/in/", clock.Now(), 11, nil)
	if got := read(t, dir)["a"]; got.Error != "" || got.FailingSince != nil || got.Objects != 11 || got.Errors != 2 {
		t.Fatalf("recovery written as %+v", got)
	}
	clock.Advance(time.Second)
	r.Listed("a", "s3://bkt/in/", clock.Now(), 11, nil)
	r.Flush()
	if got := read(t, dir)["a"]; !got.LastSuccess.Equal(clock.Now()) {
		t.Fatalf("Flush did not write the held listing: %+v", got)
	}
	clock.Advance(MinInterval)
	r.Listed("b", "gs://b/", clock.Now(), 1, nil)
	clock.Advance(MinInterval)
	r.Listed("a", "s3://bkt/in/", clock.Now(), 11, nil)
	if got := read(t, dir)["a"]; !got.LastSuccess.Equal(clock.Now()) {
		t.Fatalf("an unchanged listing after MinInterval was not written: %+v", got)
	}
	r.Retain([]string{"b"})
	if got := read(t, dir); len(got) != 1 || got["b"].Objects != 1 {
		t.Fatalf("after Retain(b): %+v", got)
	}
	if fi, err := os.Stat(filepath.Join(dir, FileName)); err != nil || fi.Mode().Perm() != 0o640 {
		t.Fatalf("file mode %v, %v; want 0640", fi.Mode(), err)
	}
}
