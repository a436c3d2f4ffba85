package ingest

// Temporary errors are not properties of a file: under descriptor
// pressure (EMFILE) a file is held and taken once the pressure ends, at
// intake and at upload, and never rejected. The pressure is real: the test
// runs in a child process of the test binary that lowers its RLIMIT_NOFILE
// and fills its descriptor table, so the daemon's own open(2) fails.

import (
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/safedir"
	"github.com/docuparse/docuparse-ingest/internal/store"
	"github.com/docuparse/docuparse-ingest/internal/testlog"
	"github.com/docuparse/docuparse-ingest/internal/testwait"
	"github.com/docuparse/docuparse-ingest/internal/vocab"
)

// childEnv names the test a child process of the test binary runs.
const childEnv = "DOCUPARSE_INGEST_TEST_CHILD"

// inChild reports whether this process is the child that runs t. In the
// parent it runs t in a child process (the descriptor table is per
// process, so no other test feels the pressure) and fails t if it fails.
func inChild(t *testing.T) bool {
	t.Helper()
	if os.Getenv(childEnv) == t.Name() {
		return true
	}
	cmd := exec.Command(os.Args[0], "-test.run=^"+t.Name()+"$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), childEnv+"="+t.Name())
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: "+t.Name()) {
		t.Fatalf("child process: %v\n%s", err, out)
	}
	return false
}

// exhaustDescriptors lowers the soft RLIMIT_NOFILE and opens /dev/null
// until open(2) fails with EMFILE, so that the next open of any file fails
// the same way. The returned function ends the pressure.
func exhaustDescriptors(t *testing.T) (release func()) {
	t.Helper()
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	low := lim
	low.Cur = min(lim.Cur, 256)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &low); err != nil {
		t.Fatal(err)
	}
	var fds []int
	for {
		fd, err := syscall.Open(os.DevNull, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
		if errors.Is(err, syscall.EMFILE) {
			break
		}
		if err != nil {
			t.Fatalf("filling the descriptor table: %v", err)
		}
		fds = append(fds, fd)
	}
	return func() {
		for _, fd := range fds {
			syscall.Close(fd)
		}
		fds = nil
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
	}
}

// transitionsOf returns the states a file's documents went to, from the
// store's hook (read without the store: it may have no descriptor left).
func (s *ingestStore) transitionsOf(path string) []store.State {
	var out []store.State
	for _, tr := range s.transitions() {
		if tr.Path == path {
			out = append(out, tr.To)
		}
	}
	return out
}

func TestIntakeUnderDescriptorPressureHoldsAFileAndTakesItOnceThePressureEnds(t *testing.T) {
	if !inChild(t) {
		return
	}
	intakeUnderPressure(t, false)
}

// The daemon's path: the source folder is pinned (NewRoots with the shared
// pins), so every open first re-checks the folder, and that check meets
// the pressure first. It must say so as the temporary error it is, not as
// a replaced folder, and the file must be held, not dropped.
func TestIntakeUnderDescriptorPressureInAPinnedFolderHoldsTheFile(t *testing.T) {
	if !inChild(t) {
		return
	}
	intakeUnderPressure(t, true)
}

func intakeUnderPressure(t *testing.T, pinned bool) {
	feed := make(chan Candidate)
	r := newIntakeRig(t, nil, 0, feed)
	logger, logs := testlog.Logger(slog.LevelInfo)
	r.in.cfg.Logger = logger
	if pinned {
		pins := safedir.NewSet(logger)
		t.Cleanup(pins.Close)
		r.in.cfg.Roots = NewRoots(map[string]string{"inbox": r.dir}, pins)
	}
	r.in.Start(t.Context())
	t.Cleanup(r.in.Stop)
	warm := writeInput(t, filepath.Join(r.dir, "warm.pdf"), []byte("%PDF-1.4 warm"))
	c := writeInput(t, filepath.Join(r.dir, "invoice.pdf"), []byte("%PDF-1.4 invoice"))
	feed <- warm // the store's connections are open before the pressure
	testwait.OnSignal(t, r.st.wake, "warm.pdf queued", func() bool { return len(r.st.transitionsOf(warm.Path)) == 1 })

	release := exhaustDescriptors(t)
	feed <- c
	testwait.OnSignal(t, r.st.wake, "invoice.pdf held or recorded", func() bool {
		return r.in.Held() == 1 || len(r.st.transitionsOf(c.Path)) > 0
	})
	release()
	testwait.OnSignal(t, r.st.wake, "invoice.pdf recorded", func() bool { return len(r.st.transitionsOf(c.Path)) > 0 })
	testwait.OnSignal(t, r.st.wake, "nothing held", func() bool { return r.in.Held() == 0 })

	var got []string
	for _, d := range r.st.all(t) {
		if d.Path == c.Path {
			got = append(got, string(d.State)+" "+d.ErrorCode+" "+d.ErrorMessage)
		}
	}
	if len(got) != 1 || got[0] != "queued  " {
		t.Fatalf("invoice.pdf recorded as %q, want one queued document", got)
	}
	if n := logs.Count("cannot read files for now"); n != 1 || !strings.Contains(logs.String(), "too many open files") {
		t.Errorf("the temporary error is logged %d times, want once when it starts:\n%s", n, logs)
	}
	if n := logs.Count("read again"); n != 1 {
		t.Errorf("the end of the temporary error is logged %d times, want once:\n%s", n, logs)
	}
	if logs.Count("folder was replaced") != 0 {
		t.Errorf("descriptor pressure is reported as a replaced folder:\n%s", logs)
	}
}

func TestUploadUnderDescriptorPressureWaitsAndSendsTheFileOnceThePressureEnds(t *testing.T) {
	if !inChild(t) {
		return
	}
	uploadUnderPressure(t, false)
}

// The daemon's path, with the source folder pinned (see
// TestIntakeUnderDescriptorPressureInAPinnedFolderHoldsTheFile): the upload
// waits out the pressure and sends the file; it is never written off as
// vanished because the folder's check could not open the folder.
func TestUploadUnderDescriptorPressureInAPinnedFolderSendsTheFileOnceThePressureEnds(t *testing.T) {
	if !inChild(t) {
		return
	}
	uploadUnderPressure(t, true)
}

func uploadUnderPressure(t *testing.T, pinned bool) {
	for _, mode := range uploadModes {
		t.Run(mode.name, func(t *testing.T) {
			r := newSubRig(t, mode.batch, subRigOpts{})
			c := r.client(t, subAPIKey, 1)
			// A first upload leaves a kept-alive connection to the API and
			// the store's connections open, so that under the pressure the
			// upload reaches the point of opening its file.
			warm := r.queue(t, "warm.pdf")
			s1 := r.submitter(t, c, nil)
			r.start(t, s1)
			r.waitIn(t, store.StateSubmitted, warm...)
			s1.Stop()
			ids := r.queue(t, "invoice.pdf")
			path := r.st.get(t, ids[0]).Path

			var roots *Roots
			if pinned {
				pins := safedir.NewSet(slog.New(slog.NewTextHandler(r.logs, nil)))
				t.Cleanup(pins.Close)
				roots = NewRoots(map[string]string{"inbox": r.dir}, pins)
			}
			release := exhaustDescriptors(t)
			s2 := r.submitter(t, c, func(cfg *SubmitterConfig) { cfg.Roots = roots })
			r.start(t, s2)
			testwait.OnSignal(t, r.wake, "the upload to meet the pressure", func() bool {
				return r.logs.Count("too many open files") > 0
			})
			release()
			testwait.OnSignal(t, r.wake, "invoice.pdf submitted or refused", func() bool {
				states := r.st.transitionsOf(path)
				return len(states) > 0 && states[len(states)-1] != store.StateSubmitting
			})
			if d := r.st.get(t, ids[0]); d.State != store.StateSubmitted {
				t.Fatalf("invoice.pdf is %s %s %q, want submitted", d.State, d.ErrorCode, d.ErrorMessage)
			}
			if !strings.Contains(r.logs.String(), "cannot read a file to upload for now") ||
				r.logs.Count("can be read again") != 1 {
				t.Errorf("want the temporary error logged when it starts and once when it ends:\n%s", r.logs)
			}
			r.checkCreatedOnce(t, "warm.pdf", "invoice.pdf")
			if strings.Contains(r.logs.String(), "folder was replaced") {
				t.Errorf("descriptor pressure is reported as a replaced folder:\n%s", r.logs)
			}
		})
	}
}

// An empty file whose wait ends under descriptor pressure is looked at
// again once the pressure ends, and rejected then (it stayed empty):
// a temporary error neither rejects it nor drops it until the next rescan.
func TestAnEmptyFileWhoseWaitEndsUnderPressureIsDecidedOnceThePressureEnds(t *testing.T) {
	if !inChild(t) {
		return
	}
	feed := make(chan Candidate)
	r := newIntakeRig(t, nil, 0, feed)
	logger, logs := testlog.Logger(slog.LevelInfo)
	r.in.cfg.Logger = logger
	r.in.SetSources(map[string]SourcePolicy{"inbox": {EmptyWait: 200 * time.Millisecond}})
	r.in.Start(t.Context())
	t.Cleanup(r.in.Stop)
	warm := writeInput(t, filepath.Join(r.dir, "warm.pdf"), []byte("%PDF-1.4 warm"))
	feed <- warm // the store's connections are open before the pressure
	testwait.OnSignal(t, r.st.wake, "warm.pdf queued", func() bool { return len(r.st.transitionsOf(warm.Path)) == 1 })

	// Deciding that a file is empty and must wait opens nothing, so the
	// pressure can start first: the wait surely ends under it.
	empty := writeInput(t, filepath.Join(r.dir, "empty.pdf"), nil)
	release := exhaustDescriptors(t)
	feed <- empty
	testwait.OnSignal(t, r.st.wake, "the empty file's wait to meet the pressure", func() bool {
		return logs.Count("cannot look at an empty file for now") == 1
	})
	release()
	testwait.OnSignal(t, r.st.wake, "empty.pdf rejected", func() bool { return len(r.st.transitionsOf(empty.Path)) > 0 })
	if got := r.st.transitionsOf(empty.Path); len(got) != 1 || got[0] != store.StateRejected {
		t.Fatalf("empty.pdf went to %v, want rejected once", got)
	}
	for _, d := range r.st.all(t) {
		if d.Path == empty.Path && d.ErrorCode != vocab.CodeEmptyFile {
			t.Errorf("empty.pdf rejected with %s %q, want %s", d.ErrorCode, d.ErrorMessage, vocab.CodeEmptyFile)
		}
	}
}
