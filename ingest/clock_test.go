package ingest

import (
	"testing"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/store"
	"github.com/docuparse/docuparse-ingest/internal/testclock"
)

// A wall clock stepped back an hour while a partial batch waits must not
// hold the batch for that hour: max_wait is elapsed time.
func TestSubmitterSendsAPartialBatchAfterMaxWaitDespiteAClockSteppedBack(t *testing.T) {
	r := newSubRig(t, true, subRigOpts{})
	ids := r.queue(t, "a.pdf")
	clock := testclock.New(r.st.get(t, ids[0]).DiscoveredAt)
	s := r.submitter(t, r.client(t, subAPIKey, 2), func(cfg *SubmitterConfig) {
		cfg.Limits = BatchLimits{MaxFiles: 2, MaxWait: time.Minute}
		cfg.Now, cfg.Mono = clock.Now, clock.Mono
	})
	t.Cleanup(s.Stop)

	if _, err := s.runOnce(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := r.st.get(t, ids[0]).State; got != store.StateQueued {
		t.Fatalf("a lone file is %s before max_wait, want queued", got)
	}

	clock.Advance(30 * time.Second)
	clock.Step(-time.Hour)
	if _, err := s.runOnce(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := r.st.get(t, ids[0]).State; got != store.StateQueued {
		t.Fatalf("a lone file is %s 30 s into max_wait, want queued", got)
	}

	clock.Advance(30 * time.Second)
	if _, err := s.runOnce(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := r.st.get(t, ids[0]).State; got == store.StateQueued {
		t.Fatalf("a lone file is still queued once max_wait has passed (the wall clock was stepped back an hour meanwhile)")
	}
	r.waitIn(t, store.StateSubmitted, ids[0])
}
