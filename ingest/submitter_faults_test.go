package ingest

// Submitter tests where something goes wrong: refusals by the API, files
// that changed after they were queued, transient API failures, a wrong API
// key and a crash mid-submission. The rig lives in submitter_test.go.

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/apiclient"
	"github.com/docuparse/docuparse-ingest/internal/docuparse"
	"github.com/docuparse/docuparse-ingest/internal/sim"
	"github.com/docuparse/docuparse-ingest/internal/store"
	"github.com/docuparse/docuparse-ingest/internal/storefault"
	"github.com/docuparse/docuparse-ingest/internal/testwait"
)

func TestSubmitterRejectsWhatTheAPIRefusesAndSubmitsTheRest(t *testing.T) {
	rows := []struct {
		name     string
		wantCode string
		// add queues the refused file, between a.pdf and c.pdf.
		add func(t *testing.T, r *subRig) int64
	}{
		{
			// Intake allows more than the API here, so the file gets through.
			name:     "a file over the API's 10 MB limit is rejected FILE_TOO_LARGE",
			wantCode: docuparse.CodeFileTooLarge,
			add: func(t *testing.T, r *subRig) int64 {
				c := writeInput(t, filepath.Join(r.dir, "big.pdf"), bytes.Repeat([]byte("0"), docuparse.MaxFileBytes+1))
				if err := r.intake.Take(t.Context(), c); err != nil {
					t.Fatal(err)
				}
				docs := r.st.all(t)
				return docs[len(docs)-1].ID
			},
		},
		{
			name:     "a file type the API does not take is rejected UNSUPPORTED_MEDIA_TYPE",
			wantCode: docuparse.CodeUnsupportedMedia,
			add: func(t *testing.T, r *subRig) int64 {
				return r.queueDirect(t, "scan.tiff", []byte("II*\x00 not a pdf"))
			},
		},
	}
	for _, row := range rows {
		for _, mode := range uploadModes {
			t.Run(row.name+"/"+mode.name, func(t *testing.T) {
				t.Parallel()
				r := newSubRig(t, mode.batch, subRigOpts{maxFileSize: 2 * docuparse.MaxFileBytes})
				a := r.queue(t, "a.pdf")[0]
				bad := row.add(t, r)
				c := r.queue(t, "c.pdf")[0]
				cl := r.client(t, subAPIKey, 2)
				r.start(t, r.submitter(t, cl, nil))
				r.waitIn(t, store.StateSubmitted, a, c)
				r.waitIn(t, store.StateRejected, bad)

				d := r.st.get(t, bad)
				if d.ErrorCode != row.wantCode || d.ErrorMessage == "" || d.Outcome != store.StateRejected || d.DocumentID != "" {
					t.Errorf("refused file: code %q, message %q, outcome %q, document_id %q; want %s with a message",
						d.ErrorCode, d.ErrorMessage, d.Outcome, d.DocumentID, row.wantCode)
				}
				r.checkSubmitted(t, cl, a, c)
				r.checkCreatedOnce(t, "a.pdf", "c.pdf")
				// The store announced the end (the daemon wakes the exporter on it).
				testwait.OnSignal(t, r.wake, "the rejected file's transition", func() bool { return r.endedHere() > 0 })
				requeued := map[int64]string{}
				for _, tr := range r.st.transitions() {
					if tr.From == store.StateSubmitting && tr.To == store.StateQueued {
						requeued[tr.DocID] = tr.Reason
					}
				}
				if !mode.batch {
					if len(requeued) != 0 {
						t.Errorf("single upload requeued %v, want nothing requeued", requeued)
					}
					return
				}
				// All or nothing: the others go again, in a new batch with a new key.
				if len(requeued) != 2 || requeued[a] != row.wantCode || requeued[c] != row.wantCode {
					t.Errorf("requeued %v, want a.pdf and c.pdf with reason %s", requeued, row.wantCode)
				}
				if ba, bc := r.st.get(t, a).BatchID, r.st.get(t, c).BatchID; ba != bc || ba == d.BatchID {
					t.Errorf("a.pdf in batch %d, c.pdf in %d, the refused file in %d; want the two together in a new batch", ba, bc, d.BatchID)
				}
				if uses := r.keyUses(t); len(uses) != 2 {
					t.Errorf("requests used %d keys, want 2 (the refused batch's and the new batch's)", len(uses))
				}
				if got := r.sim.Stats().BatchesCreated; got != 1 {
					t.Errorf("the API created %d batches, want 1", got)
				}
			})
		}
	}
}

func TestSubmitterFilesThatChangedAfterTheyWereQueued(t *testing.T) {
	rows := []struct {
		name    string
		change  func(t *testing.T, path string)
		wantMsg string
	}{
		{
			name:    "a file deleted after it was queued is vanished",
			change:  func(t *testing.T, p string) { mustRemove(t, p) },
			wantMsg: "removed",
		},
		{
			name: "a file rewritten with other content after it was queued is vanished as changed",
			change: func(t *testing.T, p string) {
				if err := os.WriteFile(p, []byte("%PDF-1.4 a longer, different version"), 0o644); err != nil {
					t.Fatal(err)
				}
			},
			wantMsg: "changed",
		},
		{
			// What was hashed is what is uploaded: other bytes of the same
			// size under the old modification time (cp -p, rsync -t, or on
			// purpose) are caught as they stream, and the body is never
			// completed.
			name: "a file rewritten with other content of the same size and its old modification time is vanished as changed",
			change: func(t *testing.T, p string) {
				fi, err := os.Stat(p)
				if err != nil {
					t.Fatal(err)
				}
				other := bytes.ToUpper(fileContent("b.pdf"))
				if err := os.WriteFile(p, other, 0o644); err != nil {
					t.Fatal(err)
				}
				if err := os.Chtimes(p, fi.ModTime(), fi.ModTime()); err != nil {
					t.Fatal(err)
				}
			},
			wantMsg: "changed",
		},
		{
			name: "a file replaced by a directory after it was queued is vanished as changed",
			change: func(t *testing.T, p string) {
				mustRemove(t, p)
				if err := os.Mkdir(p, 0o755); err != nil {
					t.Fatal(err)
				}
			},
			wantMsg: "changed",
		},
	}
	for _, row := range rows {
		for _, mode := range uploadModes {
			t.Run(row.name+"/"+mode.name, func(t *testing.T) {
				t.Parallel()
				r := newSubRig(t, mode.batch, subRigOpts{})
				ids := r.queue(t, "a.pdf", "b.pdf", "c.pdf")
				row.change(t, r.st.get(t, ids[1]).Path)
				cl := r.client(t, subAPIKey, 2)
				r.start(t, r.submitter(t, cl, nil))
				r.waitIn(t, store.StateVanished, ids[1])
				r.waitIn(t, store.StateSubmitted, ids[0], ids[2])

				d := r.st.get(t, ids[1])
				if d.Outcome != store.StateVanished || d.ErrorCode != "" || !strings.Contains(d.ErrorMessage, row.wantMsg) || d.DocumentID != "" {
					t.Errorf("changed file: outcome %q, code %q, message %q, document_id %q; want vanished, %q",
						d.Outcome, d.ErrorCode, d.ErrorMessage, d.DocumentID, row.wantMsg)
				}
				r.checkSubmitted(t, cl, ids[0], ids[2])
				r.checkCreatedOnce(t, "a.pdf", "c.pdf")
				// The store announced the end (the daemon wakes the exporter on it).
				testwait.OnSignal(t, r.wake, "the vanished file's transition", func() bool { return r.endedHere() > 0 })
			})
		}
	}
}

func mustRemove(t *testing.T, p string) {
	t.Helper()
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
}

func TestSubmitterRidesOutTransientAPIFailuresWithoutCreatingAnythingTwice(t *testing.T) {
	names := []string{"1.pdf", "2.pdf", "3.pdf", "4.pdf", "5.pdf", "6.pdf", "7.pdf", "8.pdf"}
	rows := []struct {
		name       string
		sim        sim.Config
		maxRetries int // client retries; -1 leaves them to the submitter
		check      func(t *testing.T, r *subRig, st sim.Stats)
	}{
		{
			name:       "429 and 503 answers are retried under the same key until every file is in",
			sim:        sim.Config{Rate429: 0.3, Rate503: 0.3, Seed: 7},
			maxRetries: -1, // Retry-After is a whole second: keep the retries in the submitter
			check: func(t *testing.T, r *subRig, st sim.Stats) {
				if st.Injected429+st.Injected503 == 0 {
					t.Error("the simulator injected no 429 or 503; the test needs some")
				}
			},
		},
		{
			name:       "connections dropped after the API created the documents are retried and answered from the first request",
			sim:        sim.Config{DropConnectionRate: 0.6, Seed: 3},
			maxRetries: 3,
			check: func(t *testing.T, r *subRig, st sim.Stats) {
				if st.ConnectionsDropped == 0 {
					t.Error("the simulator dropped no connection; the test needs some")
				}
				if st.IdempotentReplays != st.ConnectionsDropped {
					t.Errorf("%d idempotent replays for %d dropped connections, want one each", st.IdempotentReplays, st.ConnectionsDropped)
				}
			},
		},
		{
			name:       "dropped connections are also safe when the submitter does the retrying",
			sim:        sim.Config{DropConnectionRate: 0.6, Rate503: 0.2, Seed: 11},
			maxRetries: -1,
			check: func(t *testing.T, r *subRig, st sim.Stats) {
				if st.ConnectionsDropped == 0 || st.IdempotentReplays == 0 {
					t.Errorf("%d dropped connections, %d replays; the test needs both", st.ConnectionsDropped, st.IdempotentReplays)
				}
			},
		},
	}
	for _, row := range rows {
		for _, mode := range uploadModes {
			t.Run(row.name+"/"+mode.name, func(t *testing.T) {
				t.Parallel()
				r := newSubRig(t, mode.batch, subRigOpts{sim: row.sim})
				ids := r.queue(t, names...)
				cl := r.client(t, subAPIKey, row.maxRetries)
				r.start(t, r.submitter(t, cl, func(cfg *SubmitterConfig) { cfg.Limits.MaxFiles = 2 }))
				r.waitIn(t, store.StateSubmitted, ids...)

				r.checkSubmitted(t, nil, ids...)
				r.checkCreatedOnce(t, names...)
				row.check(t, r, r.sim.Stats())
				uses := r.keyUses(t)
				wantKeys := len(ids)
				if mode.batch {
					wantKeys = len(ids) / 2
				}
				retried := false
				for _, n := range uses {
					retried = retried || n > 1
				}
				if len(uses) != wantKeys || !retried {
					t.Errorf("requests used %d keys (some more than once: %v), want %d keys, some reused", len(uses), retried, wantKeys)
				}
			})
		}
	}
}

func TestSubmitterMisconfiguredKeepsFilesWaitingAndRetries(t *testing.T) {
	const wrongKey = "dex_wrong_key_do_not_log"
	rows := []struct {
		name   string
		key    string
		base   func(r *subRig) string
		status string // what the log must say
	}{
		{"a wrong API key (401) keeps the files submitting, not rejected", wrongKey,
			func(r *subRig) string { return r.url }, "HTTP 401"},
		{"a wrong base URL (404) keeps the files submitting, not rejected", subAPIKey,
			func(r *subRig) string { return strings.TrimSuffix(r.url, "/v1") }, "HTTP 404"},
	}
	for _, row := range rows {
		for _, mode := range uploadModes {
			t.Run(row.name+"/"+mode.name, func(t *testing.T) {
				t.Parallel()
				r := newSubRig(t, mode.batch, subRigOpts{})
				ids := r.queue(t, "a.pdf", "b.pdf")
				s := r.submitter(t, r.clientAt(t, row.base(r), row.key, 2), func(c *SubmitterConfig) { c.AuthRetry = 10 * time.Millisecond })
				r.start(t, s)
				testwait.OnSignal(t, r.wake, "two failed attempts, logged", func() bool {
					bs, err := r.st.SubmittingBatches(t.Context())
					if err != nil {
						t.Fatal(err)
					}
					// A refused key is not the batch's failure: it is not counted on it.
					// Its answer reaches the log after the server saw the request:
					// wait for the line rather than stop the submitter before it.
					return len(bs) == 1 && len(r.requests()) >= 2 && (bs[0].Attempts >= 2 || row.status == "HTTP 401") &&
						strings.Contains(r.logs.String(), row.status)
				})
				s.Stop()
				for _, id := range ids {
					if d := r.st.get(t, id); d.State != store.StateSubmitting || d.ErrorCode != "" {
						t.Errorf("document %d is %s (%q), want it still submitting", id, d.State, d.ErrorCode)
					}
				}
				if n := len(r.requests()); n < 2 {
					t.Errorf("%d submit requests reached the server, want at least 2", n)
				}
				if strings.Contains(r.logs.String(), wrongKey) {
					t.Error("the API key appears in the log")
				}
				if !strings.Contains(r.logs.String(), row.status) {
					t.Errorf("the log does not say why submissions fail (%s):\n%s", row.status, r.logs.String())
				}
				if r.endedHere() != 0 {
					t.Error("an upload ended at the submitter: nothing reached a terminal state")
				}

				// The operator fixes the configuration and restarts: the same batch goes through.
				batchID := r.st.get(t, ids[0]).BatchID
				cl := r.client(t, subAPIKey, 2)
				r.start(t, r.submitter(t, cl, nil))
				r.waitIn(t, store.StateSubmitted, ids...)
				r.checkSubmitted(t, cl, ids...)
				r.checkCreatedOnce(t, "a.pdf", "b.pdf")
				for _, id := range ids {
					if b := r.st.get(t, id).BatchID; b != batchID {
						t.Errorf("document %d was sent in batch %d, want the original batch %d", id, b, batchID)
					}
				}
			})
		}
	}
}

func TestSubmitterResumesABatchInterruptedByACrash(t *testing.T) {
	rows := []struct {
		name string
		sent bool // the crashed run's request reached the API
	}{
		{"a batch sent just before the crash is sent again under its key and recorded once", true},
		{"a batch created but never sent before the crash is sent under its stored key", false},
	}
	for _, row := range rows {
		for _, mode := range uploadModes {
			t.Run(row.name+"/"+mode.name, func(t *testing.T) {
				t.Parallel()
				r := newSubRig(t, mode.batch, subRigOpts{})
				names := []string{"a.pdf", "b.pdf", "c.pdf"}
				ids := r.queue(t, names...)
				m := store.ModeSingle
				if mode.batch {
					m = store.ModeBatch
				}
				b, err := r.st.CreateBatch(t.Context(), m, ids)
				if err != nil {
					t.Fatal(err)
				}
				cl := r.client(t, subAPIKey, 2)
				first := map[string]string{} // client reference → API id the crashed run was given
				wantKeys := map[string]bool{b.IdempotencyKey: true}
				if !mode.batch {
					wantKeys = map[string]bool{}
					for _, d := range b.Documents {
						wantKeys[store.DocumentKey(b.IdempotencyKey, d.ID)] = true
					}
				}
				if row.sent {
					sendAsCrashedRun(t, cl, b, first)
				}
				r.reopen(t)

				r.start(t, r.submitter(t, cl, nil))
				r.waitIn(t, store.StateSubmitted, ids...)
				r.checkSubmitted(t, cl, ids...)
				r.checkCreatedOnce(t, names...)
				for _, id := range ids {
					d := r.st.get(t, id)
					if d.BatchID != b.ID {
						t.Errorf("document %d ended in batch %d, want the interrupted batch %d", id, d.BatchID, b.ID)
					}
					if row.sent && d.DocumentID != first[d.ClientReference] {
						t.Errorf("document %d recorded as %s, but the API created %s", id, d.DocumentID, first[d.ClientReference])
					}
				}
				for k := range r.keyUses(t) {
					if !wantKeys[k] {
						t.Errorf("a request used key %q, not one stored before the crash", k)
					}
				}
				wantReplays := 0
				if row.sent {
					wantReplays = len(wantKeys)
				}
				if got := r.sim.Stats().IdempotentReplays; got != wantReplays {
					t.Errorf("%d idempotent replays, want %d", got, wantReplays)
				}
			})
		}
	}
}

// sendAsCrashedRun submits an interrupted batch the way the crashed run did,
// under its stored keys, and notes the API ids it was given.
func sendAsCrashedRun(t *testing.T, cl *apiclient.Client, b *store.Batch, ids map[string]string) {
	t.Helper()
	if b.Mode == store.ModeBatch {
		ups := make([]apiclient.Upload, len(b.Documents))
		for i, d := range b.Documents {
			ups[i] = (&Submitter{}).upload(d)
		}
		resp, err := cl.SubmitBatch(t.Context(), b.IdempotencyKey, ups, "")
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range resp.Documents {
			ids[d.ClientReference] = d.DocumentID
		}
		return
	}
	for _, d := range b.Documents {
		resp, err := cl.Extract(t.Context(), store.DocumentKey(b.IdempotencyKey, d.ID), (&Submitter{}).upload(d), "")
		if err != nil {
			t.Fatal(err)
		}
		ids[d.ClientReference] = resp.DocumentID
	}
}

func TestSubmitterRecordsAnInterruptedBatchWhoseFileWasDeletedBeforeTheRestart(t *testing.T) {
	r := newSubRig(t, true, subRigOpts{})
	names := []string{"a.pdf", "b.pdf", "c.pdf"}
	ids := r.queue(t, names...)
	b, err := r.st.CreateBatch(t.Context(), store.ModeBatch, ids)
	if err != nil {
		t.Fatal(err)
	}
	cl := r.client(t, subAPIKey, 2)
	first := map[string]string{}
	sendAsCrashedRun(t, cl, b, first)
	mustRemove(t, r.st.get(t, ids[1]).Path)
	r.reopen(t)

	r.start(t, r.submitter(t, cl, nil))
	// The API created all three: its answer is the truth, the deleted file
	// included (its result will arrive like any other).
	r.waitIn(t, store.StateSubmitted, ids...)
	r.checkCreatedOnce(t, names...)
	for _, id := range ids {
		if d := r.st.get(t, id); d.DocumentID != first[d.ClientReference] {
			t.Errorf("document %d recorded as %q, the API created %q", id, d.DocumentID, first[d.ClientReference])
		}
	}
}

// A queued file touched or saved again with the same bytes while its
// upload waits (an outage here) is the same document: it is uploaded once,
// under its one row, whatever order intake and the submitter see it in.
func TestSubmitterAFileTouchedWhileItsUploadWaitsIsSubmittedOnce(t *testing.T) {
	for _, mode := range uploadModes {
		t.Run(mode.name, func(t *testing.T) {
			t.Parallel()
			r := newSubRig(t, mode.batch, subRigOpts{})
			ids := r.queue(t, "a.pdf", "b.pdf")
			r.outage.Store(true)
			r.start(t, r.submitter(t, r.client(t, subAPIKey, -1), nil))
			testwait.OnSignal(t, r.wake, "a failed attempt during the outage", func() bool {
				bs, err := r.st.SubmittingBatches(t.Context())
				if err != nil {
					t.Fatal(err)
				}
				return len(bs) > 0 && bs[0].Attempts >= 1
			})

			// a.pdf is touched (as the docs say to do for UNREADABLE); b.pdf
			// is saved again by an editor with the same bytes. The folder
			// offers both again once they settle.
			pa, pb := r.st.get(t, ids[0]).Path, r.st.get(t, ids[1]).Path
			later := time.Now().Add(time.Minute)
			if err := os.Chtimes(pa, later, later); err != nil {
				t.Fatal(err)
			}
			writeInput(t, pb, fileContent("b.pdf"))
			for _, p := range []string{pa, pb} {
				if err := r.intake.Take(t.Context(), statCandidate(t, "inbox", p)); err != nil {
					t.Fatal(err)
				}
			}
			r.outage.Store(false)
			r.waitIn(t, store.StateSubmitted, ids...)

			if docs := r.st.all(t); len(docs) != 2 {
				t.Errorf("%d documents for two files touched while they waited, want their 2 rows", len(docs))
			}
			r.checkSubmitted(t, nil, ids...)
			r.checkCreatedOnce(t, "a.pdf", "b.pdf")
			if r.endedHere() != 0 {
				t.Error("an upload ended at the submitter: nothing should have")
			}
		})
	}
}

// Every outcome on the submit path is written until it commits: a store
// that fails while a rejection, a vanish or a requeue is recorded delays
// it, and never leaves the batch submitting until a restart.
func TestSubmitterRecordsOutcomesTheStoreFailedToRecordAtFirst(t *testing.T) {
	rows := []struct {
		name      string
		batchOnly bool
		when      string // the writes that fail
		// setup queues the files and returns the one with an outcome
		// other than submitted, and the state it must end in.
		setup func(t *testing.T, r *subRig) (ids []int64, odd int64, want store.State)
	}{
		{
			name: "a vanished file",
			when: "NEW.state = 'vanished'",
			setup: func(t *testing.T, r *subRig) ([]int64, int64, store.State) {
				ids := r.queue(t, "a.pdf", "b.pdf", "c.pdf")
				mustRemove(t, r.st.get(t, ids[1]).Path)
				return ids, ids[1], store.StateVanished
			},
		},
		{
			name: "a file the API refused",
			when: "NEW.state = 'rejected'",
			setup: func(t *testing.T, r *subRig) ([]int64, int64, store.State) {
				a := r.queue(t, "a.pdf")[0]
				bad := r.queueDirect(t, "scan.tiff", []byte("II*\x00 not a pdf"))
				c := r.queue(t, "c.pdf")[0]
				return []int64{a, bad, c}, bad, store.StateRejected
			},
		},
		{
			name:      "the other files of a batch the API refused",
			batchOnly: true,
			when:      "NEW.state = 'queued'",
			setup: func(t *testing.T, r *subRig) ([]int64, int64, store.State) {
				a := r.queue(t, "a.pdf")[0]
				bad := r.queueDirect(t, "scan.tiff", []byte("II*\x00 not a pdf"))
				c := r.queue(t, "c.pdf")[0]
				return []int64{a, bad, c}, bad, store.StateRejected
			},
		},
	}
	for _, row := range rows {
		for _, mode := range uploadModes {
			if row.batchOnly && !mode.batch {
				continue
			}
			t.Run(row.name+"/"+mode.name, func(t *testing.T) {
				t.Parallel()
				r := newSubRig(t, mode.batch, subRigOpts{})
				ids, odd, want := row.setup(t, r)
				fault := storefault.Break(t, r.dbPath, "documents", "UPDATE OF state", row.when)
				r.start(t, r.submitter(t, r.client(t, subAPIKey, 2), nil))
				testwait.OnSignal(t, r.wake, "a failed write", func() bool { return strings.Contains(r.logs.String(), storefault.Message) })

				fault.Heal()
				r.waitIn(t, want, odd)
				var rest []int64
				for _, id := range ids {
					if id != odd {
						rest = append(rest, id)
					}
				}
				r.waitIn(t, store.StateSubmitted, rest...)
				testwait.OnSignal(t, r.wake, "no batch left submitting", func() bool {
					bs, err := r.st.SubmittingBatches(t.Context())
					if err != nil {
						t.Fatal(err)
					}
					return len(bs) == 0
				})
				r.checkSubmitted(t, nil, rest...)
			})
		}
	}
}

// A batch left submitting with no upload in flight (its outcome never
// recorded) is found and resumed without waiting for a restart.
func TestSubmitterResumesABatchLeftSubmittingWithoutARestart(t *testing.T) {
	r := newSubRig(t, true, subRigOpts{})
	s := r.submitter(t, r.client(t, subAPIKey, 2), func(c *SubmitterConfig) {
		c.ResumeEvery = 20 * time.Millisecond
		c.Limits.MaxWait = time.Hour // the submitter does not batch them itself
	})
	r.start(t, s)
	ids := r.queue(t, "a.pdf", "b.pdf")
	// As if an upload had given up: the batch exists, nothing sends it.
	if _, err := r.st.CreateBatch(t.Context(), store.ModeBatch, ids); err != nil {
		t.Fatal(err)
	}
	r.waitIn(t, store.StateSubmitted, ids...)
	r.checkCreatedOnce(t, "a.pdf", "b.pdf")
	if !strings.Contains(r.logs.String(), "no upload in flight") {
		t.Errorf("the log does not say a stranded batch was resumed:\n%s", r.logs.String())
	}
}
