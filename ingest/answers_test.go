package ingest

// Submitter tests against an API that answers strangely: answers that
// cannot be recorded are bounded (the files end stuck, visibly, and retry
// resubmits them), an attempt whose fate is unknown is followed by a
// replay of its key before any new upload, and a batch whose transfer
// keeps breaking is split.

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/docuparse"
	"github.com/docuparse/docuparse-ingest/internal/store"
	"github.com/docuparse/docuparse-ingest/internal/testwait"
	"github.com/docuparse/docuparse-ingest/internal/vocab"
)

// interceptWith makes the rig's API answer through f.
func (r *subRig) interceptWith(f func(w http.ResponseWriter, req *http.Request, next http.Handler)) {
	r.intercept.Store(&f)
}

// throughSim runs req through the simulator and returns what it answered.
func throughSim(next http.Handler, req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	next.ServeHTTP(rec, req)
	return rec
}

// relay writes a recorded answer as it is.
func relay(w http.ResponseWriter, rec *httptest.ResponseRecorder) {
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
}

// dropConnection closes the connection without an answer.
func dropConnection(t *testing.T, w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		t.Errorf("hijack: %v", err)
		return
	}
	_ = conn.Close()
}

// uploads counts the requests per key that carried files, and those that
// replayed the key alone.
func (r *subRig) uploads() (withFiles, replays map[string]int) {
	withFiles, replays = map[string]int{}, map[string]int{}
	for _, q := range r.requests() {
		if q.files > 0 {
			withFiles[q.key]++
		} else {
			replays[q.key]++
		}
	}
	return withFiles, replays
}

func (r *subRig) checkStuck(t *testing.T, reason string, ids ...int64) {
	t.Helper()
	for _, id := range ids {
		d := r.st.get(t, id)
		if d.State != store.StateSubmitting || d.ErrorCode != vocab.CodeSubmitStuck || !strings.Contains(d.ErrorMessage, reason) {
			t.Errorf("document %d (%s): %s %s %q, want submitting %s with %q", id, d.FileName, d.State, d.ErrorCode, d.ErrorMessage,
				vocab.CodeSubmitStuck, reason)
		}
	}
	// The line is written once the files are recorded stuck, so it may
	// follow the state the caller waited for by a moment.
	testwait.For(t, "the log saying how to resubmit stuck files", func() bool {
		return strings.Contains(r.logs.String(), "retry --stuck")
	})
}

// settle waits until the submitter has been through several resume sweeps
// after the files got stuck: a new file queued now is submitted only by a
// later turn of its loop.
func (r *subRig) settle(t *testing.T, s *Submitter, name string) {
	t.Helper()
	r.intercept.Store(nil)
	c := writeInput(t, filepath.Join(r.dir, name), fileContent(name))
	if err := r.intake.Take(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	// The running submitter may take the file before it is looked at
	// (its resume ticker plans batches too): queued or further is fine.
	docs := r.st.all(t)
	d := docs[len(docs)-1]
	if d.Path != c.Path || d.State != store.StateQueued && d.State != store.StateSubmitting && d.State != store.StateSubmitted {
		t.Fatalf("intake of %s recorded %s %s, want it queued (or taken by the submitter)", name, d.Path, d.State)
	}
	s.Notify()
	r.waitIn(t, store.StateSubmitted, d.ID)
}

func TestSubmitterStopsFilesTheAPIsAnswerDoesNotListAndRetryResubmitsThem(t *testing.T) {
	r := newSubRig(t, true, subRigOpts{})
	r.interceptWith(func(w http.ResponseWriter, req *http.Request, next http.Handler) {
		rec := throughSim(next, req)
		var resp docuparse.BatchResponse
		if rec.Code/100 != 2 || json.Unmarshal(rec.Body.Bytes(), &resp) != nil || len(resp.Documents) == 0 {
			relay(w, rec)
			return
		}
		resp.Documents = resp.Documents[:len(resp.Documents)-1] // the last file goes unmentioned
		body, _ := json.Marshal(resp)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(rec.Code)
		_, _ = w.Write(body)
	})
	ids := r.queue(t, "a.pdf", "b.pdf", "c.pdf")
	s := r.submitter(t, r.client(t, subAPIKey, 2), func(c *SubmitterConfig) {
		c.MaxUnusableAnswers = 2
		c.ResumeEvery = 10 * time.Millisecond
	})
	r.start(t, s)
	r.waitIn(t, store.StateSubmitted, ids[0], ids[1])
	testwait.OnSignal(t, r.wake, "c.pdf stuck", func() bool { return r.st.get(t, ids[2]).ErrorCode == vocab.CodeSubmitStuck })
	r.checkStuck(t, "lists 2 of the 3 files sent", ids[2])
	key := r.st.get(t, ids[2])
	r.settle(t, s, "d.pdf")
	if uses := r.keyUses(t); len(uses) != 2 {
		t.Errorf("requests used keys %v, want the stuck batch's (an upload and one replay) and d.pdf's", uses)
	}
	if st, err := r.st.Status(t.Context()); err != nil || st.SubmitStuck != 1 {
		t.Errorf("status counts %+v stuck at submission (%v), want 1", st, err)
	}

	// The operator resubmits it: the original ends failed, the retry is sent.
	newID, err := r.st.Retry(t.Context(), ids[2], store.RetryOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s.Notify()
	r.waitIn(t, store.StateSubmitted, newID)
	if d := r.st.get(t, ids[2]); d.State != store.StateFailed || d.ErrorCode != vocab.CodeResubmitted || d.BatchID != key.BatchID {
		t.Errorf("the stuck original is %s %s in batch %d, want failed %s", d.State, d.ErrorCode, d.BatchID, vocab.CodeResubmitted)
	}
}

func TestSubmitterStopsAFileWhoseReplayIsAnsweredInAnotherShape(t *testing.T) {
	for _, mode := range uploadModes {
		t.Run(mode.name, func(t *testing.T) {
			t.Parallel()
			r := newSubRig(t, mode.batch, subRigOpts{})
			r.interceptWith(func(w http.ResponseWriter, req *http.Request, next http.Handler) {
				rec := throughSim(next, req)
				switch rec.Code {
				case http.StatusAccepted: // created: the answer is lost on the way
					dropConnection(t, w)
				case http.StatusOK: // the idempotent replay, in a shape of its own
					w.Header().Set("Content-Type", "application/json")
					_, _ = w.Write([]byte(`{"result": {"id": "doc_elsewhere"}}`))
				default:
					relay(w, rec)
				}
			})
			id := r.queue(t, "a.pdf")[0]
			s := r.submitter(t, r.client(t, subAPIKey, 0), func(c *SubmitterConfig) {
				c.MaxUnusableAnswers = 2
				c.ResumeEvery = 10 * time.Millisecond
			})
			r.start(t, s)
			testwait.OnSignal(t, r.wake, "a.pdf stuck", func() bool { return r.st.get(t, id).ErrorCode == vocab.CodeSubmitStuck })
			r.checkStuck(t, "invalid response body", id)
			r.settle(t, s, "b.pdf")
			withFiles, replays := r.uploads()
			key := r.requests()[0].key
			if withFiles[key] != 1 || replays[key] != 2 {
				t.Errorf("a.pdf's key: %d uploads and %d replays, want 1 and 2 (then stopped)", withFiles[key], replays[key])
			}
		})
	}
}

func TestSubmitterStopsFilesGoneWhoseKeyReplayIsAnswered404(t *testing.T) {
	for _, mode := range uploadModes {
		t.Run(mode.name, func(t *testing.T) {
			t.Parallel()
			r := newSubRig(t, mode.batch, subRigOpts{})
			ids := r.queue(t, "a.pdf", "b.pdf")
			m := store.ModeSingle
			if mode.batch {
				m = store.ModeBatch
			}
			b, err := r.st.CreateBatch(t.Context(), m, ids)
			if err != nil {
				t.Fatal(err)
			}
			if err := r.st.MarkSent(t.Context(), b.ID); err != nil {
				t.Fatal(err)
			}
			for _, id := range ids {
				mustRemove(t, r.st.get(t, id).Path)
			}
			// An API (or a proxy before it) answering 404 to keys it does not know.
			r.interceptWith(func(w http.ResponseWriter, req *http.Request, next http.Handler) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusNotFound)
				_, _ = w.Write([]byte(`{"error": {"code": "NOT_FOUND", "message": "no such idempotency key"}}`))
			})
			s := r.submitter(t, r.client(t, subAPIKey, 0), func(c *SubmitterConfig) {
				c.MaxUnusableAnswers = 2
				c.ResumeEvery = 10 * time.Millisecond
			})
			r.start(t, s)
			testwait.OnSignal(t, r.wake, "both files stuck", func() bool {
				return r.st.get(t, ids[0]).ErrorCode == vocab.CodeSubmitStuck && r.st.get(t, ids[1]).ErrorCode == vocab.CodeSubmitStuck
			})
			r.checkStuck(t, "answered 404", ids...)
			before := len(r.requests())
			r.settle(t, s, "c.pdf")
			if extra := len(r.requests()) - before; extra != 1 {
				t.Errorf("%d requests after the files were stopped, want only c.pdf's", extra)
			}
		})
	}
}

func TestSubmitterAsksTheAPIUnderTheKeyBeforeUploadingAgain(t *testing.T) {
	for _, mode := range uploadModes {
		t.Run(mode.name, func(t *testing.T) {
			t.Parallel()
			r := newSubRig(t, mode.batch, subRigOpts{})
			r.interceptWith(func(w http.ResponseWriter, req *http.Request, next http.Handler) {
				rec := throughSim(next, req)
				if rec.Code == http.StatusAccepted {
					dropConnection(t, w) // created, then the answer is lost
					return
				}
				relay(w, rec)
			})
			names := []string{"a.pdf", "b.pdf", "c.pdf"}
			ids := r.queue(t, names...)
			// The client makes one attempt per call: the submitter decides.
			r.start(t, r.submitter(t, r.client(t, subAPIKey, -1), nil))
			r.waitIn(t, store.StateSubmitted, ids...)
			r.checkSubmitted(t, nil, ids...)
			r.checkCreatedOnce(t, names...)
			withFiles, replays := r.uploads()
			for key, n := range withFiles {
				if n != 1 || replays[key] != 1 {
					t.Errorf("key %s: %d uploads and %d replays, want the files sent once and the key then asked once", key, n, replays[key])
				}
			}
		})
	}
}

func TestSubmitterSplitsABatchWhoseTransferKeepsBreaking(t *testing.T) {
	r := newSubRig(t, true, subRigOpts{})
	// A link that cannot carry a body this large: the transfer breaks and
	// the API never sees the request.
	const tooLarge = 4 << 10
	r.interceptWith(func(w http.ResponseWriter, req *http.Request, next http.Handler) {
		if req.ContentLength > tooLarge {
			dropConnection(t, w)
			return
		}
		next.ServeHTTP(w, req)
	})
	content := func(n string) []byte { return append(fileContent(n), strings.Repeat("x", 2000)...) }
	var ids []int64
	for _, n := range []string{"a.pdf", "b.pdf", "c.pdf"} {
		ids = append(ids, r.queueDirect(t, n, content(n)))
	}
	r.start(t, r.submitter(t, r.client(t, subAPIKey, 0), func(c *SubmitterConfig) { c.SplitAfter = 2 }))
	r.waitIn(t, store.StateSubmitted, ids...)
	r.checkSubmitted(t, nil, ids...)
	batches := map[int64]bool{}
	for _, id := range ids {
		batches[r.st.get(t, id).BatchID] = true
	}
	if len(batches) != 3 {
		t.Errorf("the files went in %d batches, want one each after the split", len(batches))
	}
	st := r.sim.Stats()
	if st.DocumentsCreated != 3 {
		t.Errorf("the API created %d documents, want 3", st.DocumentsCreated)
	}
	if !strings.Contains(r.logs.String(), "batches of one") {
		t.Errorf("the log does not say the batch was split:\n%s", r.logs.String())
	}
}

// A batch an earlier run sent without one of its files (gone then, back
// now) and crashed before recording: the API's original answer does not
// list that file, and it never will under this key. The file goes on in a
// new batch; the others are recorded from the answer.
func TestSubmitterRequeuesFilesAResumedBatchsOriginalAnswerDoesNotList(t *testing.T) {
	r := newSubRig(t, true, subRigOpts{})
	names := []string{"a.pdf", "b.pdf", "c.pdf"}
	ids := r.queue(t, names...)
	b, err := r.st.CreateBatch(t.Context(), store.ModeBatch, ids)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.st.MarkSent(t.Context(), b.ID); err != nil {
		t.Fatal(err)
	}
	cl := r.client(t, subAPIKey, 2)
	crashed := *b
	crashed.Documents = b.Documents[:2] // c.pdf could not be opened then
	first := map[string]string{}
	sendAsCrashedRun(t, cl, &crashed, first)
	r.reopen(t)

	r.start(t, r.submitter(t, cl, nil))
	r.waitIn(t, store.StateSubmitted, ids...)
	r.checkSubmitted(t, cl, ids...)
	r.checkCreatedOnce(t, names...)
	for _, id := range ids[:2] {
		if d := r.st.get(t, id); d.BatchID != b.ID || d.DocumentID != first[d.ClientReference] {
			t.Errorf("%s: batch %d, document %s; want the original batch %d and the API's %s", d.FileName, d.BatchID, d.DocumentID, b.ID, first[d.ClientReference])
		}
	}
	if d := r.st.get(t, ids[2]); d.BatchID == b.ID {
		t.Errorf("c.pdf was recorded in the batch whose answer does not list it")
	}
}
