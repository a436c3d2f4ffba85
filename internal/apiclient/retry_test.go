package apiclient

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/docuparse/docuparse-ingest/internal/docuparse"
)

func TestTransientAnswersAreRetriedWithTheSameKeyAndACompleteBody(t *testing.T) {
	t.Parallel()
	script := []func(w http.ResponseWriter){
		func(w http.ResponseWriter) { writeError(w, 503, "UNAVAILABLE", "maintenance", "") },
		func(w http.ResponseWriter) { writeError(w, 408, "TIMEOUT", "slow", "") },
		func(w http.ResponseWriter) {
			writeError(w, 409, docuparse.CodeIdempotencyConflict, "first request still in flight", "")
		},
		func(w http.ResponseWriter) { writeError(w, 500, "INTERNAL", "oops", "") },
		func(w http.ResponseWriter) {
			w.Header().Set("Retry-After", "0")
			writeError(w, 429, docuparse.CodeRateLimited, "slow down", "")
		},
		func(w http.ResponseWriter) { w.WriteHeader(http.StatusBadGateway) },
	}
	api := newFakeAPI(t, func(n int, a *attempt, w http.ResponseWriter, r *http.Request) bool {
		if n <= len(script) {
			script[n-1](w)
			return true
		}
		return false
	})
	c, obs := newClient(t, api.url(), nil)
	dir := t.TempDir()
	files := []testFile{writeFile(t, dir, "a.pdf", []byte(strings.Repeat("A", 70_000))), writeFile(t, dir, "b.csv", []byte("x,y\n"))}

	resp, err := c.SubmitBatch(context.Background(), "same-key", uploads(files...), "invoice")
	if err != nil {
		t.Fatalf("SubmitBatch: %v", err)
	}
	if resp.BatchID != "batch_7" {
		t.Errorf("batch id %q, want the 7th attempt's", resp.BatchID)
	}
	got := api.attempts()
	if len(got) != 7 {
		t.Fatalf("%d attempts, want 7", len(got))
	}
	for i, at := range got {
		if at.IdempotencyKey != "same-key" {
			t.Errorf("attempt %d key %q", i+1, at.IdempotencyKey)
		}
		if !at.Complete || at.Received != at.ContentLength {
			t.Errorf("attempt %d body incomplete: %s (%d of %d bytes)", i+1, at.BodyErr, at.Received, at.ContentLength)
		}
		fs := at.files()
		if len(fs) != 2 || fs[0].SHA256 != files[0].sha256 || fs[1].SHA256 != files[1].sha256 {
			t.Errorf("attempt %d files %+v", i+1, fs)
		}
	}
	if s := obs.statuses(); !slices.Equal(s, []int{503, 408, 409, 500, 429, 502, 202}) {
		t.Errorf("observed statuses %v", s)
	}
	for i, info := range obs.infos {
		if info.Attempt != i+1 || info.Endpoint != EndpointSubmitBatch {
			t.Errorf("observed %+v at %d", info, i)
		}
	}
}

func TestRetryAfterIsHonoured(t *testing.T) {
	t.Parallel()
	api := newFakeAPI(t, func(n int, a *attempt, w http.ResponseWriter, r *http.Request) bool {
		if n == 1 {
			w.Header().Set("Retry-After", "1")
			writeError(w, 429, docuparse.CodeRateLimited, "slow down", "")
			return true
		}
		return false
	})
	c, obs := newClient(t, api.url(), nil)
	if _, err := c.Extract(context.Background(), "k", writeFile(t, t.TempDir(), "a.pdf", []byte("a")).upload, ""); err != nil {
		t.Fatal(err)
	}
	if s := obs.statuses(); !slices.Equal(s, []int{429, 202}) {
		t.Errorf("observed statuses %v", s)
	}
	// The wait itself is checked on the backoff function, not with a clock.
	cl := &call{c: c, endpoint: "x"}
	for _, tc := range []struct {
		status int
		header string
		want   time.Duration
	}{
		{429, "7", 7 * time.Second},
		{503, "120", 120 * time.Second},
		{503, "99999", maxRetryAfter},
		{429, "0", time.Millisecond}, // never below RetryWaitMin
		{429, time.Now().Add(90 * time.Second).UTC().Format(http.TimeFormat), 90 * time.Second},
	} {
		resp := &http.Response{StatusCode: tc.status, Header: http.Header{"Retry-After": {tc.header}}}
		got := cl.backoff(time.Millisecond, 30*time.Second, 0, resp)
		if got > tc.want || got < tc.want-2*time.Second {
			t.Errorf("Retry-After %q on %d: wait %v, want about %v", tc.header, tc.status, got, tc.want)
		}
	}
	// Retry-After on other statuses and garbage values fall back to backoff.
	for _, resp := range []*http.Response{
		{StatusCode: 500, Header: http.Header{"Retry-After": {"60"}}},
		{StatusCode: 429, Header: http.Header{"Retry-After": {"soon"}}},
		{StatusCode: 429, Header: http.Header{"Retry-After": {"-5"}}},
	} {
		if got := cl.backoff(time.Millisecond, 8*time.Millisecond, 3, resp); got < 4*time.Millisecond || got > 8*time.Millisecond {
			t.Errorf("%d %v: wait %v, want backoff in [4ms, 8ms]", resp.StatusCode, resp.Header, got)
		}
	}
}

func TestExponentialBackoffGrowsWithJitterUpToTheMaximum(t *testing.T) {
	t.Parallel()
	min, max := 500*time.Millisecond, 30*time.Second
	for n := 0; n < 70; n++ {
		d := max
		if n < 6 {
			d = min << n
		}
		for range 20 {
			got := expBackoff(min, max, n)
			if got < d/2 || got > d {
				t.Fatalf("attempt %d: %v outside [%v, %v]", n, got, d/2, d)
			}
		}
	}
	if got := expBackoff(0, 0, 3); got != 0 {
		t.Errorf("zero bounds: %v", got)
	}
}

func TestPermanentRefusalsAreNotRetried(t *testing.T) {
	t.Parallel()
	cases := []struct {
		status         int
		code, filename string
	}{
		{400, docuparse.CodeInvalidRequest, ""},
		{401, docuparse.CodeUnauthorized, ""},
		{404, docuparse.CodeNotFound, ""},
		{413, docuparse.CodeFileTooLarge, "big.pdf"},
		{413, docuparse.CodeBatchTooLarge, ""},
		{415, docuparse.CodeUnsupportedMedia, "notes.txt"},
		{501, "NOT_IMPLEMENTED", ""},
	}
	for _, tc := range cases {
		t.Run(tc.code, func(t *testing.T) {
			t.Parallel()
			api := newFakeAPI(t, func(n int, a *attempt, w http.ResponseWriter, r *http.Request) bool {
				writeError(w, tc.status, tc.code, "refused", tc.filename)
				return true
			})
			c, _ := newClient(t, api.url(), nil)
			_, err := c.SubmitBatch(context.Background(), "k", uploads(writeFile(t, t.TempDir(), "big.pdf", []byte("x"))), "")
			var ae *APIError
			if !errors.As(err, &ae) {
				t.Fatalf("err = %v, want *APIError", err)
			}
			if ae.StatusCode != tc.status || ae.Code != tc.code || ae.Filename != tc.filename || ae.Message != "refused" || ae.Endpoint != EndpointSubmitBatch {
				t.Errorf("APIError = %+v", ae)
			}
			if !IsPermanent(err) {
				t.Errorf("IsPermanent false for %d", tc.status)
			}
			if tc.filename != "" && !strings.Contains(err.Error(), tc.filename) {
				t.Errorf("message %q does not name the file", err)
			}
			if n := len(api.attempts()); n != 1 {
				t.Errorf("%d attempts, want 1", n)
			}
		})
	}
}

func TestExhaustedRetriesSayHowManyAttemptsWereMade(t *testing.T) {
	t.Parallel()
	api := newFakeAPI(t, func(n int, a *attempt, w http.ResponseWriter, r *http.Request) bool {
		writeError(w, 503, "UNAVAILABLE", "down for maintenance", "")
		return true
	})
	c, _ := newClient(t, api.url(), func(cfg *Config) { cfg.MaxRetries = 2 })
	_, err := c.GetDocument(context.Background(), "doc_1")
	var ae *APIError
	if !errors.As(err, &ae) || ae.StatusCode != 503 || ae.Message != "down for maintenance" {
		t.Fatalf("err = %v, want the last 503 APIError", err)
	}
	if IsPermanent(err) || !strings.Contains(err.Error(), "after 3 attempts") {
		t.Errorf("err = %q (permanent %v)", err, IsPermanent(err))
	}
	if n := len(api.attempts()); n != 3 {
		t.Errorf("%d attempts, want 3", n)
	}

	// Network errors: nothing listens any more.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c2, obs := newClient(t, "http://"+addr+"/api/v1", func(cfg *Config) { cfg.MaxRetries = 1 })
	_, err = c2.GetBatch(context.Background(), "b")
	if err == nil || !strings.Contains(err.Error(), "after 2 attempts") || !strings.Contains(err.Error(), "get_batch") {
		t.Errorf("network err = %v", err)
	}
	if s := obs.statuses(); !slices.Equal(s, []int{0, 0}) {
		t.Errorf("observed %v, want two network failures", s)
	}
}

func TestErrorBodiesThatAreNotTheEnvelopeAreTolerated(t *testing.T) {
	t.Parallel()
	api := newFakeAPI(t, func(n int, a *attempt, w http.ResponseWriter, r *http.Request) bool {
		switch a.Path {
		case "/api/v1/documents/html":
			w.WriteHeader(http.StatusBadGateway)
			_, _ = w.Write([]byte("<html>\n<body>Bad\tgateway</body></html>"))
		case "/api/v1/documents/huge":
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(strings.Repeat("x", 1<<20)))
		default:
			w.WriteHeader(http.StatusForbidden)
		}
		return true
	})
	c, _ := newClient(t, api.url(), func(cfg *Config) { cfg.MaxRetries = -1 })
	ctx := context.Background()
	_, err := c.GetDocument(ctx, "html")
	var ae *APIError
	if !errors.As(err, &ae) || ae.StatusCode != 502 || ae.Code != "" || ae.Message != "<html> <body>Bad gateway</body></html>" {
		t.Errorf("html: %#v", ae)
	}
	_, err = c.GetDocument(ctx, "huge")
	if !errors.As(err, &ae) || len(ae.Message) > maxErrorText+4 || !IsPermanent(err) {
		t.Errorf("huge: message of %d bytes, err %v", len(ae.Message), err)
	}
	_, err = c.GetDocument(ctx, "empty")
	if !errors.As(err, &ae) || ae.Message != "Forbidden" {
		t.Errorf("empty: %#v", ae)
	}
	if n := len(api.attempts()); n != 3 {
		t.Errorf("%d attempts with MaxRetries -1, want 3 (one per call)", n)
	}
}

// An upload whose answer is lost is not sent again: the next attempts ask
// under the key alone (no file), until the API's original answer comes.
func TestConnectionDroppedMidResponseIsRetried(t *testing.T) {
	t.Parallel()
	api := newFakeAPI(t, func(n int, a *attempt, w http.ResponseWriter, r *http.Request) bool {
		if n > 2 {
			// The replay of a known key: the original answer, with 200.
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"batch_id": "batch_1", "status": "processing", "documents": [{"document_id": "doc_1", "filename": "a.pdf"}]}`))
			return true
		}
		conn, buf, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Errorf("hijack: %v", err)
			return true
		}
		if n == 1 { // half a response, then a reset
			_, _ = buf.WriteString("HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\nContent-Length: 400\r\n\r\n{\"batch_id\":\"batch_")
			_ = buf.Flush()
			if tc, ok := conn.(*net.TCPConn); ok {
				_ = tc.SetLinger(0)
			}
		}
		conn.Close() // n == 2: no answer at all
		return true
	})
	c, obs := newClient(t, api.url(), nil)
	files := uploads(writeFile(t, t.TempDir(), "a.pdf", []byte("abc")))
	resp, err := c.SubmitBatch(context.Background(), "k-reset", files, "")
	if err != nil {
		t.Fatalf("SubmitBatch: %v", err)
	}
	if resp.BatchID != "batch_1" {
		t.Errorf("batch id %q", resp.BatchID)
	}
	got := api.attempts()
	if len(got) != 3 || len(got[0].files()) != 1 {
		t.Fatalf("attempts = %+v, want an upload then two replays", got)
	}
	for i, a := range got[1:] {
		if a.IdempotencyKey != "k-reset" || !a.Complete || len(a.files()) != 0 {
			t.Errorf("attempt %d = %+v, want the key alone, no file", i+2, a)
		}
	}
	if s := obs.statuses(); !slices.Equal(s, []int{202, 0, 200}) {
		t.Errorf("observed %v", s)
	}
}

// holdFirstBodyEnd keeps the first attempt's multipart writer from ending
// its pipe until release runs (at the latest when the test ends). Every byte
// of that request is on the wire, but net/http reads on for the body's end
// before it reports the request written — as on a busy machine where the
// writer goroutine is not scheduled in time.
func holdFirstBodyEnd(t *testing.T, c *Client) (release func()) {
	ch := make(chan struct{})
	var once sync.Once
	release = func() { once.Do(func() { close(ch) }) }
	t.Cleanup(release)
	var first atomic.Bool
	c.bodyEnded = func() {
		if first.CompareAndSwap(false, true) {
			<-ch
		}
	}
	return release
}

// A server that answers has received the whole request: when the answer
// breaks off, the upload's fate is unknown and the next attempt asks under
// the key alone — even if net/http has not yet reported the request written
// (it reads on for the body's end, which the held writer has not sent).
func TestUploadAnsweredBeforeTheClientSawItsEndIsReplayed(t *testing.T) {
	t.Parallel()
	var release func()
	api := newFakeAPI(t, func(n int, a *attempt, w http.ResponseWriter, r *http.Request) bool {
		if n > 1 {
			release()
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"batch_id": "batch_1", "status": "processing", "documents": [{"document_id": "doc_1", "filename": "a.pdf"}]}`))
			return true
		}
		conn, buf, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Errorf("hijack: %v", err)
			return true
		}
		_, _ = buf.WriteString("HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\nContent-Length: 400\r\n\r\n{\"batch_id\":\"batch_")
		_ = buf.Flush()
		if tc, ok := conn.(*net.TCPConn); ok {
			_ = tc.SetLinger(0)
		}
		conn.Close()
		return true
	})
	c, _ := newClient(t, api.url(), nil)
	release = holdFirstBodyEnd(t, c)
	resp, err := c.SubmitBatch(context.Background(), "k-whole", uploads(writeFile(t, t.TempDir(), "a.pdf", []byte("abc"))), "")
	if err != nil {
		t.Fatalf("SubmitBatch: %v", err)
	}
	if resp.BatchID != "batch_1" {
		t.Errorf("batch id %q", resp.BatchID)
	}
	got := api.attempts()
	if len(got) != 2 || len(got[0].files()) != 1 || !got[0].Complete {
		t.Fatalf("attempts = %+v, want a whole upload then a replay", got)
	}
	if a := got[1]; a.IdempotencyKey != "k-whole" || !a.Complete || len(a.files()) != 0 {
		t.Errorf("attempt 2 = %+v, want the key alone, no file", a)
	}
}

func TestContextCancelStopsAnInFlightAttempt(t *testing.T) {
	t.Parallel()
	arrived := make(chan struct{}, 1)
	release := make(chan struct{})
	api := newFakeAPI(t, func(n int, a *attempt, w http.ResponseWriter, r *http.Request) bool {
		arrived <- struct{}{}
		select {
		case <-r.Context().Done():
		case <-release:
		}
		return true
	})
	defer close(release)
	c, _ := newClient(t, api.url(), nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := c.SubmitBatch(ctx, "k", uploads(writeFile(t, t.TempDir(), "a.pdf", []byte("a"))), "")
		done <- err
	}()
	recv(t, "the request to arrive", arrived)
	cancel()
	if err := recv(t, "SubmitBatch to return", done); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if n := len(api.attempts()); n != 1 {
		t.Errorf("%d attempts, want 1", n)
	}
}

func TestContextCancelStopsTheWaitBeforeARetry(t *testing.T) {
	t.Parallel()
	api := newFakeAPI(t, func(n int, a *attempt, w http.ResponseWriter, r *http.Request) bool {
		w.Header().Set("Retry-After", "600")
		writeError(w, 429, docuparse.CodeRateLimited, "slow down", "")
		return true
	})
	c, obs := newClient(t, api.url(), nil)
	obs.ch = make(chan RequestInfo, 10)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { _, err := c.GetDocument(ctx, "doc_1"); done <- err }()
	if info := recv(t, "the first attempt", obs.ch); info.StatusCode != 429 {
		t.Fatalf("first attempt %+v", info)
	}
	cancel()
	if err := recv(t, "GetDocument to return", done); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if n := len(api.attempts()); n != 1 {
		t.Errorf("%d attempts, want 1", n)
	}
}

func TestRateLimitCountsEveryAttemptIncludingRetries(t *testing.T) {
	t.Parallel()
	api := newFakeAPI(t, func(n int, a *attempt, w http.ResponseWriter, r *http.Request) bool {
		if n <= 2 {
			writeError(w, 503, "UNAVAILABLE", "busy", "")
			return true
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"document_id":"doc_1","status":"processing"}`))
		return true
	})
	c, _ := newClient(t, api.url(), func(cfg *Config) { cfg.RateLimit = 5 })
	if c.rt.limiter == nil || c.rt.limiter.Burst() != 5 || c.rt.limiter.Limit() != 5 {
		t.Fatalf("limiter from RateLimit 5: %+v", c.rt.limiter)
	}
	// Three tokens that never refill within the test: the limiter, not a
	// clock, shows what was spent.
	c.rt.limiter = rate.NewLimiter(rate.Every(time.Hour), 3)

	if _, err := c.GetDocument(context.Background(), "doc_1"); err != nil {
		t.Fatalf("GetDocument: %v", err)
	}
	if tokens := c.rt.limiter.Tokens(); tokens >= 1 {
		t.Errorf("%.2f tokens left after 3 attempts of 3", tokens)
	}
	_, err := c.GetDocument(context.Background(), "doc_1")
	if err == nil || !strings.Contains(err.Error(), "rate limit") {
		t.Errorf("err = %v, want the client rate limit to refuse", err)
	}
	if n := len(api.attempts()); n != 3 {
		t.Errorf("server saw %d requests, want 3", n)
	}
}

func TestRedirectsAreReportedNotFollowed(t *testing.T) {
	t.Parallel()
	api := newFakeAPI(t, func(n int, a *attempt, w http.ResponseWriter, r *http.Request) bool {
		http.Redirect(w, r, "https://api.example.com/api/v1/batches", http.StatusPermanentRedirect)
		return true
	})
	c, _ := newClient(t, api.url(), nil)
	_, err := c.SubmitBatch(context.Background(), "k", uploads(writeFile(t, t.TempDir(), "a.pdf", []byte("a"))), "")
	var ae *APIError
	if !errors.As(err, &ae) || ae.StatusCode != http.StatusPermanentRedirect || !strings.Contains(ae.Message, "redirected to https://api.example.com/api/v1/batches") {
		t.Fatalf("err = %v", err)
	}
	if IsPermanent(err) {
		t.Error("a redirect is a configuration problem, not a refusal of the documents")
	}
	if n := len(api.attempts()); n != 1 {
		t.Errorf("%d attempts, want 1", n)
	}
}

func TestAnAttemptThatTimesOutIsRetried(t *testing.T) {
	t.Parallel()
	api := newFakeAPI(t, func(n int, a *attempt, w http.ResponseWriter, r *http.Request) bool {
		if n == 1 {
			<-r.Context().Done() // hang until the client gives this attempt up
			return true
		}
		return false
	})
	c, obs := newClient(t, api.url(), func(cfg *Config) { cfg.Timeout = 500 * time.Millisecond })
	resp, err := c.Extract(context.Background(), "k-timeout", writeFile(t, t.TempDir(), "a.pdf", []byte("a")).upload, "")
	if err != nil {
		t.Fatalf("Extract: %v", err)
	}
	got := api.attempts()
	if resp.DocumentID != fmt.Sprintf("doc_%d", len(got)) || got[0].IdempotencyKey != got[len(got)-1].IdempotencyKey {
		t.Errorf("response %+v after attempts %+v", resp, got)
	}
	if s := obs.statuses(); len(s) < 2 || s[0] != 0 {
		t.Errorf("observed %v, want a timed-out first attempt then more", s)
	}
}

// After an upload whose fate is unknown, the key is asked first; an API
// that does not have it (it refuses the empty replay) gets the files again.
func TestAnUploadLostBeforeTheAPIHadItIsSentAgainAfterTheReplay(t *testing.T) {
	t.Parallel()
	api := newFakeAPI(t, func(n int, a *attempt, w http.ResponseWriter, r *http.Request) bool {
		switch n {
		case 1: // the whole upload arrives, then the connection breaks
			conn, _, err := http.NewResponseController(w).Hijack()
			if err != nil {
				t.Errorf("hijack: %v", err)
				return true
			}
			conn.Close()
			return true
		case 2: // the replay: this key is unknown here
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"error": {"code": "INVALID_REQUEST", "message": "no file part"}}`))
			return true
		}
		return false
	})
	c, obs := newClient(t, api.url(), nil)
	resp, err := c.Extract(context.Background(), "k-lost", writeFile(t, t.TempDir(), "a.pdf", []byte("abc")).upload, "")
	if err != nil {
		t.Fatalf("Extract: %v", err)
	}
	got := api.attempts()
	if len(got) != 3 || len(got[0].files()) != 1 || len(got[1].files()) != 0 || len(got[2].files()) != 1 {
		t.Fatalf("attempts = %+v, want an upload, a replay of the key, an upload", got)
	}
	if resp.DocumentID != "doc_3" {
		t.Errorf("document id %q, want the third attempt's", resp.DocumentID)
	}
	if s := obs.statuses(); !slices.Equal(s, []int{0, 400, 202}) {
		t.Errorf("observed %v", s)
	}
}

// A client that gives up while the last upload's fate is still unknown
// says so, so that its caller asks under the key before sending anything.
func TestAnUploadWithoutAnAnswerIsReportedAsFateUnknown(t *testing.T) {
	t.Parallel()
	api := newFakeAPI(t, func(n int, a *attempt, w http.ResponseWriter, r *http.Request) bool {
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			conn.Close()
		}
		return true
	})
	c, _ := newClient(t, api.url(), func(cfg *Config) { cfg.MaxRetries = -1 })
	_, err := c.SubmitBatch(context.Background(), "k-unknown", uploads(writeFile(t, t.TempDir(), "a.pdf", []byte("abc"))), "")
	var fu *FateUnknownError
	if !errors.As(err, &fu) {
		t.Fatalf("err = %v, want a *FateUnknownError", err)
	}
	if n := len(api.attempts()); n != 1 {
		t.Errorf("%d attempts, want 1 (net/http must not send the upload again by itself)", n)
	}
}
