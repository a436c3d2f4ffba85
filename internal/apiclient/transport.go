package apiclient

import (
	"net/http"
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
// one and reports each to Observe.
type transport struct {
	base    http.RoundTripper
	limiter *rate.Limiter // nil: unlimited
	observe func(RequestInfo)
}

// RoundTrip implements http.RoundTripper.
func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if t.limiter != nil {
		if err := t.limiter.Wait(req.Context()); err != nil {
			if req.Body != nil {
				req.Body.Close() // a RoundTripper must close the body, even on error
			}
			if req.Context().Err() != nil {
				return nil, req.Context().Err()
			}
			return nil, &limitError{err: err}
		}
	}
	cl := callFrom(req.Context())
	attempt := 0
	if cl != nil {
		attempt = int(cl.attempts.Add(1))
	}
	start := time.Now()
	resp, err := t.base.RoundTrip(req)
	if t.observe != nil && cl != nil {
		info := RequestInfo{Endpoint: cl.endpoint, Attempt: attempt, Duration: time.Since(start)}
		if err == nil {
			info.StatusCode = resp.StatusCode
		}
		t.observe(info)
	}
	return resp, err
}
