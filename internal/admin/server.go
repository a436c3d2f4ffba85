package admin

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/lifecycle"
)

// Paths served by the admin listener.
const (
	PathHealth  = "/healthz"
	PathReady   = "/readyz"
	PathMetrics = "/metrics"
)

// Default timeouts.
const (
	DefaultCheckTimeout = 2 * time.Second
	shutdownGrace       = 5 * time.Second
)

// Timeouts bound how long one client may hold a connection. A zero field
// keeps its default, given in brackets.
type Timeouts struct {
	ReadHeader time.Duration // request line and headers [5s]
	Read       time.Duration // the whole request [10s]
	Write      time.Duration // from the end of the headers to the end of the answer [30s, and always above CheckTimeout]
	Idle       time.Duration // a kept-alive connection between requests [60s]
}

// Config configures the admin listener. The zero value serves /healthz, an
// always-ready /readyz and a 404 /metrics.
type Config struct {
	// Metrics serves GET /metrics; nil answers 404.
	Metrics http.Handler
	// Checks are run, concurrently, on every GET /readyz. Keys name them in
	// the answer. Each returns nil when ready or an error saying why not
	// (shown to the caller, secrets redacted), and should honour ctx, which
	// carries CheckTimeout. A nil function is a configuration error.
	Checks map[string]func(ctx context.Context) error
	// CheckTimeout bounds each check. Defaults to DefaultCheckTimeout.
	CheckTimeout time.Duration
	// Redact lists strings (secrets) that must never appear in a readiness
	// answer or log line; a check's error containing one shows
	// "[redacted]" instead. Empty strings are ignored.
	Redact []string
	// Timeouts of the HTTP server.
	Timeouts Timeouts
	// Logger receives readiness changes and server errors. Defaults to
	// discarding.
	Logger *slog.Logger
}

// Server is the admin HTTP listener.
type Server struct {
	cfg   Config
	ln    net.Listener
	srv   *http.Server
	ready readiness

	group     lifecycle.Group
	startOnce sync.Once
	closeOnce sync.Once
}

// New validates cfg and listens on addr at once (":0" picks a free port;
// see Addr). Serving starts with Start.
func New(addr string, cfg Config) (*Server, error) {
	if cfg.CheckTimeout <= 0 {
		cfg.CheckTimeout = DefaultCheckTimeout
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	for name, c := range cfg.Checks {
		if name == "" {
			return nil, errors.New("admin listener: a readiness check has an empty name")
		}
		if c == nil {
			return nil, fmt.Errorf("admin listener: readiness check %q has no function", name)
		}
	}
	to := withDefaults(cfg.Timeouts, cfg.CheckTimeout)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("admin listener: %w", err) // names the address
	}
	s := &Server{cfg: cfg, ln: ln}
	s.ready = readiness{checks: cfg.Checks, timeout: cfg.CheckTimeout, redact: newRedactor(cfg.Redact), log: cfg.Logger}
	s.srv = &http.Server{
		Handler:           http.HandlerFunc(s.route),
		ReadHeaderTimeout: to.ReadHeader,
		ReadTimeout:       to.Read,
		WriteTimeout:      to.Write,
		IdleTimeout:       to.Idle,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelDebug),
	}
	return s, nil
}

func withDefaults(t Timeouts, checkTimeout time.Duration) Timeouts {
	if t.ReadHeader <= 0 {
		t.ReadHeader = 5 * time.Second
	}
	if t.Read <= 0 {
		t.Read = 10 * time.Second
	}
	if t.Write <= 0 {
		t.Write = 30 * time.Second
	}
	// A /readyz answer waits for its slowest check; it must not be cut off.
	t.Write = max(t.Write, checkTimeout+5*time.Second)
	if t.Idle <= 0 {
		t.Idle = 60 * time.Second
	}
	return t
}

// Addr is the address actually listened on (useful with port 0).
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Start serves in the background and returns at once. The server stops
// when ctx ends or on Stop. A second Start, or a Start after Stop, does
// nothing.
func (s *Server) Start(ctx context.Context) {
	s.startOnce.Do(func() {
		s.group.Go(ctx, func(context.Context) {
			if err := s.srv.Serve(s.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				s.cfg.Logger.Error("admin listener stopped", "err", err)
			}
		})
		s.group.Go(ctx, func(ctx context.Context) {
			<-ctx.Done()
			s.close()
		})
	})
}

// Stop lets requests in flight finish (up to 5 s), closes the listener and
// waits until serving has ended. It is safe to call twice, concurrently,
// or without Start.
func (s *Server) Stop() {
	s.group.Stop() // cancels the group: its watcher closes the server
	s.close()      // never started: the listener is still open
}

// close shuts the server down once: new connections are refused at once,
// requests in flight get the grace period.
func (s *Server) close() {
	s.closeOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
		defer cancel()
		if err := s.srv.Shutdown(ctx); err != nil {
			s.srv.Close()
		}
		s.ln.Close() // Shutdown closes it only if Serve had begun
	})
}

// route serves the three paths, exactly; anything else is 404, and a
// method other than GET or HEAD on a known path is 405.
func (s *Server) route(w http.ResponseWriter, r *http.Request) {
	var h http.HandlerFunc
	switch r.URL.Path {
	case PathHealth:
		h = s.health
	case PathReady:
		h = s.readyz
	case PathMetrics:
		if s.cfg.Metrics == nil {
			http.NotFound(w, r)
			return
		}
		h = s.cfg.Metrics.ServeHTTP
	default:
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	h(w, r)
}

func (s *Server) health(w http.ResponseWriter, _ *http.Request) {
	writeText(w, http.StatusOK, "ok\n")
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	failed := s.ready.run(r.Context())
	if len(failed) == 0 {
		writeText(w, http.StatusOK, "ok\n")
		return
	}
	writeText(w, http.StatusServiceUnavailable, formatFailures(failed))
}

func writeText(w http.ResponseWriter, status int, body string) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}
