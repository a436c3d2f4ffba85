package receiver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"
)

// Server is the embedded HTTP listener for webhooks, with timeouts that
// keep slow or idle clients from holding connections, and a bound on the
// connections open at once.
type Server struct {
	srv  *http.Server
	ln   net.Listener
	log  *slog.Logger
	wg   sync.WaitGroup
	once sync.Once
}

// Timeouts bound how long one client may hold a connection. A zero field
// keeps its default, given in brackets. The handler also gives each body
// its own deadline (HandlerConfig.BodyTimeout).
type Timeouts struct {
	ReadHeader time.Duration // request line and headers [5s]
	Read       time.Duration // the whole request, body included [10s]
	Write      time.Duration // from the end of the headers to the end of the answer [10s]
	Idle       time.Duration // a kept-alive connection between requests [30s]
}

// serverOptions is what ServerOptions tune.
type serverOptions struct {
	timeouts Timeouts
	maxConns int
}

// ServerOption tunes a Server.
type ServerOption func(*serverOptions)

// WithTimeouts replaces the default timeouts by the non-zero fields of t.
func WithTimeouts(t Timeouts) ServerOption {
	return func(o *serverOptions) {
		d := &o.timeouts
		if t.ReadHeader > 0 {
			d.ReadHeader = t.ReadHeader
		}
		if t.Read > 0 {
			d.Read = t.Read
		}
		if t.Write > 0 {
			d.Write = t.Write
		}
		if t.Idle > 0 {
			d.Idle = t.Idle
		}
	}
}

// WithMaxConns bounds the connections open at once to n. Beyond it, the
// connection idle longest is closed to make room, or, when none is idle,
// new connections wait in the kernel's accept queue until one closes.
// n <= 0 keeps DefaultMaxConns.
func WithMaxConns(n int) ServerOption {
	return func(o *serverOptions) {
		if n > 0 {
			o.maxConns = n
		}
	}
}

// NewServer listens on addr and serves h at exactly path (any other path is
// 404), on at most DefaultMaxConns connections at once (see WithMaxConns).
// Listening happens here, so a port conflict is reported before anything
// starts, and Addr is known.
func NewServer(addr, path string, h http.Handler, log *slog.Logger, opts ...ServerOption) (*Server, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	so := serverOptions{
		timeouts: Timeouts{ReadHeader: 5 * time.Second, Read: 10 * time.Second, Write: 10 * time.Second, Idle: 30 * time.Second},
		maxConns: DefaultMaxConns,
	}
	for _, o := range opts {
		o(&so)
	}
	to := so.timeouts
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("webhook receiver: listen on %s: %w", addr, err)
	}
	// An exact comparison, not a ServeMux pattern: a configured path is
	// matched as written, so "{", "}" or a trailing "/" in it can neither
	// panic nor widen what is served.
	exact := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != path {
			closeAfterAnswer(w)
			http.NotFound(w, r)
			return
		}
		h.ServeHTTP(w, r)
	})
	limited := newLimitListener(ln, so.maxConns, log)
	return &Server{
		ln:  limited,
		log: log,
		srv: &http.Server{
			Handler:           exact,
			ConnState:         limited.connState,
			ReadHeaderTimeout: to.ReadHeader,
			ReadTimeout:       to.Read,
			WriteTimeout:      to.Write,
			IdleTimeout:       to.Idle,
			MaxHeaderBytes:    16 << 10,
			ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),

			// OPTIONS * too goes to exact (404, connection closed): net/http's
			// own answer (200, kept alive, body drained) reached neither the
			// handler's refusals nor its deadlines, so it could keep every
			// connection busy or idle at will.
			DisableGeneralOptionsHandler: true,
		},
	}, nil
}

// Addr is the address actually listened on (useful with port 0).
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Start serves in the background and returns at once.
func (s *Server) Start(context.Context) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := s.srv.Serve(s.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("webhook receiver stopped", "err", err)
		}
	}()
}

// Stop lets requests in flight finish (up to 10 s) and waits. Safe twice.
func (s *Server) Stop() {
	s.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.srv.Shutdown(ctx); err != nil {
			s.srv.Close()
		}
		s.ln.Close()
	})
	s.wg.Wait()
}
