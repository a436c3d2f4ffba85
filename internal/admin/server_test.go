package admin

import (
	"context"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/metrics"
	"github.com/docuparse/docuparse-ingest/internal/teststop"
	"github.com/docuparse/docuparse-ingest/internal/testwait"
)

func TestHealthz(t *testing.T) {
	s := start(t, Config{})
	a := get(t, s, PathHealth)
	if a.status != http.StatusOK || a.body != "ok\n" {
		t.Errorf("healthz: %d %q", a.status, a.body)
	}
	if ct := a.header.Get("Content-Type"); ct != "text/plain; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	if h := do(t, s, http.MethodHead, PathHealth); h.status != http.StatusOK || h.body != "" {
		t.Errorf("HEAD healthz: %d %q", h.status, h.body)
	}
}

// Liveness does not depend on readiness: a failing check makes the
// daemon unready, not dead.
func TestHealthzIgnoresChecks(t *testing.T) {
	s := start(t, Config{Checks: map[string]func(context.Context) error{"store": func(context.Context) error { return net.ErrClosed }}})
	if a := get(t, s, PathHealth); a.status != http.StatusOK {
		t.Errorf("healthz with a failing check: %d", a.status)
	}
}

func TestMetricsServesTheHandler(t *testing.T) {
	m, err := metrics.New(metrics.Options{Version: "9.9.9"})
	if err != nil {
		t.Fatal(err)
	}
	m.Webhook(metrics.WebhookOK)
	s := start(t, Config{Metrics: m.Handler()})
	a := get(t, s, PathMetrics)
	if a.status != http.StatusOK {
		t.Fatalf("metrics: %d", a.status)
	}
	for _, want := range []string{`docuparse_build_info{`, `version="9.9.9"`, `docuparse_webhook_deliveries_total{outcome="ok"} 1`} {
		if !strings.Contains(a.body, want) {
			t.Errorf("metrics body lacks %s", want)
		}
	}
}

func TestMetricsWithoutHandlerIs404(t *testing.T) {
	s := start(t, Config{})
	if a := get(t, s, PathMetrics); a.status != http.StatusNotFound {
		t.Errorf("metrics without a handler: %d", a.status)
	}
}

func TestUnknownPathsAre404(t *testing.T) {
	m, err := metrics.New(metrics.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := start(t, Config{Metrics: m.Handler()})
	for _, p := range []string{"/", "/healthz/", "/readyz/x", "/metricsx", "/HEALTHZ", "/debug/pprof/", "/webhooks/docuparse"} {
		if a := get(t, s, p); a.status != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", p, a.status)
		}
	}
}

func TestWrongMethodIs405(t *testing.T) {
	m, err := metrics.New(metrics.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := start(t, Config{Metrics: m.Handler()})
	for _, p := range []string{PathHealth, PathReady, PathMetrics} {
		for _, method := range []string{http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch} {
			a := do(t, s, method, p)
			if a.status != http.StatusMethodNotAllowed {
				t.Errorf("%s %s: %d, want 405", method, p, a.status)
			}
			if allow := a.header.Get("Allow"); allow != "GET, HEAD" {
				t.Errorf("%s %s: Allow %q", method, p, allow)
			}
		}
	}
}

func TestPortInUseIsReportedByNew(t *testing.T) {
	first, err := New("127.0.0.1:0", Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer first.Stop()
	_, err = New(first.Addr(), Config{})
	if err == nil {
		t.Fatal("a second listener on the same port was accepted")
	}
	if !strings.Contains(err.Error(), first.Addr()) || !strings.Contains(err.Error(), "admin listener") {
		t.Errorf("error does not name the listener and address: %v", err)
	}
}

func TestAddrReportsTheChosenPort(t *testing.T) {
	s, err := New("127.0.0.1:0", Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	_, port, err := net.SplitHostPort(s.Addr())
	if err != nil || port == "0" || port == "" {
		t.Errorf("Addr %q: no real port (%v)", s.Addr(), err)
	}
}

func TestStopTwiceAndConcurrently(t *testing.T) {
	s, err := New("127.0.0.1:0", Config{})
	if err != nil {
		t.Fatal(err)
	}
	s.Start(context.Background())
	if !reachable(s) {
		t.Fatal("not serving after Start")
	}
	var wg sync.WaitGroup
	for range 3 {
		wg.Add(1)
		go func() { defer wg.Done(); s.Stop() }()
	}
	teststop.Within(t, "three concurrent Stops", wg.Wait)
	teststop.Within(t, "a fourth Stop", s.Stop)
	if reachable(s) {
		t.Error("still serving after Stop")
	}
	s.Start(context.Background()) // after Stop: nothing
	if reachable(s) {
		t.Error("Start after Stop served again")
	}
}

// Stop without Start releases the port.
func TestStopWithoutStartReleasesThePort(t *testing.T) {
	s, err := New("127.0.0.1:0", Config{})
	if err != nil {
		t.Fatal(err)
	}
	addr := s.Addr()
	s.Stop()
	s.Stop()
	again, err := New(addr, Config{})
	if err != nil {
		t.Fatalf("port not released: %v", err)
	}
	again.Stop()
}

func TestContextEndStopsServing(t *testing.T) {
	s, err := New("127.0.0.1:0", Config{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.Start(ctx)
	if !reachable(s) {
		t.Fatal("not serving after Start")
	}
	cancel()
	testwait.For(t, "the listener to close", func() bool { return !reachable(s) })
	s.Stop() // returns: everything already ended
}

// Stop lets a /readyz in flight finish with its answer.
func TestStopWaitsForRequestsInFlight(t *testing.T) {
	entered := make(chan struct{})
	release := make(chan struct{})
	s, err := New("127.0.0.1:0", Config{Checks: map[string]func(context.Context) error{
		"slow": func(ctx context.Context) error {
			close(entered)
			select {
			case <-release:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		},
	}})
	if err != nil {
		t.Fatal(err)
	}
	s.Start(context.Background())
	got := make(chan int, 1)
	go func() {
		resp, err := http.Get("http://" + s.Addr() + PathReady)
		if err != nil {
			got <- -1
			return
		}
		resp.Body.Close()
		got <- resp.StatusCode
	}()
	<-entered
	stopped := make(chan struct{})
	go func() { s.Stop(); close(stopped) }()
	// Stop has begun once new connections are refused.
	testwait.For(t, "the listener to close", func() bool { return !reachable(s) })
	select {
	case <-stopped:
		t.Fatal("Stop returned while a request was in flight")
	default:
	}
	close(release)
	if code := <-got; code != http.StatusOK {
		t.Errorf("request in flight during Stop: %d, want 200", code)
	}
	<-stopped
}

func TestServerTimeoutsAreSet(t *testing.T) {
	s, err := New("127.0.0.1:0", Config{CheckTimeout: 40 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	if s.srv.ReadHeaderTimeout <= 0 || s.srv.ReadTimeout <= 0 || s.srv.IdleTimeout <= 0 {
		t.Errorf("timeouts not set: %+v", s.srv)
	}
	if s.srv.WriteTimeout <= 40*time.Second {
		t.Errorf("write timeout %s does not leave room for a 40s check", s.srv.WriteTimeout)
	}
}

func TestBadChecksAreRefused(t *testing.T) {
	if _, err := New("127.0.0.1:0", Config{Checks: map[string]func(context.Context) error{"store": nil}}); err == nil || !strings.Contains(err.Error(), `"store"`) {
		t.Errorf("nil check: %v", err)
	}
	if _, err := New("127.0.0.1:0", Config{Checks: map[string]func(context.Context) error{"": func(context.Context) error { return nil }}}); err == nil {
		t.Error("empty check name accepted")
	}
}
