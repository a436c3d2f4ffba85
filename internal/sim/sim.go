// Package sim owns a local, in-process DocuParse API: every endpoint of
// shared/docuparse-api.md (POST /extract, POST /batches, GET /documents/{id},
// GET /batches/{id}) with idempotency, limits and the error envelope, plus
// signed webhook delivery with the documented retry schedule, and seeded fault
// injection (429/503 answers, dropped connections, slow answers, slow and
// stalled uploads, dropped, duplicated and reordered webhooks, the API down,
// held answers), which SetFaults and POST /_sim/faults change while it runs.
// Tests, benchmarks, the demo, staging and the fault-injection suite use it
// in place of the real service.
//
// Extraction is deterministic: a document's outcome is what internal/samples
// parses from the file (Extract), so a test always knows the truth. The
// package speaks the wire types of internal/docuparse; it does not own them,
// and it knows nothing of the daemon's store, client or receiver.
//
// Callers serve Handler() themselves (httptest.NewServer(s.Handler()) in
// tests) or with Serve(ctx, listener). Documents are processed by timers
// whether or not Start was called; Start only launches webhook delivery.
package sim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/docuparse"
)

// Config configures a Server. Zero values are the defaults noted per field.
type Config struct {
	// APIKey is the only key accepted in "Authorization: Bearer <key>".
	// Required. It never appears in a log line or a response.
	APIKey string
	// WebhookURL receives the events; empty means no webhooks are sent.
	// SetWebhookURL changes it later.
	WebhookURL string
	// WebhookSecret signs every delivery (docuparse.Sign). Required when
	// WebhookURL is set.
	WebhookSecret []byte
	// ProcessingDelay is how long each document takes, counted from its
	// submission; documents of a batch are processed in parallel. 0 means
	// immediately, but still asynchronously. Defaults to 0.
	ProcessingDelay time.Duration
	// FailureRate is the share (0..1) of otherwise good documents that fail
	// extraction anyway. The pick is made from the content's SHA-256, so the
	// same bytes always give the same outcome (see Server.Extract).
	FailureRate float64
	// TimeScale multiplies the webhook retry schedule (1 min, 5 min, 30 min,
	// 2 h, 6 h, 24 h). Defaults to 1.
	TimeScale float64
	// DeliveryTimeout bounds one webhook POST. Defaults to 10 seconds.
	DeliveryTimeout time.Duration
	// WebhookWorkers is the number of concurrent deliveries. Defaults to 4.
	WebhookWorkers int
	// HoldWebhooks keeps every event's encoded body instead of delivering
	// it (whatever WebhookURL says), for GET /_sim/held-events to serve: a
	// load generator then posts the very bodies the simulator built, at
	// the pace it measures, with no delivery of the simulator's competing.
	HoldWebhooks bool

	// Fault knobs. Probabilities are 0..1, drawn from a math/rand generator
	// seeded with Seed, so a run with the same sequence of requests and
	// events is reproducible. They are the initial Faults: SetFaults and
	// POST /_sim/faults change them while the simulator runs.

	// WebhookDropRate: an event is never delivered, and never retried.
	WebhookDropRate float64
	// WebhookDuplicateRate: an event is delivered twice (same body, same
	// X-DocuParse-Delivery), each copy with its own retries.
	WebhookDuplicateRate float64
	// WebhookReorder delays each event's first attempt by a random extra
	// duration below it, so events arrive out of order.
	WebhookReorder time.Duration
	// Rate429 and Rate503: an API request is answered 429 RATE_LIMITED or
	// 503 SERVICE_UNAVAILABLE with Retry-After; nothing is created.
	Rate429 float64
	Rate503 float64
	// RetryAfterSeconds is the Retry-After value of injected 429/503.
	// Defaults to 1.
	RetryAfterSeconds int
	// DropConnectionRate: a submit creates its documents and remembers its
	// idempotent response, then the connection is closed without an answer.
	DropConnectionRate float64
	// SubmitDelay holds every submit this long after its body was read and
	// before anything is created, as a slow API would. Defaults to 0.
	SubmitDelay time.Duration
	// UploadRate, when positive, paces the reading of every submit's body
	// to this many bytes per second, as a slow uplink would: the client sees
	// its upload move, slowly. 0 reads as fast as the body arrives.
	UploadRate int64
	// UploadStallRate: a submit stops reading its body after
	// UploadStallAfter bytes and resumes UploadStall later, as a stalled
	// connection would. A client that gave up meanwhile has sent an
	// incomplete body: nothing is created and the key is released.
	UploadStallRate float64
	// UploadStallAfter is where a stalled upload stops, in bytes of the
	// request body. Defaults to 0 (before the first byte).
	UploadStallAfter int64
	// UploadStall is how long a stalled upload stops reading. Defaults to
	// 1 minute.
	UploadStall time.Duration
	// Seed seeds the fault generator. Defaults to 0 (still deterministic).
	Seed int64

	// Now is the simulator's clock for timestamps and the 24 h idempotency
	// window. Timers (processing, webhook retries) use real time. Defaults
	// to time.Now.
	Now func() time.Time
	// Logger receives debug and warning lines; secrets are never logged.
	// Defaults to discarding.
	Logger *slog.Logger
}

// Server is the simulated DocuParse API. Create it with New.
type Server struct {
	cfg     Config
	now     func() time.Time
	log     *slog.Logger
	handler http.Handler
	deliv   *deliverer

	// rngMu guards rng; it is a leaf lock.
	rngMu sync.Mutex
	rng   *rand.Rand

	// faultsMu guards faults, the knobs SetFaults changes; a leaf lock.
	faultsMu sync.Mutex
	faults   Faults

	// statsMu guards stats; it is a leaf lock.
	statsMu sync.Mutex
	stats   Stats

	// mu guards everything below. Lock order: mu, then deliverer.mu, then
	// the leaf locks.
	mu         sync.Mutex
	webhookURL string
	docs       map[string]*document
	batches    map[string]*batch
	idem       map[string]*idemEntry
	lastSweep  time.Time
	timers     map[string]*time.Timer
	held       [][]byte // encoded events kept under Config.HoldWebhooks
	procWG     sync.WaitGroup
	stopped    bool

	// maxBatchBytes is docuparse.MaxBatchBytes; tests lower it.
	maxBatchBytes int64

	// hooks lets tests observe points of a request; nil in production.
	hooks testHooks
}

type testHooks struct {
	// keyClaimed runs after a submit has claimed its idempotency key and
	// before it reads the body.
	keyClaimed func()
	// uploadStalled runs when a submit stops reading its body (the
	// UploadStallRate fault), before it waits UploadStall.
	uploadStalled func()
}

// New checks cfg, applies defaults and returns a Server ready to serve.
func New(cfg Config) (*Server, error) {
	if cfg.APIKey == "" {
		return nil, errors.New("sim: APIKey is required")
	}
	if cfg.WebhookURL != "" && len(cfg.WebhookSecret) == 0 {
		return nil, errors.New("sim: WebhookSecret is required when WebhookURL is set")
	}
	for name, p := range map[string]float64{
		"FailureRate": cfg.FailureRate, "WebhookDropRate": cfg.WebhookDropRate,
		"WebhookDuplicateRate": cfg.WebhookDuplicateRate, "Rate429": cfg.Rate429,
		"Rate503": cfg.Rate503, "DropConnectionRate": cfg.DropConnectionRate,
		"UploadStallRate": cfg.UploadStallRate,
	} {
		if p < 0 || p > 1 || p != p {
			return nil, fmt.Errorf("sim: %s %v is outside 0..1", name, p)
		}
	}
	for name, d := range map[string]time.Duration{
		"ProcessingDelay": cfg.ProcessingDelay, "DeliveryTimeout": cfg.DeliveryTimeout,
		"WebhookReorder": cfg.WebhookReorder, "SubmitDelay": cfg.SubmitDelay,
		"UploadStall": cfg.UploadStall,
	} {
		if d < 0 {
			return nil, fmt.Errorf("sim: %s %v is negative", name, d)
		}
	}
	if cfg.TimeScale < 0 || cfg.TimeScale != cfg.TimeScale {
		return nil, fmt.Errorf("sim: TimeScale %v is negative", cfg.TimeScale)
	}
	if cfg.TimeScale == 0 {
		cfg.TimeScale = 1
	}
	if cfg.DeliveryTimeout == 0 {
		cfg.DeliveryTimeout = 10 * time.Second
	}
	if cfg.WebhookWorkers < 0 || cfg.RetryAfterSeconds < 0 || cfg.UploadRate < 0 || cfg.UploadStallAfter < 0 {
		return nil, errors.New("sim: WebhookWorkers, RetryAfterSeconds, UploadRate and UploadStallAfter must not be negative")
	}
	if cfg.UploadStall == 0 {
		cfg.UploadStall = time.Minute
	}
	if cfg.WebhookWorkers == 0 {
		cfg.WebhookWorkers = 4
	}
	if cfg.RetryAfterSeconds == 0 {
		cfg.RetryAfterSeconds = 1
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s := &Server{
		cfg:        cfg,
		now:        cfg.Now,
		log:        cfg.Logger,
		rng:        rand.New(rand.NewPCG(uint64(cfg.Seed), 0xd0c_9a25e)),
		stats:      newStats(),
		webhookURL: cfg.WebhookURL,
		docs:       map[string]*document{},
		batches:    map[string]*batch{},
		idem:       map[string]*idemEntry{},
		timers:     map[string]*time.Timer{},

		maxBatchBytes: docuparse.MaxBatchBytes,
	}
	s.faults = faultsOf(cfg)
	s.deliv = newDeliverer(s)
	s.handler = s.routes()
	return s, nil
}

// Handler serves the API under /api/v1/ and the simulator's counters at
// GET /_sim/stats (no authentication).
func (s *Server) Handler() http.Handler { return s.handler }

// SetWebhookURL changes where events are sent from now on; deliveries
// already queued go to the new URL too. Empty stops creating events.
func (s *Server) SetWebhookURL(url string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.webhookURL = url
}

func (s *Server) currentWebhookURL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.webhookURL
}

// Start launches the webhook delivery workers and returns at once. Events
// created before Start wait in the queue. Start after Stop does nothing.
func (s *Server) Start(ctx context.Context) {
	s.mu.Lock()
	stopped := s.stopped
	s.mu.Unlock()
	if !stopped {
		s.deliv.start(ctx)
	}
}

// Stop stops processing documents and delivering webhooks, and returns once
// every goroutine of the Server has ended. Pending deliveries are abandoned
// (Stats.WebhooksPending keeps counting them); documents still processing
// stay "processing". The Handler keeps answering. Safe to call twice.
func (s *Server) Stop() {
	s.mu.Lock()
	if !s.stopped {
		s.stopped = true
		for id, t := range s.timers {
			if t.Stop() {
				s.procWG.Done()
			}
			delete(s.timers, id)
		}
	}
	s.mu.Unlock()
	s.procWG.Wait()
	s.deliv.stop()
}

// Serve serves Handler on ln until ctx is done, then shuts the HTTP server
// down gracefully (at most 5 seconds) and returns nil. It does not call Start
// or Stop. The server sets header and idle timeouts.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	shutCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil {
		_ = srv.Close()
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve %s: %w", ln.Addr(), err)
	}
	return nil
}

// draw reports true with probability p, from the seeded generator.
func (s *Server) draw(p float64) bool {
	if p <= 0 {
		return false
	}
	s.rngMu.Lock()
	defer s.rngMu.Unlock()
	return s.rng.Float64() < p
}

// randDuration returns a duration in [0, max) from the seeded generator.
func (s *Server) randDuration(max time.Duration) time.Duration {
	if max <= 0 {
		return 0
	}
	s.rngMu.Lock()
	defer s.rngMu.Unlock()
	return time.Duration(s.rng.Int64N(int64(max)))
}
