package receiver

import (
	"context"
	"crypto/sha256"
	"errors"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/docuparse"
	"github.com/docuparse/docuparse-ingest/internal/safetext"
	"github.com/docuparse/docuparse-ingest/internal/store"
	"github.com/docuparse/docuparse-ingest/internal/vocab"
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
	// MaxUnverifiedBytes bounds the bytes held by all bodies not yet
	// verified, together: a request that finds it spent is answered 503
	// with Retry-After at once, never queued. Defaults to
	// DefaultMaxUnverifiedBytes, and is at least twice MaxBody.
	MaxUnverifiedBytes int64
	// BodyTimeout is how long a body may take to arrive, whole, from the
	// end of its headers; a slower one is answered 408. Defaults to 5 s.
	BodyTimeout time.Duration
	// MinBodyRate is the average rate, in bytes per second from the end of
	// the headers, that a body must keep up past its first KiB (after a
	// grace of 1 s), or be answered 408 like a body over BodyTimeout: an
	// unverified body can hold budget only as long as it takes to send it.
	// Defaults to DefaultMinBodyRate.
	MinBodyRate int64
	// MaxInFlight bounds the verified deliveries being journaled at once;
	// one beyond it is answered 503 with Retry-After (the API retries).
	// Only a correctly signed delivery can take a slot. Defaults to
	// DefaultMaxInFlight.
	MaxInFlight int
	// MaxAge is the replay window: a verified delivery whose signed
	// timestamp is older than this is refused (400, vocab.RefusedStaleTimestamp);
	// one stamped more than MaxFutureSkew ahead of Now is refused too
	// (vocab.RefusedFutureTimestamp). 0 turns the window off.
	MaxAge time.Duration
	// MaxFutureSkew is the clock disagreement allowed for a timestamp ahead
	// of Now. Defaults to DefaultMaxFutureSkew.
	MaxFutureSkew time.Duration
	// Now is the clock of the replay window. Defaults to time.Now.
	Now func() time.Time
	// RefusalLogInterval is how often refusals are logged one by one; the
	// others in an interval make one summary line. Defaults to
	// DefaultRefusalLogInterval.
	RefusalLogInterval time.Duration
	// OnRefused, when set, is told why a request was refused before
	// anything was stored: one of vocab.Refusals (for counters and
	// the nightly report). It sees every refusal, logged or not.
	OnRefused func(reason string)
	// OnAccepted, when set, is told of each delivery answered 200, and
	// whether it repeated one already stored.
	OnAccepted func(duplicate bool)
	Logger     *slog.Logger
}

// Handler is the webhook endpoint's http.Handler.
type Handler struct {
	cfg      HandlerConfig
	journal  *journal
	budget   *byteBudget
	slots    slots
	window   window
	refusals *refusalLog
}

// NewHandler returns the webhook handler journaling into st.
func NewHandler(cfg HandlerConfig, st Journal) *Handler {
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = 1_000_000
	}
	if cfg.MaxUnverifiedBytes <= 0 {
		cfg.MaxUnverifiedBytes = DefaultMaxUnverifiedBytes
	}
	cfg.MaxUnverifiedBytes = max(cfg.MaxUnverifiedBytes, 2*cfg.MaxBody)
	if cfg.BodyTimeout <= 0 {
		cfg.BodyTimeout = 5 * time.Second
	}
	if cfg.MinBodyRate <= 0 {
		cfg.MinBodyRate = DefaultMinBodyRate
	}
	if cfg.MaxInFlight <= 0 {
		cfg.MaxInFlight = DefaultMaxInFlight
	}
	if cfg.MaxFutureSkew <= 0 {
		cfg.MaxFutureSkew = DefaultMaxFutureSkew
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.RefusalLogInterval <= 0 {
		cfg.RefusalLogInterval = DefaultRefusalLogInterval
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Handler{
		cfg: cfg, journal: newJournal(st),
		budget:   &byteBudget{max: cfg.MaxUnverifiedBytes},
		slots:    make(slots, cfg.MaxInFlight),
		window:   window{maxAge: cfg.MaxAge, skew: cfg.MaxFutureSkew, now: cfg.Now},
		refusals: newRefusalLog(cfg.Logger, cfg.RefusalLogInterval),
	}
}

// Start runs the group-commit writer: concurrent deliveries then share one
// transaction. Without Start each delivery is its own transaction. It
// returns at once.
func (h *Handler) Start(ctx context.Context) { h.journal.start(ctx) }

// Stop stops the writer; deliveries after it are answered 503 (the API
// retries them). It also writes the summary of refusals not yet logged.
// Stop the HTTP server first so that requests in flight finish. Safe to
// call twice.
func (h *Handler) Stop() {
	h.journal.stop()
	h.refusals.stop()
}

// ServeHTTP verifies, journals and acknowledges one delivery. Until its
// signature is checked a request is an outsider's: it is refused before
// its body is read whenever its headers allow, its body is read against a
// deadline and a budget shared by all unverified bodies, and it can never
// take one of the verified deliveries' slots.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !h.admit(w, r) {
		return
	}
	body, ok := h.readVerified(w, r)
	if !ok {
		return
	}
	h.journalDelivery(w, r, body)
}

// admit refuses, before a byte of the body is read, what cannot be a
// delivery: another method, another content type, a missing or malformed
// signature, a declared length over MaxBody.
func (h *Handler) admit(w http.ResponseWriter, r *http.Request) bool {
	switch {
	case r.Method != http.MethodPost:
		w.Header().Set("Allow", http.MethodPost)
		h.refuse(w, r, vocab.RefusedBadRequest, http.StatusMethodNotAllowed, "method not allowed", "method", clip(r.Method, 20))
	case !jsonContentType(r.Header.Get("Content-Type")):
		h.refuse(w, r, vocab.RefusedBadRequest, http.StatusUnsupportedMediaType, "content type must be application/json",
			"content_type", clip(r.Header.Get("Content-Type"), 100))
	// A missing or malformed signature cannot become valid whatever the
	// body holds: refused before reading a byte, so an unsigned client
	// cannot hold a connection and memory for the body's deadline.
	case !h.cfg.AllowUnsigned && !wellFormedSignature(r.Header.Get(docuparse.HeaderSignature)):
		h.refuse(w, r, vocab.RefusedBadSignature, http.StatusUnauthorized, "invalid signature", "declared_bytes", r.ContentLength)
	case r.ContentLength > h.cfg.MaxBody:
		h.refuse(w, r, vocab.RefusedTooLarge, http.StatusRequestEntityTooLarge, "body too large", "declared_bytes", r.ContentLength)
	default:
		return true
	}
	return false
}

// readVerified reads the body within BodyTimeout, MinBodyRate and the
// unverified-body budget, and checks its signature. The budget is given
// back before it returns: a verified body is the API's, bounded by the
// verified slots.
func (h *Handler) readVerified(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	ub := unverifiedBody{budget: h.budget, setDeadline: http.NewResponseController(w).SetReadDeadline,
		pace: pace{start: time.Now(), timeout: h.cfg.BodyTimeout, rate: h.cfg.MinBodyRate}}
	defer ub.release()
	if err := ub.read(r.Body, r.ContentLength, h.cfg.MaxBody); err != nil {
		h.bodyError(w, r, err, ub.n)
		return nil, false
	}
	// Past the last part's deadline net/http's background read would
	// cancel r.Context() while the delivery is journaled: the body
	// deadline holds from here, as it did for the whole body.
	_ = ub.setDeadline(ub.pace.start.Add(h.cfg.BodyTimeout))
	if !h.cfg.AllowUnsigned && !docuparse.VerifyParts(h.cfg.Secrets, ub.parts, r.Header.Get(docuparse.HeaderSignature)) {
		h.refuse(w, r, vocab.RefusedBadSignature, http.StatusUnauthorized, "invalid signature", "bytes", ub.n)
		return nil, false
	}
	return ub.bytes(), true
}

// bodyError answers a body that could not be read whole.
func (h *Handler) bodyError(w http.ResponseWriter, r *http.Request, err error, read int64) {
	var ne net.Error
	switch {
	case errors.Is(err, errBodyTooLarge):
		h.refuse(w, r, vocab.RefusedTooLarge, http.StatusRequestEntityTooLarge, "body too large", "bytes", read)
	case errors.Is(err, errBudgetSpent):
		h.refuse(w, r, vocab.RefusedOverloaded, http.StatusServiceUnavailable, "too many unverified bodies in flight",
			"bytes", read, "budget", h.budget.max)
	case errors.As(err, &ne) && ne.Timeout():
		h.refuse(w, r, vocab.RefusedSlowBody, http.StatusRequestTimeout, "body not received in time",
			"bytes", read, "timeout", h.cfg.BodyTimeout, "min_rate", h.cfg.MinBodyRate)
	default:
		h.refuse(w, r, vocab.RefusedBadRequest, http.StatusBadRequest, "cannot read body", "bytes", read)
	}
}

// journalDelivery checks a verified delivery's timestamp, takes a verified
// slot, journals it durably and answers 200.
func (h *Handler) journalDelivery(w http.ResponseWriter, r *http.Request, body []byte) {
	ev, ts := identify(body, r.Header.Get(docuparse.HeaderDelivery))
	if reason, age := h.window.check(ts); reason != "" {
		h.refuse(w, r, reason, http.StatusBadRequest, "timestamp outside the accepted window",
			"age", age.Round(time.Second), "max_age", h.window.maxAge)
		return
	}
	if !h.slots.take() {
		h.refuse(w, r, vocab.RefusedBusy, http.StatusServiceUnavailable, "too many requests in flight", "limit", cap(h.slots))
		return
	}
	defer h.slots.give()
	inserted, err := h.journal.write(r.Context(), ev)
	if err != nil {
		// Not stored: a non-200 makes the API deliver it again.
		h.refused(vocab.RefusedStoreError)
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
	} else {
		h.cfg.Logger.Debug("duplicate webhook acknowledged", "event", ev.Type, "document_id", ev.DocumentID, "delivery", ev.DeliveryID)
	}
}

// refuse counts and logs (rate-limited) one refusal and answers it. The
// connection is closed after the answer (closeAfterAnswer), so a refused
// client cannot keep it.
func (h *Handler) refuse(w http.ResponseWriter, r *http.Request, reason string, status int, text string, attrs ...any) {
	h.refused(reason)
	h.refusals.refused(reason, "webhook refused: "+text,
		append([]any{"status", status, "remote", r.RemoteAddr}, attrs...)...)
	if reason == vocab.RefusedSlowBody {
		// Its read deadline has passed: net/http's drain ends at once.
		w.Header().Set("Connection", "close")
	} else {
		closeAfterAnswer(w)
	}
	if status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "1")
	}
	http.Error(w, text, status)
}

// refusalDrain is how long net/http may go on reading the unread body of a
// refused request, so that an honest client still sending it reads the
// answer rather than a reset, before the connection is closed.
const refusalDrain = time.Second

// closeAfterAnswer makes the answer the connection's last. net/http still
// drains up to 256 KiB of a body the handler left unread before closing,
// within the connection's read deadline (the whole request's, 10 s, when
// the body deadline was never set): a request refused at its headers whose
// body never came held its connection, in a request and so never closed to
// make room, that long. The drain gets refusalDrain.
func closeAfterAnswer(w http.ResponseWriter) {
	w.Header().Set("Connection", "close")
	// A writer without deadlines (a test's recorder) has nothing to drain.
	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(refusalDrain))
}

// Identify extracts what the journal indexes from a verified body. The
// dedupe key is the SHA-256 of the raw bytes: a retry carries the same
// bytes (the original timestamp included), so every retry and duplicate of
// one event shares it, whether or not X-DocuParse-Delivery is sent. A body
// that is not a JSON object with an event name is marked dead.
func Identify(body []byte, deliveryID string) store.IncomingEvent {
	ev, _ := identify(body, deliveryID)
	return ev
}

// identify is Identify that also returns the body's "timestamp" as sent
// ("" when the body is not a JSON object). It reads the body with
// ParseEvent, as the applier does.
func identify(body []byte, deliveryID string) (store.IncomingEvent, string) {
	sum := sha256.Sum256(body)
	ev := store.IncomingEvent{
		DedupeKey:  string(sum[:]),
		DeliveryID: clip(deliveryID, 255),
		Body:       body,
	}
	e := ParseEvent(body)
	if e.parseErr != nil {
		ev.Dead, ev.Note = true, noteUnparseable+clip(e.parseErr.Error(), 200)
		return ev, ""
	}
	ev.Type, ev.DocumentID, ev.BatchID = clip(e.Type, 100), clip(e.DocumentID, 255), clip(e.BatchID, 255)
	if e.deadOnArrival() {
		ev.Dead, ev.Note = true, e.Dead
	}
	return ev, e.Timestamp
}

// clip returns s as valid UTF-8, cut to at most n bytes on a rune boundary
// (cutting inside a multi-byte rune would store invalid UTF-8).
func clip(s string, n int) string {
	return safetext.Cut(strings.ToValidUTF8(s, "\uFFFD"), n)
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
