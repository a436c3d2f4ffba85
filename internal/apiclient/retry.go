package apiclient

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-retryablehttp"
)

// maxRetryAfter caps a server's Retry-After so a wrong header cannot park a
// worker for hours; cancelling the context still stops the wait at once.
const maxRetryAfter = 10 * time.Minute

// call is the state of one API call across its attempts. The retry hooks of
// a per-call retryablehttp.Client close over it; the transport finds it in
// the request context to count attempts for Observe.
type call struct {
	c        *Client
	endpoint string

	attempts atomic.Int32 // attempts that reached the network (counted by the transport)
	tries    int          // attempts as retryablehttp counted them, set when it gives up
	// submit: the call carries an upload under an Idempotency-Key.
	// fate: the current attempt's; whether its whole request may have
	// reached the API, which may then have acted on it (see attemptFate).
	// replayNext: the next attempt asks under the key alone instead of
	// uploading again (an earlier attempt's fate is unknown); replaying: the
	// current attempt does. Both are used by the retry loop's goroutine only.
	submit     bool
	fate       atomic.Pointer[attemptFate]
	replayNext bool
	replaying  bool

	// The last failure, kept by checkRetry for the log line of backoff.
	lastStatus int
	lastErr    error
}

// startAttempt gives the attempt the transport is starting a fresh fate
// and makes it the current one.
func (cl *call) startAttempt() *attemptFate {
	f := &attemptFate{}
	cl.fate.Store(f)
	return f
}

// mayHaveArrived reports whether the current attempt's whole request may
// have reached the API.
func (cl *call) mayHaveArrived() bool {
	f := cl.fate.Load()
	return f != nil && f.arrived.Load()
}

type callKey struct{}

func callFrom(ctx context.Context) *call {
	cl, _ := ctx.Value(callKey{}).(*call)
	return cl
}

// retryClient builds the retryablehttp.Client for one call. It is cheap: the
// connection pool lives in the shared *http.Client.
func (cl *call) retryClient() *retryablehttp.Client {
	cfg := cl.c.cfg
	return &retryablehttp.Client{
		HTTPClient:   cl.c.http,
		Logger:       nil, // we log ourselves, without URLs or keys
		RetryWaitMin: cfg.RetryWaitMin,
		RetryWaitMax: cfg.RetryWaitMax,
		RetryMax:     max(cfg.MaxRetries, 0),
		CheckRetry:   cl.checkRetry,
		Backoff:      cl.backoff,
		ErrorHandler: cl.giveUp,
	}
}

// replayKeyUnknown reports whether the API's refusal of a replay (the key
// alone, no file) means it does not have the key: a 404, or a permanent
// refusal of the request as invalid. A wrong API key or a method or base
// URL the server does not serve says nothing about the key.
func replayKeyUnknown(ae *APIError) bool {
	switch ae.StatusCode {
	case http.StatusNotFound:
		return true
	case http.StatusUnauthorized, http.StatusForbidden, http.StatusMethodNotAllowed, http.StatusNotImplemented:
		return false
	}
	return ae.Permanent()
}

// retryableStatus: 408, 409 (idempotency conflict), 429 and 5xx except 501.
func retryableStatus(code int) bool {
	switch code {
	case http.StatusRequestTimeout, http.StatusConflict, http.StatusTooManyRequests:
		return true
	case http.StatusNotImplemented:
		return false
	}
	return code >= 500 && code <= 599
}

// checkRetry decides after every attempt. A cancelled context, a local file
// problem, an unusable 2xx body, a client rate-limit failure and every
// API refusal stop at once; network errors and retryable statuses go on.
func (cl *call) checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	if err != nil {
		var (
			oe *OpenError
			de *decodeError
			le *limitError
			ae *APIError
		)
		switch {
		case cl.replaying && errors.As(err, &ae) && replayKeyUnknown(ae):
			// The API does not have the key: nothing was created, so the
			// files are uploaded again.
			cl.replayNext = false
			cl.lastStatus, cl.lastErr = ae.StatusCode, nil
			return true, nil
		case errors.As(err, &oe), errors.As(err, &de), errors.As(err, &le), errors.As(err, &ae):
			return false, err
		case cl.submit && !cl.replaying && cl.mayHaveArrived():
			// The whole upload went out (or the API began to answer) and
			// no full answer came back: the API may have created the
			// documents. The next attempt asks under the key before
			// anything is uploaded again.
			cl.replayNext = true
		}
		if retry, _ := retryablehttp.DefaultRetryPolicy(ctx, nil, err); !retry {
			return false, err // bad scheme, bad certificate, redirect loop…
		}
		cl.lastStatus, cl.lastErr = 0, err
		return true, nil
	}
	if retryableStatus(resp.StatusCode) {
		cl.lastStatus, cl.lastErr = resp.StatusCode, nil
		return true, nil
	}
	return false, nil
}

// backoff is called only when a retry will happen. It honours Retry-After on
// 429 and 503 (never waiting less than RetryWaitMin), otherwise waits
// exponentially with jitter: a random time in [d/2, d] for
// d = min(RetryWaitMax, RetryWaitMin·2^n).
func (cl *call) backoff(minWait, maxWait time.Duration, n int, resp *http.Response) time.Duration {
	wait := expBackoff(minWait, maxWait, n)
	if resp != nil && (resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable) {
		if ra, ok := parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
			wait = max(ra, minWait)
		}
	}
	cl.logRetry(n+1, wait)
	return wait
}

func expBackoff(minWait, maxWait time.Duration, n int) time.Duration {
	d := maxWait
	if n < 62 && minWait > 0 {
		if m := minWait << n; m > 0 && m>>n == minWait && m < maxWait {
			d = m
		}
	}
	if d <= 1 {
		return max(d, 0)
	}
	half := d / 2
	return half + rand.N(d-half+1)
}

// parseRetryAfter reads a Retry-After value: delay-seconds or an HTTP date.
// A date in the past means 0. Values are capped at maxRetryAfter.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 0 {
			return 0, false
		}
		if secs > int64(maxRetryAfter/time.Second) {
			return maxRetryAfter, true
		}
		return time.Duration(secs) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return min(max(t.Sub(now), 0), maxRetryAfter), true
}

// retryAfter is the parsed Retry-After header of resp, 0 when absent.
func retryAfter(resp *http.Response) time.Duration {
	d, _ := parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	return d
}

// giveUp runs when retryablehttp stops without success: retries exhausted,
// or checkRetry returned an error. It turns an unread error response into an
// *APIError and records the attempt count for the final message.
func (cl *call) giveUp(resp *http.Response, err error, tries int) (*http.Response, error) {
	cl.tries = tries
	if resp != nil {
		if err == nil {
			return nil, cl.c.readAPIError(cl.endpoint, resp) // exhausted on a retryable status
		}
		resp.Body.Close()
	}
	if err == nil {
		err = errors.New("request failed") // not reached: retryablehttp passes the cause
	}
	return nil, err
}

// logRetry logs a retry decision. Rate limiting and idempotency conflicts are
// normal flow (debug); server errors and network errors are warnings. Nothing
// logged can contain the API key or a request URL.
func (cl *call) logRetry(nextAttempt int, wait time.Duration) {
	level := slog.LevelWarn
	if cl.lastStatus == http.StatusTooManyRequests || cl.lastStatus == http.StatusConflict {
		level = slog.LevelDebug
	}
	attrs := []slog.Attr{
		slog.String("endpoint", cl.endpoint),
		slog.Int("failed_attempt", nextAttempt),
		slog.Duration("wait", wait),
	}
	if cl.lastStatus != 0 {
		attrs = append(attrs, slog.Int("status", cl.lastStatus))
	}
	if cl.lastErr != nil {
		attrs = append(attrs, slog.String("error", cl.c.safe(cl.lastErr).Error()))
	}
	cl.c.log.LogAttrs(context.Background(), level, "docuparse request failed, retrying", attrs...)
}
