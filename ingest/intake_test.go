package ingest

import (
	"bytes"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/store"
	"github.com/docuparse/docuparse-ingest/internal/storefault"
	"github.com/docuparse/docuparse-ingest/internal/testpriv"
	"github.com/docuparse/docuparse-ingest/internal/teststop"
	"github.com/docuparse/docuparse-ingest/internal/testwait"
	"github.com/docuparse/docuparse-ingest/internal/vocab"
)

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
