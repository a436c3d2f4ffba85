package ingest

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/store"
)

func TestEmittedSetAnswersForPathsItKeepsNoneOf(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_700_000_000, 0)
	sig := settleSig{size: 10, mtime: now, id: store.FileID{Dev: 1, Inode: 7, ChangeTime: now}}
	tr := newSettleTracker(time.Second)
	tr.markEmitted("/in/a.pdf", sig)
	tr.markEmitted("/b.pdf", sig)

	for _, c := range []struct {
		dir, name string
		want      bool
	}{
		{"/in", "a.pdf", true}, {"/in/", "a.pdf", true}, {"/", "b.pdf", true},
		{"/in", "b.pdf", false}, {"/", "a.pdf", false},
	} {
		if got := tr.knownAt(c.dir, c.name); got != c.want {
			t.Errorf("knownAt(%q, %q) = %v, want %v", c.dir, c.name, got, c.want)
		}
	}
	if !tr.emitted.same("/in/a.pdf", sig) {
		t.Error("a file handed on is not known with its signature")
	}
	changed := sig
	changed.id.ChangeTime = now.Add(time.Nanosecond)
	if tr.emitted.same("/in/a.pdf", changed) {
		t.Error("a changed file passes for the one handed on")
	}
	if tr.emitted.same("/in/c.pdf", sig) {
		t.Error("another path with the same signature passes for handed on")
	}
}

// The table of directories holds only directories with files handed on:
// one emptied by forget, forgetUnder or a sweep is dropped, and its slot
// reused, so a daemon that sees folders come and go for months does not
// grow.
func TestEmittedSetDropsDirectoriesWithTheirLastFile(t *testing.T) {
	t.Parallel()
	sig := settleSig{size: 1}
	tr := newSettleTracker(time.Second)
	for round := range 20 {
		for d := range 5 {
			for i := range 3 {
				tr.markEmitted(fmt.Sprintf("/in/r%d/d%d/f%d", round, d, i), sig)
			}
		}
		tr.markEmitted(fmt.Sprintf("/in/r%d/d0/f0", round), sig) // again: no second count
		// One directory's files one by one, one directory whole, the
		// rest by a sweep that listed them and saw nothing.
		for i := range 3 {
			tr.forget(fmt.Sprintf("/in/r%d/d0/f%d", round, i))
		}
		tr.forgetUnder(fmt.Sprintf("/in/r%d/d1", round))
		tr.beginSweep()
		for d := 2; d < 5; d++ {
			tr.listed(fmt.Sprintf("/in/r%d/d%d", round, d))
		}
		tr.endSweep(func(string) bool { t.Fatal("asked about a folder listed whole"); return true })
		if n, dirs := len(tr.emitted.files), len(tr.emitted.dirIndex); n != 0 || dirs != 0 {
			t.Fatalf("round %d: %d files and %d folders kept, want none", round, n, dirs)
		}
	}
	if n := len(tr.emitted.dirs); n > 5 {
		t.Fatalf("%d folder slots for at most 5 folders at a time", n)
	}
}

// The sweep generation skips 0 when it wraps: 0 is a folder's "never
// listed whole", so a folder never listed must not pass for listed then.
func TestSweepGenerationSkipsZeroWhenItWraps(t *testing.T) {
	t.Parallel()
	tr := newSettleTracker(time.Second)
	tr.gen = math.MaxUint32
	tr.markEmitted("/in/unlisted/a", settleSig{size: 1})
	tr.beginSweep()
	if tr.gen != 1 {
		t.Fatalf("generation %d after wrapping, want 1", tr.gen)
	}
	asked := false
	tr.endSweep(func(string) bool { asked = true; return true })
	if !asked || !tr.known("/in/unlisted/a") {
		t.Fatalf("asked about the folder never listed: %v; file kept: %v", asked, tr.known("/in/unlisted/a"))
	}
}
