package sim

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/docuparse"
	"github.com/docuparse/docuparse-ingest/internal/samples"
	"github.com/docuparse/docuparse-ingest/internal/teststop"
)

func TestNewRejectsBadConfig(t *testing.T) {
	t.Parallel()
	bad := []Config{
		{},
		{APIKey: "k", WebhookURL: "http://127.0.0.1:1/hook"},
		{APIKey: "k", FailureRate: 1.5},
		{APIKey: "k", Rate429: -0.1},
		{APIKey: "k", ProcessingDelay: -time.Second},
		{APIKey: "k", TimeScale: -1},
		{APIKey: "k", WebhookWorkers: -1},
		{APIKey: "k", UploadRate: -1},
		{APIKey: "k", UploadStallRate: 1.5},
		{APIKey: "k", UploadStallAfter: -1},
		{APIKey: "k", UploadStall: -time.Second},
		{APIKey: "k", SubmitDelay: -time.Second},
	}
	for i, cfg := range bad {
		if _, err := New(cfg); err == nil {
			t.Errorf("config %d accepted", i)
		}
	}
	_, err := New(Config{APIKey: "dex_supersecret", WebhookURL: "http://x"})
	if err == nil || strings.Contains(err.Error(), "supersecret") {
		t.Errorf("error %v", err)
	}
}

func TestEveryEndpointWantsTheBearerKey(t *testing.T) {
	t.Parallel()
	b := setup(t, Config{})
	for _, c := range []struct{ method, path string }{
		{"POST", "/extract"}, {"POST", "/batches"}, {"GET", "/documents/doc_x"}, {"GET", "/batches/batch_x"}, {"GET", "/nope"},
	} {
		for _, auth := range []string{"", "Bearer wrong", "Basic " + testKey, testKey, "Bearer " + testKey + "x"} {
			r := mustCall(t, c.method, b.api+c.path, nil, "", "Authorization", auth)
			if r.status != http.StatusUnauthorized || r.apiError(t).Code != docuparse.CodeUnauthorized {
				t.Errorf("%s %s with %q: %d %s", c.method, c.path, auth, r.status, r.body)
			}
			if strings.Contains(string(r.body), testKey) {
				t.Errorf("answer echoes the key")
			}
		}
	}
	if st := b.sim.Stats(); st.Requests["POST /extract"][401] != 5 {
		t.Errorf("requests %v", st.Requests)
	}
}

func TestNotFoundAndWrongMethodUseTheEnvelope(t *testing.T) {
	t.Parallel()
	b := setup(t, Config{})
	for _, c := range []struct {
		method, path string
		status       int
		code         string
	}{
		{"GET", "/documents/doc_unknown", 404, docuparse.CodeNotFound},
		{"GET", "/batches/batch_unknown", 404, docuparse.CodeNotFound},
		{"GET", "/documents/", 404, docuparse.CodeNotFound},
		{"GET", "/whatever", 404, docuparse.CodeNotFound},
		{"GET", "", 404, docuparse.CodeNotFound},
		{"GET", "/extract", 405, docuparse.CodeInvalidRequest},
		{"DELETE", "/documents/doc_x", 405, docuparse.CodeInvalidRequest},
		{"PUT", "/batches", 405, docuparse.CodeInvalidRequest},
	} {
		r := mustCall(t, c.method, b.api+c.path, nil, "")
		if r.status != c.status || r.apiError(t).Code != c.code {
			t.Errorf("%s %s: %d %s", c.method, c.path, r.status, r.body)
		}
		if ct := r.header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("%s %s: content type %q", c.method, c.path, ct)
		}
	}
}

func TestInjected429And503CarryRetryAfterAndCreateNothing(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		cfg    Config
		status int
		code   string
	}{
		{Config{Rate429: 1, RetryAfterSeconds: 7}, 429, docuparse.CodeRateLimited},
		{Config{Rate503: 1}, 503, codeUnavailable},
	} {
		b := setup(t, c.cfg)
		r := b.submit(t, "batches", form{files: samples.Demo()[:2]}, "Idempotency-Key", "k")
		if r.status != c.status || r.apiError(t).Code != c.code {
			t.Fatalf("status %d %s", r.status, r.body)
		}
		want := "1"
		if c.cfg.RetryAfterSeconds != 0 {
			want = "7"
		}
		if got := r.header.Get("Retry-After"); got != want {
			t.Errorf("Retry-After %q, want %q", got, want)
		}
		st := b.sim.Stats()
		if st.DocumentsCreated != 0 || st.Injected429+st.Injected503 != 1 {
			t.Errorf("stats %+v", st)
		}
	}
}

// TestRate429IsSeededAndRetryingSucceeds: with half the requests refused,
// a client that retries on 429 gets through, with the same key, and the
// same seed refuses the same requests.
func TestRate429IsSeededAndRetryingSucceeds(t *testing.T) {
	t.Parallel()
	pattern := func() string {
		b := setup(t, Config{Rate429: 0.5, Seed: 99})
		var sb strings.Builder
		for i := 0; i < 10; i++ {
			r := b.submit(t, "extract", form{files: samples.Demo()[:1]}, "Idempotency-Key", "same")
			sb.WriteString(http.StatusText(r.status)[:1])
			if r.status == http.StatusAccepted {
				break
			}
		}
		if st := b.sim.Stats(); st.DocumentsCreated != 1 {
			t.Errorf("created %d documents", st.DocumentsCreated)
		}
		return sb.String()
	}
	first, second := pattern(), pattern()
	if first != second || !strings.HasSuffix(first, "A") {
		t.Errorf("patterns %q and %q", first, second)
	}
}

func TestStatsEndpointServesTheCounters(t *testing.T) {
	t.Parallel()
	b := setup(t, Config{})
	b.submit(t, "extract", form{files: samples.Demo()[:1]})
	resp, err := http.Get(b.srv.URL + "/_sim/stats")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st Stats
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || st.DocumentsCreated != 1 || st.Requests["POST /extract"][202] != 1 || len(st.CreatedBySHA256) != 1 {
		t.Errorf("stats %d %+v", resp.StatusCode, st)
	}
}

func TestServeUntilTheContextEnds(t *testing.T) {
	t.Parallel()
	s, err := New(Config{APIKey: testKey})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	resp, err := http.Get("http://" + ln.Addr().String() + "/_sim/stats")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Serve: %v", err)
	}
	s.Stop()
	s.Stop()
}

// Stop returns, twice and before Start; after it no webhook goroutine is
// left, and Start starts none. Not parallel: the goroutine check must not
// see other tests' simulators.
func TestStopIsSafeTwiceAndBeforeStart(t *testing.T) {
	const frame = "(*deliverer)."
	before := teststop.Goroutines(frame)
	s, err := New(Config{APIKey: testKey, ProcessingDelay: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	teststop.Within(t, "Stop before Start", s.Stop)
	teststop.Within(t, "a second Stop", s.Stop)
	s.Start(context.Background()) // after Stop: nothing starts
	if left := teststop.Left(frame, before); left != "" {
		t.Fatalf("Start after Stop started webhook goroutines:\n%s", left)
	}
	teststop.Within(t, "Stop after Start after Stop", s.Stop)

	s, err = New(Config{APIKey: testKey, ProcessingDelay: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	s.Start(context.Background())
	t.Cleanup(s.Stop)
	if teststop.Count(frame, before) == 0 {
		t.Fatal("no webhook goroutine found after Start: the check below could not see one")
	}
	teststop.Within(t, "Stop", s.Stop)
	teststop.Within(t, "a second Stop", s.Stop)
	if left := teststop.Left(frame, before); left != "" {
		t.Fatalf("webhook goroutines still running after Stop:\n%s", left)
	}
}
