package ingest

// A folder swapped away and put back while files are in flight is a
// temporary condition, like descriptor pressure: the files it holds are
// neither dropped at intake nor written off at upload; each is held, and
// taken exactly once when the pinned folder is back.

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/docuparse/docuparse-ingest/internal/safedir"
	"github.com/docuparse/docuparse-ingest/internal/store"
	"github.com/docuparse/docuparse-ingest/internal/testlease"
	"github.com/docuparse/docuparse-ingest/internal/testlog"
	"github.com/docuparse/docuparse-ingest/internal/testwait"
)

// swapAway renames dir aside and puts another, empty folder in its place;
// the returned function puts the original back.
func swapAway(t *testing.T, dir string) (restore func()) {
	t.Helper()
	if err := os.Rename(dir, dir+".away"); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return func() {
		if err := os.Remove(dir); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(dir+".away", dir); err != nil {
			t.Fatal(err)
		}
	}
}

func TestAFileOfferedWhileItsFolderIsSwappedIsHeldAndTakenOnceItIsBack(t *testing.T) {
	feed := make(chan Candidate)
	r := newIntakeRig(t, nil, 0, feed)
	logger, logs := testlog.Logger(slog.LevelInfo)
	r.in.cfg.Logger = logger
	pins := safedir.NewSet(logger)
	t.Cleanup(pins.Close)
	r.in.cfg.Roots = NewRoots(map[string]string{"inbox": r.dir}, pins)
	r.in.Start(t.Context())
	t.Cleanup(r.in.Stop)
	c := writeInput(t, filepath.Join(r.dir, "invoice.pdf"), []byte("%PDF-1.4 invoice"))

	restore := swapAway(t, r.dir)
	feed <- c
	testwait.OnSignal(t, r.st.wake, "invoice.pdf held", func() bool { return r.in.Held() == 1 })
	if got := r.st.transitionsOf(c.Path); len(got) != 0 {
		t.Fatalf("invoice.pdf went to %v while its folder was away", got)
	}
	restore()
	testwait.OnSignal(t, r.st.wake, "invoice.pdf recorded", func() bool { return len(r.st.transitionsOf(c.Path)) > 0 })
	testwait.OnSignal(t, r.st.wake, "nothing held", func() bool { return r.in.Held() == 0 })
	if got := r.st.transitionsOf(c.Path); len(got) != 1 || got[0] != store.StateQueued {
		t.Fatalf("invoice.pdf went to %v, want queued once", got)
	}
	if n := logs.Count("a source folder was replaced"); n != 1 {
		t.Errorf("holding for the folder is logged %d times, want once:\n%s", n, logs)
	}
	if n := logs.Count("folders are back"); n != 1 {
		t.Errorf("the end of the hold is logged %d times, want once:\n%s", n, logs)
	}
}

func TestAFileInFlightWhileItsFolderIsSwappedIsUploadedOnceItIsBack(t *testing.T) {
	for _, mode := range uploadModes {
		t.Run(mode.name, func(t *testing.T) {
			r := newSubRig(t, mode.batch, subRigOpts{})
			c := r.client(t, subAPIKey, 1)
			ids := r.queue(t, "invoice.pdf")
			path := r.st.get(t, ids[0]).Path
			pins := safedir.NewSet(slog.New(slog.NewTextHandler(r.logs, nil)))
			t.Cleanup(pins.Close)
			roots := NewRoots(map[string]string{"inbox": r.dir}, pins)

			restore := swapAway(t, r.dir)
			s := r.submitter(t, c, func(cfg *SubmitterConfig) { cfg.Roots = roots })
			r.start(t, s)
			testwait.OnSignal(t, r.wake, "the upload to meet the swapped folder", func() bool {
				return strings.Contains(r.logs.String(), "cannot read a file to upload for now")
			})
			restore()
			testwait.OnSignal(t, r.wake, "invoice.pdf submitted or finished", func() bool {
				states := r.st.transitionsOf(path)
				return len(states) > 0 && states[len(states)-1] != store.StateSubmitting
			})
			if d := r.st.get(t, ids[0]); d.State != store.StateSubmitted {
				t.Fatalf("invoice.pdf is %s %s %q, want submitted", d.State, d.ErrorCode, d.ErrorMessage)
			}
			if r.logs.Count("can be read again") != 1 {
				t.Errorf("want the end of the hold logged once:\n%s", r.logs)
			}
			r.checkCreatedOnce(t, "invoice.pdf")
		})
	}
}

// An inbox user's write lease on their own dropped file makes every
// non-blocking open of it fail (EWOULDBLOCK) for up to lease-break-time.
// Intake must not spin on it (one goroutine: it would stall every other
// file): the file is held like any temporary error, and taken once, when
// the lease is dropped.
func TestALeasedFileIsHeldAndTakenOnceTheLeaseIsDropped(t *testing.T) {
	feed := make(chan Candidate)
	r := newIntakeRig(t, nil, 0, feed)
	pins := safedir.NewSet(nil)
	t.Cleanup(pins.Close)
	r.in.cfg.Roots = NewRoots(map[string]string{"inbox": r.dir}, pins)
	r.in.Start(t.Context())
	t.Cleanup(r.in.Stop)
	leased := writeInput(t, filepath.Join(r.dir, "leased.pdf"), []byte("%PDF-1.4 leased"))
	other := writeInput(t, filepath.Join(r.dir, "other.pdf"), []byte("%PDF-1.4 other"))
	drop := testlease.Take(t, leased.Path)

	feed <- leased
	testwait.OnSignal(t, r.st.wake, "leased.pdf held", func() bool { return r.in.Held() == 1 })
	feed <- other // intake is not stalled by the leased file
	testwait.OnSignal(t, r.st.wake, "other.pdf queued", func() bool { return len(r.st.transitionsOf(other.Path)) == 1 })
	if got := r.st.transitionsOf(leased.Path); len(got) != 0 {
		t.Fatalf("leased.pdf went to %v while leased", got)
	}
	drop()
	testwait.OnSignal(t, r.st.wake, "leased.pdf recorded", func() bool { return len(r.st.transitionsOf(leased.Path)) > 0 })
	testwait.OnSignal(t, r.st.wake, "nothing held", func() bool { return r.in.Held() == 0 })
	if got := r.st.transitionsOf(leased.Path); len(got) != 1 || got[0] != store.StateQueued {
		t.Fatalf("leased.pdf went to %v, want queued once", got)
	}
}
