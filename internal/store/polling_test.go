package store

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/testclock"
)

// clockedStore opens a store whose clock reads a fixed time, and returns
// that time: every time it stores is exactly it.
func clockedStore(t *testing.T) (*Store, time.Time) {
	t.Helper()
	at := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "state.db"), Options{Now: testclock.New(at).Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, at
}

// A stored time further ahead of now than it can be was written before the
// wall clock was stepped back: the document is due now rather than after
// the step. Within the bounds nothing changes.
func TestDueForPollTakesATimeTooFarAheadAsAClockSteppedBack(t *testing.T) {
	s, sub := clockedStore(t)
	ctx := context.Background()
	id := docIn(t, s, 1, "submitted")
	const grace, maxInterval = 5 * time.Minute, 30 * time.Minute
	check := func(what string, now time.Time, want bool) {
		t.Helper()
		docs, err := s.DueForPoll(ctx, now, grace, maxInterval, 10)
		if err != nil {
			t.Fatal(err)
		}
		if got := len(docs) == 1; got != want {
			t.Errorf("%s: due = %v, want %v", what, got, want)
		}
	}
	check("inside the grace", sub.Add(grace-time.Second), false)
	check("at the end of the grace", sub.Add(grace), true)
	check("submitted exactly the grace ahead of now", sub.Add(-grace), false)
	check("submitted more than the grace ahead of now", sub.Add(-grace-time.Second), true)

	next := sub.Add(time.Hour)
	if err := s.RecordPoll(ctx, id, next, ""); err != nil {
		t.Fatal(err)
	}
	check("before the next poll", next.Add(-time.Second), false)
	check("at the next poll", next, true)
	check("next poll exactly the longest interval ahead", next.Add(-maxInterval), false)
	check("next poll more than the longest interval ahead", next.Add(-maxInterval-time.Second), true)
}

// The same holds for a batch waiting for its batch.completed.
func TestBatchesToVerifyTakesASubmissionTooFarAheadAsAClockSteppedBack(t *testing.T) {
	s, sub := clockedStore(t)
	ctx := context.Background()
	docIn(t, s, 1, "completed")
	const grace = 5 * time.Minute
	for _, tc := range []struct {
		what string
		now  time.Time
		want bool
	}{
		{"inside the grace", sub.Add(grace - time.Second), false},
		{"at the end of the grace", sub.Add(grace), true},
		{"submitted exactly the grace ahead of now", sub.Add(-grace), false},
		{"submitted more than the grace ahead of now", sub.Add(-grace - time.Second), true},
	} {
		got, err := s.BatchesToVerify(ctx, tc.now, grace, 10)
		if err != nil {
			t.Fatal(err)
		}
		if (len(got) == 1) != tc.want {
			t.Errorf("%s: %d batches to verify, want due = %v", tc.what, len(got), tc.want)
		}
	}
}
