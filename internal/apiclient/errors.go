package apiclient

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"

	"github.com/docuparse/docuparse-ingest/internal/docuparse"
)

// maxErrorBody is how much of a non-2xx body is read to find the error envelope.
const maxErrorBody = 64 << 10

// maxErrorText bounds the message kept from a body that is not the JSON envelope.
const maxErrorText = 256

// redactedMark replaces the API key wherever it would otherwise be shown.
const redactedMark = "[REDACTED]"

// ErrSizeChanged is wrapped by an *OpenError when a file's content does not
// have the Upload.Size bytes announced for it (it grew or shrank after it was
// measured). The attempt is aborted before the body is complete, so the API
// never receives a corrupt document.
var ErrSizeChanged = errors.New("file size changed since it was measured")

// APIError is a non-2xx answer of the DocuParse API, parsed from its
// {"error":{...}} envelope. Bodies that are not the envelope are tolerated:
// Code is then empty and Message holds a short, sanitised excerpt.
type APIError struct {
	Endpoint   string        // "submit_batch", "extract", "get_document" or "get_batch"
	StatusCode int           // HTTP status
	Code       string        // error.code, e.g. FILE_TOO_LARGE
	Message    string        // error.message
	Filename   string        // error.filename: the refused file of a batch
	RetryAfter time.Duration // from the Retry-After header, 0 when absent
}

// Error describes the refusal; it never contains the API key.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "docuparse %s: HTTP %d", e.Endpoint, e.StatusCode)
	if e.Code != "" {
		b.WriteString(" " + e.Code)
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	if e.Filename != "" {
		fmt.Fprintf(&b, " (file %q)", e.Filename)
	}
	return b.String()
}

// Permanent reports whether sending the same request again cannot succeed:
// every 4xx except 408, 409 (idempotency conflict: the first request is still
// in flight) and 429, plus 501 (the endpoint does not exist on this server).
func (e *APIError) Permanent() bool {
	switch e.StatusCode {
	case http.StatusRequestTimeout, http.StatusConflict, http.StatusTooManyRequests:
		return false
	case http.StatusNotImplemented:
		return true
	}
	return e.StatusCode >= 400 && e.StatusCode < 500
}

// IsPermanent reports whether err carries an *APIError that is Permanent. It
// is false for network errors, exhausted retries of transient statuses,
// cancellations and *OpenError (a local file problem, not an API refusal).
func IsPermanent(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Permanent()
}

// IsAuthRefused reports whether err carries an *APIError with status 401 or
// 403: the API refuses the API key. No request with that key can succeed
// until an operator fixes it, whatever the request.
func IsAuthRefused(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && (ae.StatusCode == http.StatusUnauthorized || ae.StatusCode == http.StatusForbidden)
}

// IsNotFound reports whether err carries an *APIError with status 404
// (unknown document or batch id, or a result older than 30 days).
func IsNotFound(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.StatusCode == http.StatusNotFound
}

// OpenError reports that the file of files[Index] could not be sent: its
// Upload.Open failed (vanished, unreadable), reading it failed, or its size
// differs from Upload.Size (then Err wraps ErrSizeChanged). Retrying stops at
// once, so the caller can mark that file and resubmit the others.
type OpenError struct {
	Index    int    // position of the file in the submitted slice (0 for Extract)
	Filename string // Upload.Filename as given by the caller
	Err      error
}

// Error names the file by position and name.
func (e *OpenError) Error() string {
	return fmt.Sprintf("file %d (%q): %v", e.Index, e.Filename, e.Err)
}

// Unwrap returns the underlying error (for errors.Is(err, fs.ErrNotExist)).
func (e *OpenError) Unwrap() error { return e.Err }

// decodeError marks a complete 2xx body that is not what the contract
// promises. It is not retried: the same server would answer the same way.
type decodeError struct{ err error }

func (e *decodeError) Error() string { return "invalid response body: " + e.err.Error() }
func (e *decodeError) Unwrap() error { return e.err }

// Is makes every decodeError match ErrUnusableAnswer.
func (e *decodeError) Is(target error) bool { return target == ErrUnusableAnswer }

// ErrUnusableAnswer is matched (errors.Is) by the error of a call whose
// 2xx answer is not what the contract promises: not JSON, missing ids, or
// fewer documents than files sent. The API accepted something it cannot
// tell about usably, so the caller decides how often to ask again.
var ErrUnusableAnswer = errors.New("the API answered 2xx with an unusable body")

// limitError marks a failed wait for the client-side rate limiter (the wait
// would outlast the deadline). It is not retried.
type limitError struct{ err error }

func (e *limitError) Error() string { return "client rate limit: " + e.err.Error() }
func (e *limitError) Unwrap() error { return e.err }

// readAPIError reads at most maxErrorBody bytes of a non-2xx response, closes
// it and returns the parsed, redacted *APIError.
func (c *Client) readAPIError(endpoint string, resp *http.Response) *APIError {
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody)) // a short read still tells something
	text := string(body)
	if len(body) == maxErrorBody { // possibly cut: the key may straddle the limit
		text = c.redactCutKey(text, len(text))
	}
	e := &APIError{Endpoint: endpoint, StatusCode: resp.StatusCode, RetryAfter: retryAfter(resp)}
	var env docuparse.ErrorEnvelope
	if json.Unmarshal([]byte(text), &env) == nil && (env.Error.Code != "" || env.Error.Message != "") {
		e.Code = c.cleanRedacted(env.Error.Code, 64)
		e.Message = c.cleanRedacted(env.Error.Message, 4*maxErrorText)
		e.Filename = c.redact(env.Error.Filename)
	} else {
		e.Message = c.cleanRedacted(text, maxErrorText)
	}
	if loc := resp.Header.Get("Location"); resp.StatusCode/100 == 3 && loc != "" {
		e.Message = "redirected to " + c.cleanRedacted(loc, maxErrorText) + "; set the base URL to the final address"
	}
	if e.Message == "" && e.Code == "" {
		e.Message = http.StatusText(resp.StatusCode)
	}
	return e
}

// squash makes untrusted text fit for one log line: valid UTF-8, control
// characters as spaces, runs of space collapsed. It neither bounds nor
// redacts: text from the API goes through cleanRedacted.
func squash(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }), " ")
}

// runeCut returns the largest n <= limit at which s can be cut on a rune
// boundary.
func runeCut(s string, limit int) int {
	if limit >= len(s) {
		return len(s)
	}
	n := max(limit, 0)
	for n > 0 && !utf8RuneStart(s[n]) {
		n--
	}
	return n
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }

// minKeyPrefix is the shortest start of the API key that redactCutKey hides
// at the end of a cut text. Shorter ones tell little and would mask
// ordinary words.
const minKeyPrefix = 8

// cleanRedacted makes text from the API fit for one log line and an error
// field: squashed, the API key redacted, then cut to at most limit bytes
// (plus "…" when cut). The key is redacted before the text is cut, so a key
// straddling the cut cannot survive as a part the exact match misses; a
// start of the key of at least minKeyPrefix bytes left at the cut is
// redacted as well.
func (c *Client) cleanRedacted(s string, limit int) string {
	s = c.redact(squash(s))
	if len(s) <= limit {
		return s
	}
	return c.redactCutKey(s[:runeCut(s, limit)], limit) + "…"
}

// redactCutKey replaces a tail of s that is the first minKeyPrefix or more
// bytes of the API key (what is left of a key cut by a length bound) with
// redactedMark, keeping the result within limit bytes.
func (c *Client) redactCutKey(s string, limit int) string {
	for n := min(len(c.key)-1, len(s)); n >= minKeyPrefix; n-- {
		if !strings.HasSuffix(s, c.key[:n]) {
			continue
		}
		head := s[:len(s)-n]
		if room := limit - len(redactedMark); len(head) > room {
			head = head[:runeCut(head, room)]
		}
		return head + redactedMark
	}
	return s
}

// redact removes the API key from s.
func (c *Client) redact(s string) string {
	if c.key == "" {
		return s
	}
	return strings.ReplaceAll(s, c.key, redactedMark)
}

// safeError is err with the API key removed from its message. Unwrap keeps
// errors.Is/As working; the *url.Error inside has had its URL redacted too.
type safeError struct {
	msg string
	err error
}

func (e *safeError) Error() string { return e.msg }
func (e *safeError) Unwrap() error { return e.err }

// safe returns err such that neither its message nor the URL of a wrapped
// *url.Error can show the API key.
func (c *Client) safe(err error) error {
	if err == nil || c.key == "" {
		return err
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		ue.URL = c.redact(ue.URL)
	}
	msg := err.Error()
	if !strings.Contains(msg, c.key) {
		return err
	}
	return &safeError{msg: c.redact(msg), err: err}
}

// FateUnknownError is the error of a submit call whose last attempt was
// sent whole and got no answer (the connection broke, or no answer came
// within Config.Timeout): the API may have created the documents. The
// client does not send the files again by itself; the caller asks under
// the same Idempotency-Key first (ReplayBatch, ReplayExtract), which costs
// no upload and answers the original response if the API has it.
type FateUnknownError struct{ Err error }

func (e *FateUnknownError) Error() string {
	return "sent, but no answer: " + e.Err.Error()
}

func (e *FateUnknownError) Unwrap() error { return e.Err }
