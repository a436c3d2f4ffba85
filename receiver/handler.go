package receiver

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/docuparse/docuparse-ingest/internal/docuparse"
	"github.com/docuparse/docuparse-ingest/internal/store"
)

// HandlerConfig configures the webhook handler.
type HandlerConfig struct {
	// Secrets are the webhook secrets accepted at once (rotation).
	Secrets [][]byte
	// AllowUnsigned accepts deliveries without a valid signature. For
	// local testing only; the daemon logs it loudly.
	AllowUnsigned bool
	// MaxBody is the largest body accepted, in bytes. Defaults to 1 MB.
	MaxBody int64
	// OnJournaled is called after a new event is stored (to wake the
	// applier).
	OnJournaled func()
	// OnRefused, when set, is told why a request was refused before
	// anything was stored: RefusedBadSignature, RefusedTooLarge or
	// RefusedBadRequest (for counters and the nightly report).
	OnRefused func(reason string)
	// OnAccepted, when set, is told of each delivery answered 200, and
	// whether it repeated one already stored.
	OnAccepted func(duplicate bool)
	Logger     *slog.Logger
}

// Reasons given to HandlerConfig.OnRefused.
const (
	RefusedBadSignature = "bad_signature"
	RefusedTooLarge     = "too_large"
	RefusedBadRequest   = "bad_request"
	RefusedStoreError   = "store_error" // verified but not stored: answered 503, the API retries
)

// Handler is the webhook endpoint's http.Handler.
type Handler struct {
	cfg     HandlerConfig
	store   *store.Store
	journal *journal
}

// NewHandler returns the webhook handler journaling into st.
func NewHandler(cfg HandlerConfig, st *store.Store) *Handler {
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = 1_000_000
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Handler{cfg: cfg, store: st, journal: newJournal(st)}
}

// Start runs the group-commit writer: concurrent deliveries then share one
// transaction. Without Start each delivery is its own transaction. It
// returns at once.
func (h *Handler) Start(ctx context.Context) { h.journal.start(ctx) }

// Stop stops the writer; deliveries after it are answered 503 (the API
// retries them). Stop the HTTP server first so that requests in flight
// finish. Safe to call twice.
func (h *Handler) Stop() { h.journal.stop() }

// ServeHTTP verifies, journals and acknowledges one delivery.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		h.refused(RefusedBadRequest)
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if !jsonContentType(r.Header.Get("Content-Type")) {
		h.cfg.Logger.Warn("webhook rejected: not JSON", "remote", r.RemoteAddr, "content_type", clip(r.Header.Get("Content-Type"), 100))
		h.refused(RefusedBadRequest)
		http.Error(w, "content type must be application/json", http.StatusUnsupportedMediaType)
		return
	}
	// A missing or malformed signature cannot become valid whatever the
	// body holds: refuse it before reading a byte, so an unsigned client
	// cannot hold a connection and MaxBody of memory for the read timeout.
	// Connection: close keeps net/http from draining the unread body.
	if !h.cfg.AllowUnsigned && !wellFormedSignature(r.Header.Get(docuparse.HeaderSignature)) {
		h.refused(RefusedBadSignature)
		h.cfg.Logger.Warn("webhook rejected: missing or malformed signature", "remote", r.RemoteAddr, "declared_bytes", r.ContentLength)
		w.Header().Set("Connection", "close")
		http.Error(w, "invalid signature", http.StatusUnauthorized)
		return
	}
	if r.ContentLength > h.cfg.MaxBody {
		h.refused(RefusedTooLarge)
		http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.cfg.MaxBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			h.refused(RefusedTooLarge)
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
			return
		}
		h.refused(RefusedBadRequest)
		http.Error(w, "cannot read body", http.StatusBadRequest)
		return
	}
	if !docuparse.Verify(h.cfg.Secrets, body, r.Header.Get(docuparse.HeaderSignature)) && !h.cfg.AllowUnsigned {
		h.refused(RefusedBadSignature)
		h.cfg.Logger.Warn("webhook rejected: bad signature", "remote", r.RemoteAddr, "bytes", len(body))
		http.Error(w, "invalid signature", http.StatusUnauthorized)
		return
	}
	ev := Identify(body, r.Header.Get(docuparse.HeaderDelivery))
	inserted, err := h.journal.write(r.Context(), ev)
	if err != nil {
		// Not stored: a non-200 makes the API deliver it again.
		h.refused(RefusedStoreError)
		h.cfg.Logger.Error("cannot journal webhook", "event", ev.Type, "err", err)
		http.Error(w, "cannot store event", http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusOK)
	if h.cfg.OnAccepted != nil {
		h.cfg.OnAccepted(!inserted)
	}
	if inserted {
		h.cfg.Logger.Debug("webhook journaled", "event", ev.Type, "document_id", ev.DocumentID, "batch_id", ev.BatchID, "delivery", ev.DeliveryID)
		if h.cfg.OnJournaled != nil {
			h.cfg.OnJournaled()
		}
	} else {
		h.cfg.Logger.Debug("duplicate webhook acknowledged", "event", ev.Type, "document_id", ev.DocumentID, "delivery", ev.DeliveryID)
	}
}

// Identify extracts what the journal indexes from a verified body. The
// dedupe key is the SHA-256 of the raw bytes: a retry carries the same
// bytes (the original timestamp included), so every retry and duplicate of
// one event shares it, whether or not X-DocuParse-Delivery is sent. A body
// that is not a JSON object with an event name is marked dead.
func Identify(body []byte, deliveryID string) store.IncomingEvent {
	sum := sha256.Sum256(body)
	ev := store.IncomingEvent{
		DedupeKey:  string(sum[:]),
		DeliveryID: clip(deliveryID, 255),
		Body:       body,
	}
	var e docuparse.Event
	if err := json.Unmarshal(body, &e); err != nil {
		ev.Dead, ev.Note = true, "unparseable: "+clip(err.Error(), 200)
		return ev
	}
	ev.Type, ev.DocumentID, ev.BatchID = clip(e.Event, 100), clip(e.DocumentID, 255), clip(e.BatchID, 255)
	switch e.Event {
	case docuparse.EventDocumentCompleted, docuparse.EventDocumentFailed, docuparse.EventBatchCompleted:
	default:
		ev.Dead, ev.Note = true, "unknown event type"
	}
	return ev
}

// clip returns s as valid UTF-8, cut to at most n bytes on a rune boundary
// (cutting inside a multi-byte rune would store invalid UTF-8).
func clip(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// jsonContentType accepts application/json with any parameters, and a
// missing header (the article's own curl example may omit it). Anything
// else was not sent by the API: DocuParse always posts JSON.
func jsonContentType(v string) bool {
	if v == "" {
		return true
	}
	mt, _, err := mime.ParseMediaType(v)
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))
}

// wellFormedSignature reports whether header has the shape docuparse.Verify
// can accept: after trimming surrounding space, "sha256=" followed by
// exactly 64 hex digits of either case. It says nothing about validity.
func wellFormedSignature(header string) bool {
	digest, ok := strings.CutPrefix(strings.TrimSpace(header), docuparse.SignaturePrefix)
	if !ok || len(digest) != 2*sha256.Size {
		return false
	}
	for i := 0; i < len(digest); i++ {
		c := digest[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

func (h *Handler) refused(reason string) {
	if h.cfg.OnRefused != nil {
		h.cfg.OnRefused(reason)
	}
}
