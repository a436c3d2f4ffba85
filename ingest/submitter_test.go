package ingest

import (
	"bytes"
	"context"
	"fmt"
	"github.com/docuparse/docuparse-ingest/internal/testlog"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/apiclient"
	"github.com/docuparse/docuparse-ingest/internal/docuparse"
	"github.com/docuparse/docuparse-ingest/internal/sim"
	"github.com/docuparse/docuparse-ingest/internal/store"
	"github.com/docuparse/docuparse-ingest/internal/testclock"
	"github.com/docuparse/docuparse-ingest/internal/teststop"
	"github.com/docuparse/docuparse-ingest/internal/testwait"
)

const subAPIKey = "dex_submitter_test_key"

// uploadModes runs a submitter test in both upload modes.
var uploadModes = []struct {
	name  string
	batch bool
}{{"batch upload", true}, {"single upload", false}}

// subRequest is one submit request as the simulator received it.
type subRequest struct {
	path  string
	key   string
	files int // file parts seen in its body: 0 for a replay of the key alone
}

// subLog collects log output written from other goroutines.
type subLog = testlog.Buffer

// subRig is a real store, a real Intake and the project's simulator on
// loopback, for running Submitters against.
type subRig struct {
	dir    string // the inbox
	dbPath string
	wake   chan struct{}
	st     *ingestStore
	intake *Intake
	sim    *sim.Server
	url    string
	logs   *subLog
	batch  bool

	mu   sync.Mutex
	reqs []subRequest

	gate atomic.Pointer[uploadGate] // when set, holds every submit request
	// outage, while set, answers every submit 503 before the simulator
	// sees it: the API is down and nothing is created.
	outage atomic.Bool
	// intercept, when set, answers a submit request in place of the
	// simulator (it may still call next): an API answering strangely.
	intercept atomic.Pointer[func(w http.ResponseWriter, req *http.Request, next http.Handler)]
}

// uploadGate holds every submit request until the test lets it through,
// one at a time: the test decides when each upload ends, and sees how many
// the submitter keeps in flight meanwhile.
type uploadGate struct {
	arrived, released atomic.Int32  // requests that came; tokens given out
	maxHeld           atomic.Int32  // the most requests held at once
	wake              chan struct{} // poked on every arrival
	release           chan struct{} // one token lets one held request through
	open              chan struct{} // closed: every request goes through
	once              sync.Once
}

func newUploadGate() *uploadGate {
	return &uploadGate{wake: make(chan struct{}, 1), release: make(chan struct{}), open: make(chan struct{})}
}

// hold counts a request in and waits for a token, the gate to open or the
// request to end.
func (g *uploadGate) hold(ctx context.Context) {
	n := g.arrived.Add(1) - g.released.Load()
	for m := g.maxHeld.Load(); n > m && !g.maxHeld.CompareAndSwap(m, n); m = g.maxHeld.Load() {
	}
	poke(g.wake)
	select {
	case <-g.release:
	case <-g.open:
	case <-ctx.Done():
	}
}

// held is how many requests wait for a token.
func (g *uploadGate) held() int32 { return g.arrived.Load() - g.released.Load() }

// letOne lets one held request through.
func (g *uploadGate) letOne(t *testing.T) {
	t.Helper()
	g.released.Add(1)
	select {
	case g.release <- struct{}{}:
	case <-time.After(ingestDeadline):
		t.Fatal("no held request took its token")
	}
}

// openUp lets every request through from now on.
func (g *uploadGate) openUp() { g.once.Do(func() { close(g.open) }) }

type subRigOpts struct {
	sim         sim.Config
	maxFileSize int64
}

func newSubRig(t *testing.T, batch bool, o subRigOpts) *subRig {
	t.Helper()
	dir := t.TempDir()
	r := &subRig{dir: filepath.Join(dir, "inbox"), dbPath: filepath.Join(dir, "state.db"),
		wake: make(chan struct{}, 1), logs: &subLog{}, batch: batch}
	if err := os.MkdirAll(r.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if o.sim.APIKey == "" {
		o.sim.APIKey = subAPIKey
	}
	s, err := sim.New(o.sim)
	if err != nil {
		t.Fatal(err)
	}
	r.sim = s
	srv := httptest.NewServer(r.observe(s.Handler()))
	t.Cleanup(func() {
		srv.Close()
		s.Stop()
	})
	r.url = srv.URL + "/api/v1"
	r.st = openIngestStore(t, r.dbPath, r.wake)
	r.intake = NewIntake(IntakeConfig{Store: r.st.Store, MaxFileSize: o.maxFileSize}, nil)
	return r
}

// observe records every submit request's Idempotency-Key, holds it at the
// gate if one is set, then hands it to the simulator untouched.
func (r *subRig) observe(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Method != http.MethodPost {
			h.ServeHTTP(w, req)
			return
		}
		if r.outage.Load() {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`{"error":{"code":"SERVICE_UNAVAILABLE","message":"down for the test"}}`))
			return
		}
		// The whole body is read first, so that the file parts of a request
		// the simulator answers without reading (a replayed key) count too.
		body, err := io.ReadAll(req.Body)
		if err != nil {
			return // the client went away mid-upload
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
		r.mu.Lock()
		r.reqs = append(r.reqs, subRequest{path: strings.TrimPrefix(req.URL.Path, "/api/v1"),
			key: req.Header.Get(docuparse.HeaderIdempotencyKey), files: bytes.Count(body, []byte(`filename="`))})
		r.mu.Unlock()
		if g := r.gate.Load(); g != nil {
			g.hold(req.Context())
		}
		if f := r.intercept.Load(); f != nil {
			(*f)(w, req, h)
			return
		}
		h.ServeHTTP(w, req)
	})
}

func (r *subRig) requests() []subRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]subRequest(nil), r.reqs...)
}

// client returns an API client with fast retries; maxRetries < 0 leaves
// every retry to the submitter.
func (r *subRig) client(t *testing.T, key string, maxRetries int) *apiclient.Client {
	t.Helper()
	return r.clientAt(t, r.url, key, maxRetries)
}

// clientAt is client with another base URL.
func (r *subRig) clientAt(t *testing.T, base, key string, maxRetries int) *apiclient.Client {
	t.Helper()
	c, err := apiclient.New(apiclient.Config{BaseURL: base, APIKey: key, MaxRetries: maxRetries,
		RetryWaitMin: 5 * time.Millisecond, RetryWaitMax: 20 * time.Millisecond, Timeout: 30 * time.Second,
		Observe: func(apiclient.RequestInfo) { poke(r.wake) }})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// endedHere counts the transitions of uploads to an end at the submitter
// (rejected, failed by an id conflict, vanished), as the store announces
// them to the daemon.
func (r *subRig) endedHere() int32 {
	return r.st.announced(func(tr store.Transition) bool {
		from := tr.From == store.StateQueued || tr.From == store.StateSubmitting
		return from && (tr.To == store.StateRejected || tr.To == store.StateFailed || tr.To == store.StateVanished)
	})
}

// submitter builds a Submitter with fast backoff; mod adjusts its config.
func (r *subRig) submitter(t *testing.T, c *apiclient.Client, mod func(*SubmitterConfig)) *Submitter {
	t.Helper()
	cfg := SubmitterConfig{
		Store: r.st.Store, Client: c, BatchUpload: r.batch,
		Limits:      BatchLimits{MaxFiles: 10, MaxWait: 10 * time.Millisecond},
		Concurrency: 2, BackoffMin: 10 * time.Millisecond, BackoffMax: 40 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(r.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if mod != nil {
		mod(&cfg)
	}
	return NewSubmitter(cfg)
}

// start starts a Submitter and stops it when the test ends.
func (r *subRig) start(t *testing.T, s *Submitter) {
	t.Helper()
	s.Start(t.Context())
	t.Cleanup(s.Stop)
}

// fileContent is a file's unique content.
func fileContent(name string) []byte {
	return []byte(fmt.Sprintf("%%PDF-1.4\n%% test document %s\n", name))
}

// queue writes the files into the inbox and takes them in through Intake.
func (r *subRig) queue(t *testing.T, names ...string) []int64 {
	t.Helper()
	var ids []int64
	for _, n := range names {
		c := writeInput(t, filepath.Join(r.dir, n), fileContent(n))
		if err := r.intake.Take(t.Context(), c); err != nil {
			t.Fatal(err)
		}
		docs := r.st.all(t)
		d := docs[len(docs)-1]
		if d.Path != c.Path || d.State != store.StateQueued {
			t.Fatalf("intake of %s recorded %s %s, want it queued", n, d.Path, d.State)
		}
		ids = append(ids, d.ID)
	}
	return ids
}

// queueDirect records a file straight in the store as queued, the way a
// file intake would let through (used for types intake itself refuses).
func (r *subRig) queueDirect(t *testing.T, name string, content []byte) int64 {
	t.Helper()
	c := writeInput(t, filepath.Join(r.dir, name), content)
	res, err := r.st.Intake(t.Context(), store.NewFile{Source: c.Source, Path: c.Path, FileName: c.Name,
		Size: c.Size, ModTime: c.ModTime, SHA256: sha256Hex(content)})
	if err != nil || res.State != store.StateQueued {
		t.Fatalf("store intake of %s: %+v, %v", name, res, err)
	}
	return res.ID
}

// reopen closes the store and opens it again, as a restarted daemon would.
func (r *subRig) reopen(t *testing.T) {
	t.Helper()
	if err := r.st.Close(); err != nil {
		t.Fatal(err)
	}
	r.st = openIngestStore(t, r.dbPath, r.wake)
}

// in reports whether every listed document is in state st.
func (r *subRig) in(t *testing.T, st store.State, ids ...int64) bool {
	for _, id := range ids {
		if r.st.get(t, id).State != st {
			return false
		}
	}
	return true
}

func (r *subRig) waitIn(t *testing.T, st store.State, ids ...int64) {
	t.Helper()
	testwait.OnSignal(t, r.wake, fmt.Sprintf("documents %v to be %s", ids, st), func() bool { return r.in(t, st, ids...) })
}

// checkCreatedOnce fails unless the simulator created exactly the given
// contents, each once.
func (r *subRig) checkCreatedOnce(t *testing.T, names ...string) {
	t.Helper()
	stats := r.sim.Stats()
	if stats.DocumentsCreated != len(names) || len(stats.CreatedBySHA256) != len(names) {
		t.Errorf("simulator created %d documents from %d contents, want %d", stats.DocumentsCreated, len(stats.CreatedBySHA256), len(names))
	}
	for _, n := range names {
		if got := stats.CreatedBySHA256[sha256Hex(fileContent(n))]; got != 1 {
			t.Errorf("%s was created %d times, want once", n, got)
		}
	}
}

// checkSubmitted fails unless each document is submitted under an API id
// that the API knows by the document's client reference (asked with c,
// unless c is nil: a simulator injecting faults would refuse the question).
func (r *subRig) checkSubmitted(t *testing.T, c *apiclient.Client, ids ...int64) {
	t.Helper()
	seen := map[string]bool{}
	for _, id := range ids {
		d := r.st.get(t, id)
		if d.State != store.StateSubmitted || d.DocumentID == "" || d.SubmittedAt.IsZero() || seen[d.DocumentID] {
			t.Errorf("document %d (%s): state %s, document_id %q, submitted_at %v", id, d.FileName, d.State, d.DocumentID, d.SubmittedAt)
			continue
		}
		seen[d.DocumentID] = true
		if r.batch != (d.APIBatchID != "") {
			t.Errorf("document %d: api batch id %q in batch mode %v", id, d.APIBatchID, r.batch)
		}
		if c == nil {
			continue
		}
		got, err := c.GetDocument(t.Context(), d.DocumentID)
		if err != nil {
			t.Errorf("GET %s: %v", d.DocumentID, err)
			continue
		}
		if got.ClientReference != d.ClientReference {
			t.Errorf("API document %s has client reference %q, want %q", d.DocumentID, got.ClientReference, d.ClientReference)
		}
	}
}

// keyUses counts submit requests per idempotency key.
func (r *subRig) keyUses(t *testing.T) map[string]int {
	t.Helper()
	uses := map[string]int{}
	for _, q := range r.requests() {
		if q.key == "" {
			t.Errorf("a request to %s carried no Idempotency-Key", q.path)
		}
		uses[q.key]++
	}
	return uses
}

func (r *subRig) endpoint() string {
	if r.batch {
		return "/batches"
	}
	return "/extract"
}

func TestSubmitterSubmitsEveryQueuedFileOnce(t *testing.T) {
	for _, mode := range uploadModes {
		t.Run(mode.name, func(t *testing.T) {
			t.Parallel()
			r := newSubRig(t, mode.batch, subRigOpts{})
			names := []string{"a.pdf", "b.pdf", "c.csv", "d.pdf", "e.pdf"}
			ids := r.queue(t, names...)
			c := r.client(t, subAPIKey, 2)
			r.start(t, r.submitter(t, c, func(cfg *SubmitterConfig) { cfg.Limits.MaxFiles = 2 }))
			r.waitIn(t, store.StateSubmitted, ids...)

			r.checkSubmitted(t, c, ids...)
			r.checkCreatedOnce(t, names...)
			stats := r.sim.Stats()
			if stats.IdempotentReplays != 0 {
				t.Errorf("%d idempotent replays on a clean run, want 0", stats.IdempotentReplays)
			}
			batches := map[int64]int{}
			for _, id := range ids {
				batches[r.st.get(t, id).BatchID]++
			}
			if len(batches) != 3 {
				t.Errorf("files went out in %d local batches, want 3 (max_files 2)", len(batches))
			}
			wantReqs, wantAPIBatches := len(ids), 0
			if mode.batch {
				wantReqs, wantAPIBatches = 3, 3
			}
			uses := r.keyUses(t)
			if len(r.requests()) != wantReqs || len(uses) != wantReqs || stats.BatchesCreated != wantAPIBatches {
				t.Errorf("%d requests under %d keys creating %d API batches, want %d requests, each its own key, %d batches",
					len(r.requests()), len(uses), stats.BatchesCreated, wantReqs, wantAPIBatches)
			}
			for _, q := range r.requests() {
				if q.path != r.endpoint() {
					t.Errorf("request to %s, want %s", q.path, r.endpoint())
				}
			}
			for _, id := range ids {
				n := 0
				for _, tr := range r.st.transitions() {
					if tr.DocID == id && tr.To == store.StateSubmitted {
						n++
					}
				}
				if n != 1 {
					t.Errorf("document %d became submitted %d times, want once", id, n)
				}
			}
		})
	}
}

func TestSubmitterSendsAPartialBatchOnlyOnceMaxWaitHasPassed(t *testing.T) {
	r := newSubRig(t, true, subRigOpts{})
	ids := r.queue(t, "a.pdf", "b.pdf", "c.pdf")
	oldest := r.st.get(t, ids[0]).DiscoveredAt
	clock := testclock.New(oldest.Add(time.Second))
	s := r.submitter(t, r.client(t, subAPIKey, 2), func(cfg *SubmitterConfig) {
		cfg.Limits = BatchLimits{MaxFiles: 2, MaxWait: time.Minute}
		cfg.Now, cfg.Mono = clock.Now, clock.Mono
	})
	t.Cleanup(s.Stop)

	// Two files fill a batch: it goes at once. The third waits.
	next, err := s.runOnce(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	r.waitIn(t, store.StateSubmitted, ids[0], ids[1])
	third := r.st.get(t, ids[2])
	if third.State != store.StateQueued {
		t.Fatalf("the third file is %s before max_wait passed, want queued", third.State)
	}
	if got, want := next.Sub(clock.Mono()), third.DiscoveredAt.Add(time.Minute).Sub(clock.Now()); got != want {
		t.Fatalf("runOnce says the next batch is due in %v, want %v", got, want)
	}

	// Still young: nothing happens.
	clock.Set(third.DiscoveredAt.Add(59 * time.Second))
	if _, err := s.runOnce(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := r.st.get(t, ids[2]).State; got != store.StateQueued {
		t.Fatalf("the third file is %s one second before max_wait, want queued", got)
	}

	clock.Set(third.DiscoveredAt.Add(time.Minute))
	next, err = s.runOnce(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if !next.IsZero() {
		t.Errorf("runOnce with nothing left waiting returned next %v, want zero", next)
	}
	r.waitIn(t, store.StateSubmitted, ids[2])
	if n := len(r.requests()); n != 2 {
		t.Errorf("%d batch requests, want 2", n)
	}
}

// The submitter keeps exactly its concurrency of uploads in flight. The
// gate ends uploads one at a time, and before each the test waits until as
// many as allowed (or as many as are left) are held, so a submitter that
// stays below its concurrency fails here. Above it: in batch mode the
// store's committed transitions show every batch in flight (created before
// its request, recorded after its answer), so one too many cannot hide; in
// single mode a file upload leaves no trace in the store, so before each
// release the test counts the goroutines running one (see the loop).
func TestSubmitterKeepsUploadsInFlightWithinItsConcurrency(t *testing.T) {
	const concurrency, total = 3, 12
	names := make([]string, total)
	for i := range names {
		names[i] = fmt.Sprintf("%02d.pdf", i)
	}
	for _, mode := range uploadModes {
		t.Run(mode.name, func(t *testing.T) {
			t.Parallel()
			// A goroutine in sendOne itself (not in a closure it made) runs
			// one file upload: single mode only.
			const uploading = "(*Submitter).sendOne("
			before := teststop.Goroutines(uploading)
			r := newSubRig(t, mode.batch, subRigOpts{})
			gate := newUploadGate()
			r.gate.Store(gate)
			t.Cleanup(gate.openUp)
			ids := r.queue(t, names...)
			maxFiles := 1 // twelve batches, twelve requests
			if !mode.batch {
				maxFiles = 4 // three batches of four files sharing one file limit, twelve requests
			}
			cl := r.client(t, subAPIKey, 2)
			r.start(t, r.submitter(t, cl, func(cfg *SubmitterConfig) {
				cfg.Concurrency = concurrency
				cfg.Limits.MaxFiles = maxFiles
			}))
			for done := range total {
				want := int32(min(concurrency, total-done))
				testwait.OnSignal(t, gate.wake, fmt.Sprintf("%d uploads in flight after %d ended", want, done),
					func() bool { return gate.held() >= want })
				// A file upload holds its slot while sendOne runs, so this
				// count never exceeds the slots taken.
				if n := teststop.Count(uploading, before); n > concurrency {
					t.Fatalf("%d file uploads running at once, want at most %d", n, concurrency)
				}
				gate.letOne(t)
			}
			gate.openUp() // a retry, had there been one, must not hang the test
			r.waitIn(t, store.StateSubmitted, ids...)
			r.checkCreatedOnce(t, names...)
			if got := gate.maxHeld.Load(); got != concurrency {
				t.Fatalf("%d submit requests were in flight at once, want exactly %d (the concurrency)", got, concurrency)
			}
			if got := r.st.mostSubmitting(); mode.batch && got != concurrency {
				t.Fatalf("%d one-file batches were in flight at once, want exactly %d (the concurrency)", got, concurrency)
			}
			if n := gate.arrived.Load(); n != total {
				t.Errorf("%d submit requests, want %d", n, total)
			}
		})
	}
}

// Stop returns, before Start and twice, and a stopped submitter has no
// goroutine left: no loop to wake, no upload running.
func TestSubmitterStopIsSafeBeforeStartAndTwice(t *testing.T) {
	const frame = "(*Submitter)."
	before := teststop.Goroutines(frame)
	r := newSubRig(t, true, subRigOpts{})
	s := r.submitter(t, r.client(t, subAPIKey, 0), nil)
	teststop.Within(t, "Stop before Start", s.Stop)
	teststop.Within(t, "a second Stop", s.Stop)

	ids := r.queue(t, "a.pdf")
	s = r.submitter(t, r.client(t, subAPIKey, 0), nil)
	s.Start(context.Background())
	t.Cleanup(s.Stop)
	r.waitIn(t, store.StateSubmitted, ids...)
	if teststop.Count(frame, before) == 0 {
		t.Fatal("no submitter goroutine found while it runs: the check below could not see one")
	}
	teststop.Within(t, "Stop", s.Stop)
	teststop.Within(t, "a second Stop", s.Stop)
	s.Notify() // nothing to wake: must neither block nor start anything
	if left := teststop.Left(frame, before); left != "" {
		t.Fatalf("submitter goroutines still running after Stop:\n%s", left)
	}
}

func TestSubmitterSubmitsFilesWithOddNames(t *testing.T) {
	names := []string{`Café "Lumière" #1.pdf`, "東京コーヒー.pdf", "a%20b;c=d.pdf", "tab\there.pdf", `back\slash.pdf`, "back_slash.pdf", "-=SUM(A1).csv"}
	for _, mode := range uploadModes {
		t.Run(mode.name, func(t *testing.T) {
			t.Parallel()
			r := newSubRig(t, mode.batch, subRigOpts{})
			ids := r.queue(t, names...)
			bad := r.queueDirect(t, `Scan "1" é.tiff`, []byte("II*\x00"))
			cl := r.client(t, subAPIKey, 2)
			r.start(t, r.submitter(t, cl, nil))
			r.waitIn(t, store.StateSubmitted, ids...)
			r.waitIn(t, store.StateRejected, bad)
			r.checkSubmitted(t, cl, ids...)
			r.checkCreatedOnce(t, names...)
			if d := r.st.get(t, bad); d.ErrorCode != docuparse.CodeUnsupportedMedia {
				t.Errorf("the .tiff file was rejected with %q, want %s", d.ErrorCode, docuparse.CodeUnsupportedMedia)
			}
			for _, tr := range r.st.transitions() {
				if tr.To == store.StateQueued && tr.From == store.StateSubmitting && tr.DocID != bad {
					// The refusal named the .tiff file: the others were
					// requeued together, not one by one.
					if d := r.st.get(t, tr.DocID); d.Solo {
						t.Errorf("%s was requeued to go alone: the refusal's file name did not match", d.FileName)
					}
				}
			}
		})
	}
}
