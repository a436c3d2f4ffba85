// Package apiclient owns the HTTP client of the DocuParse API: the four calls
// of the contract (POST /batches, POST /extract, GET /documents/{id},
// GET /batches/{id}), with streamed multipart uploads, the Idempotency-Key,
// retries with backoff and Retry-After, a client-side rate limit over every
// attempt, and typed errors (*APIError, *OpenError).
//
// It does not own the wire types (internal/docuparse), deciding what to send
// or when (ingest), recording anything (the store), nor the idempotency keys:
// callers create and persist them before calling, so a retry after a crash
// reuses the same key. The API key never appears in an error or a log line.
package apiclient

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-retryablehttp"
	"golang.org/x/time/rate"

	"github.com/docuparse/docuparse-ingest/internal/docuparse"
)

// Endpoint names, as reported in RequestInfo and APIError.
const (
	EndpointSubmitBatch = "submit_batch"
	EndpointExtract     = "extract"
	EndpointGetDocument = "get_document"
	EndpointGetBatch    = "get_batch"
)

// maxResponseBytes caps a successful response body.
const maxResponseBytes = 16 << 20

// Config configures a Client. Zero values take the documented defaults.
type Config struct {
	// BaseURL is the API root, e.g. "https://YOUR_DOMAIN/api/v1". A trailing
	// slash is ignored. Required.
	BaseURL string
	// APIKey is sent as "Authorization: Bearer <key>". It is a secret: it
	// never appears in an error, a log line or Observe. Required.
	APIKey string
	// Timeout bounds every silence of an attempt, not its length: the dial
	// and the TLS handshake; each stretch of the upload in which the
	// connection takes no byte of the request (StageSend); the wait for the
	// answer once the request is sent (StageAwait); each stretch in which no
	// byte of the answer arrives (StageReceive); and the wait for the rate
	// limiter. A large body on a slow link is never cut while it keeps
	// moving. A stall ends the attempt with a *TimeoutError, retried under
	// the same Idempotency-Key. Defaults to 60 seconds.
	Timeout time.Duration
	// RateLimit is the maximum number of requests per second over all
	// attempts, retries included, with a burst of ceil(RateLimit). 0 means
	// unlimited.
	RateLimit float64
	// MaxRetries is the number of retries after the first attempt. Negative
	// means none. Defaults to 8.
	MaxRetries int
	// RetryWaitMin and RetryWaitMax bound the exponential backoff between
	// attempts. Defaults to 500 milliseconds and 30 seconds.
	RetryWaitMin, RetryWaitMax time.Duration
	// Logger receives retry decisions (debug for 429/409, warn otherwise).
	// Defaults to discarding.
	Logger *slog.Logger
	// Observe, when set, is called after every attempt (from the calling
	// goroutine; it must be safe for concurrent use and fast).
	Observe func(RequestInfo)
}

// Client calls the DocuParse API. It is safe for concurrent use.
type Client struct {
	cfg  Config
	base string // BaseURL without trailing slash
	key  string
	http *http.Client
	rt   *transport
	log  *slog.Logger

	writers atomic.Int64 // running multipart writer goroutines (tests check none leak)
	// bodyEnded, a test hook, runs in a writer goroutine once its whole body
	// went into the pipe, before the pipe reports the body's end.
	bodyEnded func()
}

// New checks cfg, applies defaults and returns a Client.
func New(cfg Config) (*Client, error) {
	base := strings.TrimRight(strings.TrimSpace(cfg.BaseURL), "/")
	if base == "" {
		return nil, errors.New("apiclient: BaseURL is required")
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		// The URL itself is not quoted: it might embed the key.
		return nil, errors.New("apiclient: BaseURL must be an absolute http:// or https:// URL")
	}
	if cfg.APIKey == "" {
		return nil, errors.New("apiclient: APIKey is required")
	}
	for _, r := range cfg.APIKey {
		if r <= ' ' || r > '~' {
			return nil, errors.New("apiclient: APIKey must be printable ASCII without spaces")
		}
	}
	if cfg.RateLimit < 0 {
		return nil, fmt.Errorf("apiclient: RateLimit must not be negative, got %g", cfg.RateLimit)
	}
	if cfg.Timeout < 0 || cfg.RetryWaitMin < 0 || cfg.RetryWaitMax < 0 {
		return nil, errors.New("apiclient: Timeout, RetryWaitMin and RetryWaitMax must not be negative")
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 60 * time.Second
	}
	if cfg.MaxRetries == 0 {
		cfg.MaxRetries = 8
	}
	if cfg.RetryWaitMin == 0 {
		cfg.RetryWaitMin = 500 * time.Millisecond
	}
	if cfg.RetryWaitMax == 0 {
		cfg.RetryWaitMax = 30 * time.Second
	}
	if cfg.RetryWaitMax < cfg.RetryWaitMin {
		cfg.RetryWaitMax = cfg.RetryWaitMin
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}

	pooled := http.DefaultTransport.(*http.Transport).Clone()
	pooled.MaxIdleConnsPerHost = 16
	pooled.DialContext = (&net.Dialer{Timeout: cfg.Timeout, KeepAlive: 30 * time.Second}).DialContext
	pooled.TLSHandshakeTimeout = cfg.Timeout
	// No http.Client.Timeout and no ResponseHeaderTimeout: the transport's
	// watchdog bounds each silence of an attempt, never its length.
	rt := &transport{base: pooled, observe: cfg.Observe, timeout: cfg.Timeout}
	if cfg.RateLimit > 0 {
		burst := int(math.Ceil(min(cfg.RateLimit, 1e6))) // the cap keeps absurd values from overflowing
		rt.limiter = rate.NewLimiter(rate.Limit(cfg.RateLimit), burst)
	}
	return &Client{
		cfg:  cfg,
		base: base,
		key:  cfg.APIKey,
		http: &http.Client{
			Transport: rt,
			// A redirect would turn a POST into a body-less GET and could
			// drop the Authorization header: report it instead (*APIError
			// with the 3xx status, "redirected to <Location>").
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		rt:  rt,
		log: cfg.Logger,
	}, nil
}

// SubmitBatch sends files to POST /batches in one request: one "file" part per
// upload, then one "client_reference" part per upload in the same order (only
// if any is set), then "document_type" (if set). idempotencyKey (1–255
// printable ASCII characters) is sent on every attempt; a 200 replay of an
// earlier submission is success like a 202. The response has one document
// per file, in file order.
func (c *Client) SubmitBatch(ctx context.Context, idempotencyKey string, files []Upload, documentType string) (*docuparse.BatchResponse, error) {
	if len(files) == 0 {
		return nil, errors.New("docuparse submit_batch: no files")
	}
	parts := make([]formPart, 0, 2*len(files)+1)
	anyRef := false
	for i := range files {
		parts = append(parts, formPart{name: fieldFile, file: &files[i], index: i})
		anyRef = anyRef || files[i].ClientReference != ""
	}
	if anyRef {
		for i := range files {
			parts = append(parts, formPart{name: fieldClientReference, text: files[i].ClientReference})
		}
	}
	if documentType != "" {
		parts = append(parts, formPart{name: fieldDocumentType, text: documentType})
	}
	var out docuparse.BatchResponse
	if err := c.submit(ctx, EndpointSubmitBatch, "/batches", idempotencyKey, parts, &out, validBatch(&out, len(files))); err != nil {
		return nil, err
	}
	return &out, nil
}

// validBatch checks a batch answer: an id, and a document id for each of at
// least minDocs documents. More documents than files is legitimate: a batch
// re-sent under the same key without a file that vanished meanwhile gets
// the original answer, which still lists it. Fewer is not.
func validBatch(out *docuparse.BatchResponse, minDocs int) func() error {
	return func() error {
		if out.BatchID == "" {
			return errors.New("batch_id is missing")
		}
		if len(out.Documents) < minDocs {
			return fmt.Errorf("%d documents for %d files", len(out.Documents), minDocs)
		}
		for i, d := range out.Documents {
			if d.DocumentID == "" {
				return fmt.Errorf("document %d has no document_id", i)
			}
		}
		return nil
	}
}

// validExtract checks a single-document answer.
func validExtract(out *docuparse.ExtractResponse) func() error {
	return func() error {
		if out.DocumentID == "" {
			return errors.New("document_id is missing")
		}
		return nil
	}
}

// Extract sends one file to POST /extract with the parts "file",
// "client_reference" (if set) and "document_type" (if set), under
// idempotencyKey like SubmitBatch. An *OpenError has Index 0.
func (c *Client) Extract(ctx context.Context, idempotencyKey string, f Upload, documentType string) (*docuparse.ExtractResponse, error) {
	parts := []formPart{{name: fieldFile, file: &f}}
	if f.ClientReference != "" {
		parts = append(parts, formPart{name: fieldClientReference, text: f.ClientReference})
	}
	if documentType != "" {
		parts = append(parts, formPart{name: fieldDocumentType, text: documentType})
	}
	var out docuparse.ExtractResponse
	if err := c.submit(ctx, EndpointExtract, "/extract", idempotencyKey, parts, &out, validExtract(&out)); err != nil {
		return nil, err
	}
	return &out, nil
}

// GetDocument reads GET /documents/{id}. An unknown id is an *APIError with
// status 404 (see IsNotFound).
func (c *Client) GetDocument(ctx context.Context, id string) (*docuparse.Document, error) {
	var out docuparse.Document
	err := c.get(ctx, EndpointGetDocument, "/documents/", id, &out, func() error {
		if out.DocumentID != id {
			return fmt.Errorf("document_id %q does not match the requested %q", out.DocumentID, id)
		}
		if out.Status == "" {
			return errors.New("status is missing")
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// GetBatch reads GET /batches/{id}. An unknown id is an *APIError with status
// 404 (see IsNotFound).
func (c *Client) GetBatch(ctx context.Context, id string) (*docuparse.Batch, error) {
	var out docuparse.Batch
	err := c.get(ctx, EndpointGetBatch, "/batches/", id, &out, func() error {
		if out.BatchID != id {
			return fmt.Errorf("batch_id %q does not match the requested %q", out.BatchID, id)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

func (c *Client) submit(ctx context.Context, endpoint, path, key string, parts []formPart, out any, validate func() error) error {
	if err := checkIdempotencyKey(key); err != nil {
		return fmt.Errorf("docuparse %s: %w", endpoint, err)
	}
	body, err := newMultipartBody(parts)
	if err != nil {
		return fmt.Errorf("docuparse %s: %w", endpoint, err)
	}
	return c.do(ctx, &request{
		endpoint: endpoint, method: http.MethodPost, path: path, key: key, body: body,
		ok:  func(code int) bool { return code == http.StatusOK || code == http.StatusAccepted },
		out: out, validate: validate,
	})
}

func (c *Client) get(ctx context.Context, endpoint, prefix, id string, out any, validate func() error) error {
	if id == "" {
		return fmt.Errorf("docuparse %s: empty id", endpoint)
	}
	return c.do(ctx, &request{
		endpoint: endpoint, method: http.MethodGet, path: prefix + url.PathEscape(id),
		ok:  func(code int) bool { return code == http.StatusOK },
		out: out, validate: validate,
	})
}

// checkIdempotencyKey enforces the contract: 1–255 printable ASCII characters.
func checkIdempotencyKey(key string) error {
	if key == "" || len(key) > docuparse.MaxIdempotencyKeyLen {
		return fmt.Errorf("idempotency key must have 1 to %d characters, has %d", docuparse.MaxIdempotencyKeyLen, len(key))
	}
	for i := 0; i < len(key); i++ {
		if key[i] < ' ' || key[i] > '~' {
			return fmt.Errorf("idempotency key has a non-printable or non-ASCII byte at %d", i)
		}
	}
	return nil
}

// request is one API call.
type request struct {
	endpoint, method, path string
	key                    string         // Idempotency-Key, "" for GETs
	body                   *multipartBody // nil for GETs
	ok                     func(status int) bool
	out                    any
	validate               func() error
}

// do runs r with retries. Reading and decoding the response happen inside the
// retry loop (the response handler), so a connection reset in the middle of
// a response body is retried like any network error.
func (c *Client) do(ctx context.Context, r *request) error {
	cl := &call{c: c, endpoint: r.endpoint, submit: r.body.hasFiles()}
	ctx = context.WithValue(ctx, callKey{}, cl)
	// An upload whose fate is unknown is followed by a replay of its key
	// alone (see checkRetry): the attempt's body is chosen as it starts.
	replay, err := newMultipartBody(nil)
	if err != nil {
		return fmt.Errorf("docuparse %s: %w", r.endpoint, err)
	}
	bodyOf := func() *multipartBody {
		if cl.replayNext {
			return replay
		}
		return r.body
	}
	var body any
	if r.body != nil {
		body = retryablehttp.ReaderFunc(func() (io.Reader, error) {
			cl.replaying = cl.replayNext
			return c.bodyReader(bodyOf()), nil
		})
	}
	req, err := retryablehttp.NewRequestWithContext(ctx, r.method, c.base+r.path, body)
	if err != nil {
		return c.safe(fmt.Errorf("docuparse %s: build request: %w", r.endpoint, err))
	}
	req.Header.Set("Authorization", "Bearer "+c.key)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "docuparse-ingest")
	if r.body != nil {
		req.ContentLength = r.body.length // -1: chunked
		req.Header.Set("Content-Type", r.body.contentType())
		req.Header.Set(docuparse.HeaderIdempotencyKey, r.key)
	}
	req.SetResponseHandler(func(resp *http.Response) error { return c.readResponse(r, resp) })

	rc := cl.retryClient()
	if r.body != nil {
		rc.PrepareRetry = func(req *http.Request) error {
			b := bodyOf()
			req.ContentLength = b.length
			req.Header = req.Header.Clone()
			req.Header.Set("Content-Type", b.contentType())
			return nil
		}
	}
	if _, err := rc.Do(req); err != nil {
		if cl.replayNext {
			// The last upload went out whole without an answer, and asking
			// under the key did not settle it either.
			err = &FateUnknownError{Err: err}
		}
		return c.safe(cl.wrap(err))
	}
	return nil
}

// wrap gives a final error its context: the endpoint and, after several
// attempts, how many were made. An *OpenError replaces the transport's
// wrapping (which only repeats the URL).
func (cl *call) wrap(err error) error {
	var ae *APIError
	var oe *OpenError
	switch {
	case errors.As(err, &ae):
	case errors.As(err, &oe):
		err = fmt.Errorf("docuparse %s: %w", cl.endpoint, oe)
	default:
		err = fmt.Errorf("docuparse %s: %w", cl.endpoint, err)
	}
	if cl.tries > 1 {
		err = fmt.Errorf("%w (after %d attempts)", err, cl.tries)
	}
	return err
}
