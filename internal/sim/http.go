package sim

import (
	"crypto/subtle"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/docuparse/docuparse-ingest/internal/docuparse"
)

// codeUnavailable is the error code of injected 503 answers; the contract
// only says "5xx transient".
const codeUnavailable = "SERVICE_UNAVAILABLE"

const apiPrefix = "/api/v1"

// routes builds the mux. Patterns carry no method so that a wrong method gets
// the JSON error envelope (405) rather than the mux's plain text.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.Handle(apiPrefix+"/extract", s.api("POST /extract", http.MethodPost, s.handleExtract))
	mux.Handle(apiPrefix+"/batches", s.api("POST /batches", http.MethodPost, s.handleBatches))
	mux.Handle(apiPrefix+"/batches/{id}", s.api("GET /batches/{id}", http.MethodGet, s.handleGetBatch))
	mux.Handle(apiPrefix+"/documents/{id}", s.api("GET /documents/{id}", http.MethodGet, s.handleGetDocument))
	notFound := s.api("other", "", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, docuparse.Error{Code: docuparse.CodeNotFound, Message: "no such endpoint"})
	})
	mux.Handle(apiPrefix+"/", notFound)
	mux.Handle(apiPrefix, notFound)
	mux.HandleFunc("GET /_sim/stats", s.handleStats)
	mux.HandleFunc("GET /_sim/held-events", s.handleHeldEvents)
	mux.HandleFunc("GET /_sim/faults", s.handleFaults)
	mux.HandleFunc("POST /_sim/faults", s.handleFaults)
	return mux
}

// api wraps an endpoint: the API being down, counting, authentication,
// method check, then the injected 429/503 faults.
func (s *Server) api(endpoint, method string, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f := s.Faults()
		rec := &recorder{ResponseWriter: w}
		defer func() { s.countRequest(endpoint, rec.status) }()
		if f.Down {
			s.count(func(st *Stats) { st.RefusedWhileDown++ })
			dropConnection(rec)
		}
		if f.RevokeKey || !s.authorized(r) {
			writeError(rec, http.StatusUnauthorized, docuparse.Error{Code: docuparse.CodeUnauthorized, Message: "missing or invalid API key"})
			return
		}
		if method != "" && r.Method != method {
			rec.Header().Set("Allow", method)
			writeError(rec, http.StatusMethodNotAllowed, docuparse.Error{Code: docuparse.CodeInvalidRequest, Message: "method " + r.Method + " not allowed; use " + method})
			return
		}
		if s.draw(f.Rate429) {
			s.count(func(st *Stats) { st.Injected429++ })
			rec.Header().Set("Retry-After", strconv.Itoa(f.RetryAfterSeconds))
			writeError(rec, http.StatusTooManyRequests, docuparse.Error{Code: docuparse.CodeRateLimited, Message: "rate limit exceeded, retry later"})
			return
		}
		if s.draw(f.Rate503) {
			s.count(func(st *Stats) { st.Injected503++ })
			rec.Header().Set("Retry-After", strconv.Itoa(f.RetryAfterSeconds))
			writeError(rec, http.StatusServiceUnavailable, docuparse.Error{Code: codeUnavailable, Message: "service temporarily unavailable"})
			return
		}
		h(rec, r)
	})
}

// dropConnection closes the request's connection without an answer and
// ends the handler.
func dropConnection(w http.ResponseWriter) {
	if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
		_ = conn.Close()
		panic(http.ErrAbortHandler)
	}
	// Not hijackable (HTTP/2): abort the response the standard way.
	panic(http.ErrAbortHandler)
}

// authorized checks "Authorization: Bearer <key>" in constant time.
func (s *Server) authorized(r *http.Request) bool {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(strings.TrimSpace(token)), []byte(s.cfg.APIKey)) == 1
}

// recorder remembers the status written; 0 means nothing was written (the
// connection was hijacked and dropped). Unwrap lets http.ResponseController
// reach the underlying writer's Hijack.
type recorder struct {
	http.ResponseWriter
	status int
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		writeError(w, http.StatusInternalServerError, docuparse.Error{Code: "INTERNAL", Message: "encode response"})
		return
	}
	writeBody(w, status, body)
}

func writeBody(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)+1))
	w.WriteHeader(status)
	_, _ = w.Write(body)
	_, _ = w.Write([]byte("\n"))
}

func writeError(w http.ResponseWriter, status int, e docuparse.Error) {
	body, _ := json.Marshal(docuparse.ErrorEnvelope{Error: e})
	writeBody(w, status, body)
}
