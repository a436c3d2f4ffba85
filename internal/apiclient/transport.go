package apiclient

import (
	"context"
	"net/http"
	"net/http/httptrace"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// RequestInfo describes one attempt, for Config.Observe (metrics).
type RequestInfo struct {
	Endpoint   string        // EndpointSubmitBatch, EndpointExtract, EndpointGetDocument or EndpointGetBatch
	Attempt    int           // 1 for the first attempt of a call, 2 for its first retry, …
	StatusCode int           // HTTP status; 0 when the attempt failed without a response
	Duration   time.Duration // from sending the request to receiving the response headers (or the error)
}

// transport sits under net/http's client, so it sees every attempt —
// retries and redirects included. It waits for the rate limiter before each
// one, runs each under a watchdog of timeout (see watched) and reports each
// to Observe.
type transport struct {
	base    http.RoundTripper
	limiter *rate.Limiter // nil: unlimited
	observe func(RequestInfo)
	timeout time.Duration // Config.Timeout: the longest silence of an attempt
}

// RoundTrip implements http.RoundTripper.
func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := t.wait(req.Context()); err != nil {
		if req.Body != nil {
			req.Body.Close() // a RoundTripper must close the body, even on error
		}
		return nil, err
	}
	cl := callFrom(req.Context())
	attempt := 0
	if cl != nil {
		attempt = int(cl.attempts.Add(1))
		req = req.WithContext(httptrace.WithClientTrace(req.Context(), cl.startAttempt().trace()))
		if cl.submit {
			// Without GetBody, net/http never sends an upload again by
			// itself (it would for a request with an Idempotency-Key on a
			// connection the server closed): every new attempt is the
			// retry loop's, which asks under the key first.
			req.GetBody = nil
		}
	}
	start := time.Now()
	resp, err := watched(t.base, req, t.timeout)
	if t.observe != nil && cl != nil {
		info := RequestInfo{Endpoint: cl.endpoint, Attempt: attempt, Duration: time.Since(start)}
		if err == nil {
			info.StatusCode = resp.StatusCode
		}
		t.observe(info)
	}
	return resp, err
}

// wait takes a token of the rate limiter. A wait longer than the timeout is
// refused at once (*limitError, not retried): the limit is set too low for
// the traffic.
func (t *transport) wait(ctx context.Context) error {
	if t.limiter == nil {
		return nil
	}
	wctx, cancel := context.WithTimeout(ctx, t.timeout)
	defer cancel()
	if err := t.limiter.Wait(wctx); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return &limitError{err: err}
	}
	return nil
}

// attemptFate records whether one attempt's whole request may have reached
// the API. It only ever turns true, and each attempt has its own: a trace
// callback of an earlier attempt that fires late cannot change the current
// attempt's answer.
type attemptFate struct {
	arrived atomic.Bool
}

// trace marks the fate on either sign that the API may have the whole
// request. WroteRequest alone is not enough: with a Content-Length,
// net/http reports the request written only once a further read of the
// body saw its end, and our body's end comes from a writer goroutine that a
// busy machine may not run in time. The server, which had every byte,
// may answer (and the connection break) before that, and net/http hands
// over such a response without waiting for the write. A server that began
// answering has received the request, so the first response byte marks it.
func (f *attemptFate) trace() *httptrace.ClientTrace {
	return &httptrace.ClientTrace{
		WroteRequest: func(i httptrace.WroteRequestInfo) {
			if i.Err == nil {
				f.arrived.Store(true)
			}
		},
		GotFirstResponseByte: func() { f.arrived.Store(true) },
	}
}
