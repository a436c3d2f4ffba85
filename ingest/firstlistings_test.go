package ingest

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/testwait"
)

// Files waiting at start — a tree found full — are taken one full group
// first (enough for the first batches), then intake waits until the folder
// sources' first listings are done, so that the listing does not share
// the CPU with hashing and recording; then it takes the rest.
func TestIntakeWaitsForTheFirstListingsAfterItsFirstFullGroup(t *testing.T) {
	var names []string
	for i := range maxIntakeGroup + 20 {
		names = append(names, fmt.Sprintf("f%03d.pdf", i))
	}
	r := newIntakeRig(t, map[string]bool{"inbox": true}, 0, nil)
	feed := feedAll(t, r, names, nil)
	listings := NewFirstListings()
	listed := listings.add()
	counter := &groupCounter{Store: r.st.Store}
	in := NewIntake(IntakeConfig{Store: counter, Sources: map[string]SourcePolicy{"inbox": {}}, FirstListings: listings}, feed)
	holding := make(chan struct{})
	in.holding = func() { close(holding) }
	in.Start(t.Context())
	t.Cleanup(in.Stop)

	select {
	case <-holding:
	case <-time.After(folderWait):
		t.Fatal("intake did not wait for the first listings")
	}
	if n := len(r.st.all(t)); n != maxIntakeGroup {
		t.Fatalf("%d files recorded while the first listing runs, want the first group's %d", n, maxIntakeGroup)
	}
	listed()
	testwait.OnSignal(t, r.st.wake, "every file recorded", func() bool { return len(r.st.all(t)) == len(names) })
	if sizes := counter.sizes(); !slices.Equal(sizes, []int{maxIntakeGroup, 20}) {
		t.Errorf("IntakeMany groups %v, want [%d 20]", sizes, maxIntakeGroup)
	}
}

// Intake does not wait when no first listing is pending: every listing
// registered is done, or none registered (bucket sources only).
func TestIntakeDoesNotWaitWithoutAFirstListingPending(t *testing.T) {
	for _, done := range []bool{true, false} {
		listings := NewFirstListings()
		if done {
			listings.add()()
		}
		if _, pending := listings.waiting(); pending {
			t.Fatalf("registered and done %v: a listing is pending", done)
		}
	}
	var nilListings *FirstListings
	nilListings.add()()
	if _, pending := nilListings.waiting(); pending {
		t.Fatal("a nil FirstListings has a listing pending")
	}
}

// A folder source says its first listing is done once it has listed its
// tree, and a source stopped before it ever listed says so too.
func TestFolderSaysWhenItsFirstListingIsDone(t *testing.T) {
	root := filepath.Join(t.TempDir(), "inbox")
	folderWrite(t, filepath.Join(root, "sub", "a.pdf"), "a")
	listings := NewFirstListings()
	listed := make(chan struct{}, 1)
	f, err := NewFolder(FolderConfig{Name: "inbox", Root: root, Recursive: true, Rescan: time.Hour, FirstListings: listings},
		make(chan Candidate, 1))
	if err != nil {
		t.Fatal(err)
	}
	never, err := NewFolder(FolderConfig{Name: "never", Root: root, FirstListings: listings}, make(chan Candidate))
	if err != nil {
		t.Fatal(err)
	}
	f.hooks.scanned = folderNotify(listed)
	done, _ := listings.waiting()
	if err := f.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Stop)
	<-listed
	never.Stop()
	select {
	case <-done:
	case <-time.After(folderWait):
		t.Fatal("the first listings were not said done")
	}
}

// A folder source whose Start fails (its folder is missing) will not list
// anything: it must not keep intake's one wait for the first listings
// going until intakeHoldMax (a source a reload could not start stays
// registered until a later reload stops it).
func TestAFolderThatFailsToStartIsNotWaitedFor(t *testing.T) {
	root := filepath.Join(t.TempDir(), "inbox")
	folderWrite(t, filepath.Join(root, "a.pdf"), "a")
	listings := NewFirstListings()
	f, err := NewFolder(FolderConfig{Name: "inbox", Root: root, FirstListings: listings}, make(chan Candidate))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Stop)
	if err := os.RemoveAll(root); err != nil {
		t.Fatal(err)
	}
	if err := f.Start(t.Context()); err == nil {
		t.Fatal("a folder source started on a missing folder")
	}
	if _, pending := listings.waiting(); pending {
		t.Fatal("intake would wait for the first listing of a source that failed to start")
	}
}
