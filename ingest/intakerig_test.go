package ingest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/store"
)

// ingestDeadline bounds anything an intake or submitter test waits for.
const ingestDeadline = 10 * time.Second

// ingestStore is a real store in a temporary directory whose committed
// transitions are logged and wake waiters.
type ingestStore struct {
	*store.Store
	wake chan struct{}

	mu  sync.Mutex
	trs []store.Transition
}

// openIngestStore opens (or reopens) the store at path and closes it when
// the test ends. Transitions poke wake (a new channel when nil).
func openIngestStore(t *testing.T, path string, wake chan struct{}) *ingestStore {
	t.Helper()
	if wake == nil {
		wake = make(chan struct{}, 1)
	}
	s := &ingestStore{wake: wake}
	st, err := store.Open(context.Background(), path, store.Options{OnTransition: func(tr store.Transition) {
		s.mu.Lock()
		s.trs = append(s.trs, tr)
		s.mu.Unlock()
		poke(s.wake)
	}})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	s.Store = st
	t.Cleanup(func() { st.Close() })
	return s
}

// announced counts the committed transitions that match: the store's
// OnTransition, from which the daemon wakes the part that acts next.
func (s *ingestStore) announced(match func(store.Transition) bool) int32 {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := int32(0)
	for _, tr := range s.trs {
		if match(tr) {
			n++
		}
	}
	return n
}

// poke signals ch without blocking.
func poke(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

func (s *ingestStore) transitions() []store.Transition {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]store.Transition(nil), s.trs...)
}

// mostSubmitting replays the committed transitions and returns the most
// documents that were submitting at once.
func (s *ingestStore) mostSubmitting() int {
	n, most := 0, 0
	for _, tr := range s.transitions() {
		if tr.To == store.StateSubmitting {
			n++
		}
		if tr.From == store.StateSubmitting {
			n--
		}
		most = max(most, n)
	}
	return most
}

// all returns every document, oldest first.
func (s *ingestStore) all(t *testing.T) []store.Document {
	t.Helper()
	docs, err := s.Documents(context.Background(), "", 0)
	if err != nil {
		t.Fatalf("list documents: %v", err)
	}
	return docs
}

func (s *ingestStore) get(t *testing.T, id int64) store.Document {
	t.Helper()
	d, err := s.Get(context.Background(), id)
	if err != nil {
		t.Fatalf("get document %d: %v", id, err)
	}
	return *d
}

// writeInput writes content to path and returns the settled candidate a
// folder source would emit for it.
func writeInput(t *testing.T, path string, content []byte) Candidate {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, content, 0o644); err != nil {
		t.Fatal(err)
	}
	return statCandidate(t, "inbox", path)
}

func statCandidate(t *testing.T, source, path string) Candidate {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return Candidate{Source: source, Path: path, Name: filepath.Base(path), Size: fi.Size(), ModTime: fi.ModTime()}
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// intakeRig is an Intake on a real store, whose transitions it counts.
type intakeRig struct {
	st  *ingestStore
	in  *Intake
	dir string
}

// queued counts the transitions to queued: those the daemon wakes the
// submitter on.
func (r *intakeRig) queued() int32 {
	return r.st.announced(func(tr store.Transition) bool { return tr.To == store.StateQueued })
}

// done counts the transitions to an end at intake (duplicate or
// rejected): those the daemon wakes the exporter on.
func (r *intakeRig) done() int32 {
	return r.st.announced(func(tr store.Transition) bool {
		return tr.To == store.StateDuplicate || tr.To == store.StateRejected
	})
}

func newIntakeRig(t *testing.T, dedupe map[string]bool, maxFileSize int64, feed <-chan Candidate) *intakeRig {
	t.Helper()
	dir := t.TempDir()
	r := &intakeRig{st: openIngestStore(t, filepath.Join(dir, "state.db"), nil), dir: filepath.Join(dir, "inbox")}
	if err := os.MkdirAll(r.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	sources := map[string]SourcePolicy{}
	for name, on := range dedupe {
		sources[name] = SourcePolicy{Dedupe: on}
	}
	r.in = NewIntake(IntakeConfig{
		Store: r.st.Store, Sources: sources, MaxFileSize: maxFileSize,
		RetryMin: 5 * time.Millisecond, RetryMax: 20 * time.Millisecond,
	}, feed)
	return r
}

func (r *intakeRig) take(t *testing.T, c Candidate) {
	t.Helper()
	if err := r.in.Take(t.Context(), c); err != nil {
		t.Fatalf("Take(%s): %v", c.Path, err)
	}
}
