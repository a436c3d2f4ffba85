package ingest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/store"
	"github.com/docuparse/docuparse-ingest/internal/storefault"
	"github.com/docuparse/docuparse-ingest/internal/testpriv"
	"github.com/docuparse/docuparse-ingest/internal/teststop"
	"github.com/docuparse/docuparse-ingest/internal/testwait"
	"github.com/docuparse/docuparse-ingest/internal/vocab"
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

func TestIntakeTake(t *testing.T) {
	const limit = 64
	content := []byte("%PDF-1.4 a small invoice")
	tests := []struct {
		name string
		// setup prepares the inbox and returns the candidate to take.
		setup func(t *testing.T, dir string) Candidate
		// want is the recorded state; "" means nothing may be recorded.
		want     store.State
		wantCode string
	}{
		{
			name: "a PDF is hashed and queued",
			setup: func(t *testing.T, dir string) Candidate {
				return writeInput(t, filepath.Join(dir, "a.pdf"), content)
			},
			want: store.StateQueued,
		},
		{
			name: "an upper-case extension is supported",
			setup: func(t *testing.T, dir string) Candidate {
				return writeInput(t, filepath.Join(dir, "SCAN.PDF"), content)
			},
			want: store.StateQueued,
		},
		{
			name: "a CSV is queued",
			setup: func(t *testing.T, dir string) Candidate {
				return writeInput(t, filepath.Join(dir, "receipt.csv"), []byte("a,b\n1,2\n"))
			},
			want: store.StateQueued,
		},
		{
			name: "a file of exactly the size limit is queued",
			setup: func(t *testing.T, dir string) Candidate {
				return writeInput(t, filepath.Join(dir, "full.pdf"), bytes.Repeat([]byte("x"), limit))
			},
			want: store.StateQueued,
		},
		{
			// The path does not exist: had intake opened it, the file would
			// count as vanished and nothing would be recorded.
			name: "an unsupported extension is rejected UNSUPPORTED_MEDIA_TYPE without reading the file",
			setup: func(t *testing.T, dir string) Candidate {
				return Candidate{Source: "inbox", Path: filepath.Join(dir, "notes.txt"), Name: "notes.txt", Size: 10, ModTime: time.Now()}
			},
			want: store.StateRejected, wantCode: vocab.CodeUnsupportedMedia,
		},
		{
			name: "a file without an extension is rejected UNSUPPORTED_MEDIA_TYPE",
			setup: func(t *testing.T, dir string) Candidate {
				return writeInput(t, filepath.Join(dir, "README"), content)
			},
			want: store.StateRejected, wantCode: vocab.CodeUnsupportedMedia,
		},
		{
			name: "a file over the size limit is rejected FILE_TOO_LARGE without reading it",
			setup: func(t *testing.T, dir string) Candidate {
				return Candidate{Source: "inbox", Path: filepath.Join(dir, "huge.pdf"), Name: "huge.pdf", Size: limit + 1, ModTime: time.Now()}
			},
			want: store.StateRejected, wantCode: vocab.CodeFileTooLarge,
		},
		{
			name: "a file empty for longer than its source's empty wait is rejected EMPTY_FILE",
			setup: func(t *testing.T, dir string) Candidate {
				c := writeInput(t, filepath.Join(dir, "empty.pdf"), nil)
				old := time.Now().Add(-DefaultEmptyWait - time.Minute)
				if err := os.Chtimes(c.Path, old, old); err != nil {
					t.Fatal(err)
				}
				return statCandidate(t, "inbox", c.Path)
			},
			want: store.StateRejected, wantCode: vocab.CodeEmptyFile,
		},
		{
			// A symlink to itself cannot be opened by anyone, root included
			// (ELOOP), and is not "gone" either.
			name: "a symlink that loops is rejected UNREADABLE",
			setup: func(t *testing.T, dir string) Candidate {
				p := filepath.Join(dir, "loop.pdf")
				if err := os.Symlink("loop.pdf", p); err != nil {
					t.Fatal(err)
				}
				return Candidate{Source: "inbox", Path: p, Name: "loop.pdf", Size: 10, ModTime: time.Now()}
			},
			want: store.StateRejected, wantCode: vocab.CodeUnreadable,
		},
		{
			name: "a file that vanished before hashing records nothing",
			setup: func(t *testing.T, dir string) Candidate {
				c := writeInput(t, filepath.Join(dir, "gone.pdf"), content)
				if err := os.Remove(c.Path); err != nil {
					t.Fatal(err)
				}
				return c
			},
		},
		{
			name: "a file that grew since it settled records nothing",
			setup: func(t *testing.T, dir string) Candidate {
				c := writeInput(t, filepath.Join(dir, "growing.pdf"), content)
				f, err := os.OpenFile(c.Path, os.O_APPEND|os.O_WRONLY, 0)
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				if _, err := f.WriteString(" more"); err != nil {
					t.Fatal(err)
				}
				return c
			},
		},
		{
			name: "a file rewritten with the same size since it settled records nothing",
			setup: func(t *testing.T, dir string) Candidate {
				c := writeInput(t, filepath.Join(dir, "rewritten.pdf"), content)
				later := c.ModTime.Add(3 * time.Second)
				if err := os.Chtimes(c.Path, later, later); err != nil {
					t.Fatal(err)
				}
				return c
			},
		},
		{
			name: "a directory in the place of the file records nothing",
			setup: func(t *testing.T, dir string) Candidate {
				p := filepath.Join(dir, "folder.pdf")
				if err := os.Mkdir(p, 0o755); err != nil {
					t.Fatal(err)
				}
				return Candidate{Source: "inbox", Path: p, Name: "folder.pdf", Size: 10, ModTime: time.Now()}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newIntakeRig(t, nil, limit, nil)
			c := tt.setup(t, r.dir)
			r.take(t, c)
			docs := r.st.all(t)
			if tt.want == "" {
				if len(docs) != 0 || r.queued() != 0 || r.done() != 0 {
					t.Fatalf("recorded %+v (queued calls %d, done calls %d), want nothing", docs, r.queued(), r.done())
				}
				return
			}
			if len(docs) != 1 {
				t.Fatalf("recorded %d documents, want 1", len(docs))
			}
			d := docs[0]
			if d.State != tt.want || d.ErrorCode != tt.wantCode || d.Path != c.Path || d.FileName != c.Name ||
				d.SizeBytes != c.Size || d.Source != "inbox" {
				t.Fatalf("recorded %s %q %q (%s, %s, %d bytes), want %s %q for %s", d.State, d.ErrorCode, d.ErrorMessage,
					d.Path, d.FileName, d.SizeBytes, tt.want, tt.wantCode, c.Path)
			}
			switch tt.want {
			case store.StateQueued:
				b, err := os.ReadFile(c.Path)
				if err != nil {
					t.Fatal(err)
				}
				if d.SHA256 != sha256Hex(b) {
					t.Errorf("sha256 = %s, want %s", d.SHA256, sha256Hex(b))
				}
				if r.queued() != 1 || r.done() != 0 {
					t.Errorf("%d transitions to queued and %d to an end, want 1 and 0", r.queued(), r.done())
				}
			case store.StateRejected:
				if d.Outcome != store.StateRejected || d.ErrorMessage == "" || d.CompletedAt.IsZero() {
					t.Errorf("rejected row has outcome %q, message %q, completed_at %v", d.Outcome, d.ErrorMessage, d.CompletedAt)
				}
				if r.queued() != 0 || r.done() != 1 {
					t.Errorf("%d transitions to queued and %d to an end, want 0 and 1", r.queued(), r.done())
				}
			}
		})
	}
}

// A file its owner made unreadable is rejected UNREADABLE, once, with a
// message. Root reads anything, so .ci/run runs this test as nobody (see
// internal/testpriv); the symlink-loop case of TestIntakeTake covers the
// code for root too.
func TestUnprivilegedIntakeRejectsAFileWithoutReadPermission(t *testing.T) {
	testpriv.Require(t)
	r := newIntakeRig(t, nil, 64, nil)
	c := writeInput(t, filepath.Join(r.dir, "secret.pdf"), []byte("%PDF-1.4 a small invoice"))
	if err := os.Chmod(c.Path, 0); err != nil {
		t.Fatal(err)
	}
	r.take(t, c)
	docs := r.st.all(t)
	if len(docs) != 1 {
		t.Fatalf("recorded %d documents, want 1", len(docs))
	}
	d := docs[0]
	if d.State != store.StateRejected || d.ErrorCode != vocab.CodeUnreadable || d.Outcome != store.StateRejected ||
		d.ErrorMessage == "" || d.CompletedAt.IsZero() || d.Path != c.Path {
		t.Fatalf("recorded %s %q %q (outcome %q, completed_at %v, %s), want rejected %s for %s",
			d.State, d.ErrorCode, d.ErrorMessage, d.Outcome, d.CompletedAt, d.Path, vocab.CodeUnreadable, c.Path)
	}
	if r.queued() != 0 || r.done() != 1 {
		t.Errorf("%d transitions to queued and %d to an end, want 0 and 1", r.queued(), r.done())
	}
}

func TestIntakeSkipsAKnownFileWithoutReadingIt(t *testing.T) {
	r := newIntakeRig(t, nil, 0, nil)
	c := writeInput(t, filepath.Join(r.dir, "a.pdf"), []byte("%PDF first content"))
	r.take(t, c)

	// Same size and modification time, other bytes: only a read could tell.
	if err := os.WriteFile(c.Path, []byte("%PDF other content"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(c.Path, c.ModTime, c.ModTime); err != nil {
		t.Fatal(err)
	}
	r.take(t, statCandidate(t, "inbox", c.Path))
	docs := r.st.all(t)
	if len(docs) != 1 || docs[0].SHA256 != sha256Hex([]byte("%PDF first content")) || r.queued() != 1 {
		t.Fatalf("after a rescan of an unchanged stat: %d documents, %d transitions to queued; want the first one only", len(docs), r.queued())
	}

	// A new modification time makes it a new file again: read, new content.
	later := c.ModTime.Add(2 * time.Second)
	if err := os.Chtimes(c.Path, later, later); err != nil {
		t.Fatal(err)
	}
	r.take(t, statCandidate(t, "inbox", c.Path))
	docs = r.st.all(t)
	if len(docs) != 2 || docs[1].SHA256 != sha256Hex([]byte("%PDF other content")) || docs[1].State != store.StateQueued {
		t.Fatalf("after the file changed: %+v, want a second, queued document with the new content", docs)
	}
}

func TestIntakeRecordsAFileOnlyOnceAcrossRescans(t *testing.T) {
	tests := []struct {
		name    string
		content []byte
		want    store.State
	}{
		{"a queued file taken again is not queued twice", []byte("%PDF once"), store.StateQueued},
		{"a rejected file taken again is not rejected twice", []byte("%PDF too large for the limit"), store.StateRejected},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newIntakeRig(t, nil, 16, nil)
			c := writeInput(t, filepath.Join(r.dir, "a.pdf"), tt.content)
			for range 3 {
				r.take(t, c)
			}
			docs := r.st.all(t)
			if len(docs) != 1 || docs[0].State != tt.want {
				t.Fatalf("recorded %+v, want one %s document", docs, tt.want)
			}
			if got := r.queued() + r.done(); got != 1 {
				t.Fatalf("%d transitions announced, want 1", got)
			}
		})
	}
}

func TestIntakeTouchedFileWithTheSameContentIsNotNew(t *testing.T) {
	r := newIntakeRig(t, nil, 0, nil)
	c := writeInput(t, filepath.Join(r.dir, "a.pdf"), []byte("%PDF same"))
	r.take(t, c)
	later := c.ModTime.Add(5 * time.Second)
	if err := os.Chtimes(c.Path, later, later); err != nil {
		t.Fatal(err)
	}
	c2 := statCandidate(t, "inbox", c.Path)
	r.take(t, c2)
	docs := r.st.all(t)
	if len(docs) != 1 || r.queued() != 1 {
		t.Fatalf("recorded %d documents (%d transitions to queued), want the first one only", len(docs), r.queued())
	}
	// Its stat was refreshed, so the next rescan skips it without reading.
	known, err := r.st.Known(t.Context(), "inbox", c.Path, c2.Size, c2.ModTime, c2.FileID)
	if err != nil || !known {
		t.Fatalf("Known after the touch = %v, %v; want true", known, err)
	}
}

func TestIntakeDedupe(t *testing.T) {
	same := []byte("%PDF identical bytes")
	tests := []struct {
		name        string
		dedupe      map[string]bool
		second      string // source of the second file
		wantSecond  store.State
		wantOnDone  int32
		wantOnQueue int32
	}{
		{"with dedupe on, the same content under another name is a duplicate of the first",
			map[string]bool{"inbox": true}, "inbox", store.StateDuplicate, 1, 1},
		{"with dedupe off, the same content under another name is queued again",
			map[string]bool{"inbox": false}, "inbox", store.StateQueued, 0, 2},
		{"dedupe is per source: a source without it queues the same content",
			map[string]bool{"inbox": true}, "scanner", store.StateQueued, 0, 2},
		{"dedupe is per source: a source with it finds the original of another source",
			map[string]bool{"scanner": true}, "scanner", store.StateDuplicate, 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newIntakeRig(t, tt.dedupe, 0, nil)
			first := writeInput(t, filepath.Join(r.dir, "a.pdf"), same)
			r.take(t, first)
			p := filepath.Join(r.dir, tt.second, "copy of a.pdf")
			writeInput(t, p, same)
			r.take(t, statCandidate(t, tt.second, p))
			docs := r.st.all(t)
			if len(docs) != 2 {
				t.Fatalf("recorded %d documents, want 2", len(docs))
			}
			d := docs[1]
			if d.State != tt.wantSecond || d.Source != tt.second || d.SHA256 != sha256Hex(same) {
				t.Fatalf("second document is %s from %q, want %s from %q", d.State, d.Source, tt.wantSecond, tt.second)
			}
			if tt.wantSecond == store.StateDuplicate && (d.DuplicateOf != docs[0].ID || d.Outcome != store.StateDuplicate) {
				t.Errorf("duplicate_of = %d, outcome %q; want %d, duplicate", d.DuplicateOf, d.Outcome, docs[0].ID)
			}
			if tt.wantSecond != store.StateDuplicate && d.DuplicateOf != 0 {
				t.Errorf("duplicate_of = %d, want none", d.DuplicateOf)
			}
			if r.done() != tt.wantOnDone || r.queued() != tt.wantOnQueue {
				t.Errorf("%d transitions to an end, %d to queued; want %d and %d", r.done(), r.queued(), tt.wantOnDone, tt.wantOnQueue)
			}
		})
	}
}

func TestIntakeStartTakesCandidatesFromItsChannel(t *testing.T) {
	feed := make(chan Candidate)
	r := newIntakeRig(t, nil, 0, feed)
	r.in.Start(t.Context())
	t.Cleanup(r.in.Stop)

	names := []string{"a.pdf", "b.csv", "c.txt"}
	for _, n := range names {
		c := writeInput(t, filepath.Join(r.dir, n), []byte("content of "+n))
		select {
		case feed <- c:
		case <-time.After(ingestDeadline):
			t.Fatalf("intake did not take %s", n)
		}
	}
	testwait.OnSignal(t, r.st.wake, "three documents recorded", func() bool { return len(r.st.all(t)) == 3 })
	var got []string
	for _, d := range r.st.all(t) {
		got = append(got, d.FileName+"="+string(d.State))
	}
	// Candidates waiting together are recorded as a group, whose refusals
	// are written before its queued files: the rows' order is not the
	// feed's, each file's record is what counts.
	sort.Strings(got)
	if want := "a.pdf=queued b.csv=queued c.txt=rejected"; strings.Join(got, " ") != want {
		t.Fatalf("recorded %v, want %s", got, want)
	}
	r.in.Stop()
	r.in.Stop()
}

// A file handed over while the store cannot record it (a lock held too
// long, a full disk, an I/O error on state_dir) is not lost: the source
// will not offer it again, so intake holds it and takes it once the store
// records again.
func TestIntakeHoldsFilesTheStoreCouldNotRecordAndTakesThemOnceItCan(t *testing.T) {
	feed := make(chan Candidate)
	r := newIntakeRig(t, nil, 0, feed)
	fault := storefault.Break(t, r.st.Path(), "documents", "INSERT", "")
	r.in.Start(t.Context())
	t.Cleanup(r.in.Stop)

	names := []string{"a.pdf", "b.csv", "c.txt"} // queued, queued, rejected
	for _, n := range names {
		c := writeInput(t, filepath.Join(r.dir, n), []byte("content of "+n))
		select {
		case feed <- c:
		case <-time.After(ingestDeadline):
			t.Fatalf("intake did not take %s", n)
		}
	}
	testwait.OnSignal(t, r.st.wake, "three files held", func() bool { return r.in.Held() == 3 })
	if docs := r.st.all(t); len(docs) != 0 {
		t.Fatalf("%d documents recorded while the store fails, want none", len(docs))
	}
	// A newer sighting of a held file replaces the older one.
	c := writeInput(t, filepath.Join(r.dir, "a.pdf"), []byte("content of a.pdf, saved again"))
	feed <- c

	fault.Heal()
	testwait.OnSignal(t, r.st.wake, "three documents recorded", func() bool { return len(r.st.all(t)) == 3 })
	testwait.OnSignal(t, r.st.wake, "nothing held", func() bool { return r.in.Held() == 0 })
	got := map[string]string{}
	for _, d := range r.st.all(t) {
		got[d.FileName] = string(d.State)
		if d.FileName == "a.pdf" && d.SHA256 != sha256Hex([]byte("content of a.pdf, saved again")) {
			t.Errorf("a.pdf recorded with the hash of its older content")
		}
	}
	if got["a.pdf"] != "queued" || got["b.csv"] != "queued" || got["c.txt"] != "rejected" {
		t.Errorf("recorded %v, want a.pdf and b.csv queued, c.txt rejected", got)
	}
}

// An empty placeholder (a scanner or a download creates the file first and
// fills it later) is one document: intake waits for its content instead of
// rejecting it EMPTY_FILE and then taking it again as a second row.
func TestIntakeAnEmptyPlaceholderFilledLaterIsOneDocument(t *testing.T) {
	feed := make(chan Candidate)
	r := newIntakeRig(t, nil, 0, feed)
	r.in.Start(t.Context())
	t.Cleanup(r.in.Stop)

	p := filepath.Join(r.dir, "scan.pdf")
	feed <- writeInput(t, p, nil)
	feed <- writeInput(t, filepath.Join(r.dir, "other.pdf"), []byte("%PDF-1.4 other")) // a barrier: taken after the empty one
	testwait.OnSignal(t, r.st.wake, "other.pdf recorded", func() bool { return len(r.st.all(t)) == 1 })

	content := []byte("%PDF-1.4 the scan, written at last")
	feed <- writeInput(t, p, content)
	testwait.OnSignal(t, r.st.wake, "scan.pdf recorded", func() bool { return len(r.st.all(t)) == 2 })
	for _, d := range r.st.all(t) {
		if d.State != store.StateQueued {
			t.Errorf("%s recorded %s %s, want queued", d.FileName, d.State, d.ErrorCode)
		}
		if d.Path == p && d.SHA256 != sha256Hex(content) {
			t.Errorf("scan.pdf recorded with sha256 %s, want its content's", d.SHA256)
		}
	}
}

// A file that stays empty is rejected once, after its source's empty wait,
// and a later sighting of it (a rescan, a restart) adds nothing; an empty
// file removed during its wait leaves no row.
func TestIntakeAFileThatStaysEmptyIsRejectedOnceAfterItsWait(t *testing.T) {
	feed := make(chan Candidate)
	r := newIntakeRig(t, nil, 0, feed)
	r.in.SetSources(map[string]SourcePolicy{"inbox": {EmptyWait: 50 * time.Millisecond}})
	r.in.Start(t.Context())
	t.Cleanup(r.in.Stop)

	stays := writeInput(t, filepath.Join(r.dir, "stays.pdf"), nil)
	removed := writeInput(t, filepath.Join(r.dir, "removed.pdf"), nil)
	// The wait counts from the file's modification time (a restart does
	// not start it over): seen as just written, removed.pdf waits its
	// whole EmptyWait however slow the machine, and is gone before the
	// wait ends — removed here already, since intake reads nothing of it
	// until then.
	removed.ModTime = time.Now().Add(time.Hour)
	mustRemove(t, removed.Path)
	feed <- stays
	feed <- removed
	testwait.OnSignal(t, r.st.wake, "stays.pdf rejected", func() bool { return len(r.st.all(t)) == 1 })
	feed <- stays
	feed <- writeInput(t, filepath.Join(r.dir, "barrier.pdf"), []byte("%PDF-1.4 barrier"))
	testwait.OnSignal(t, r.st.wake, "barrier.pdf recorded", func() bool { return len(r.st.all(t)) == 2 })

	docs := r.st.all(t)
	if d := docs[0]; d.Path != stays.Path || d.State != store.StateRejected || d.ErrorCode != vocab.CodeEmptyFile {
		t.Errorf("first row: %s %s %s, want stays.pdf rejected %s", d.FileName, d.State, d.ErrorCode, vocab.CodeEmptyFile)
	}
	if d := docs[1]; d.Path == removed.Path || d.Path == stays.Path {
		t.Errorf("second row is %s, want barrier.pdf only", d.FileName)
	}
}

// Stop returns, before Start and twice, and a stopped Intake has no
// goroutine left: nothing reads its channel any more.
func TestIntakeStopIsSafeBeforeStartAndTwice(t *testing.T) {
	const frame = "(*Intake)."
	before := teststop.Goroutines(frame)
	r := newIntakeRig(t, nil, 0, make(chan Candidate))
	teststop.Within(t, "Stop before Start", r.in.Stop)
	teststop.Within(t, "a second Stop", r.in.Stop)

	feed := make(chan Candidate)
	r = newIntakeRig(t, nil, 0, feed)
	r.in.Start(t.Context())
	c := writeInput(t, filepath.Join(r.dir, "a.pdf"), []byte("content of a.pdf"))
	select {
	case feed <- c:
	case <-time.After(ingestDeadline):
		t.Fatal("the started intake did not take a candidate")
	}
	testwait.OnSignal(t, r.st.wake, "a.pdf recorded", func() bool { return len(r.st.all(t)) == 1 })
	if teststop.Count(frame, before) == 0 {
		t.Fatal("no intake goroutine found while it runs: the check below could not see one")
	}
	teststop.Within(t, "Stop", r.in.Stop)
	teststop.Within(t, "a second Stop", r.in.Stop)
	if left := teststop.Left(frame, before); left != "" {
		t.Fatalf("intake goroutines still running after Stop:\n%s", left)
	}
	select {
	case feed <- c:
		t.Fatal("a stopped intake still reads its channel")
	default:
	}
}
