package receiver_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/docuparse/docuparse-ingest/receiver"
)

// blockingServer serves a handler that signals entered and then waits for
// release to be closed. It returns the webhook URL.
func blockingServer(t *testing.T, entered chan<- struct{}, release <-chan struct{}, opts ...receiver.ServerOption) string {
	t.Helper()
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		<-release
		w.WriteHeader(http.StatusOK)
	})
	srv, err := receiver.NewServer("127.0.0.1:0", hookPath, h, nil, opts...)
	if err != nil {
		t.Fatal(err)
	}
	srv.Start(context.Background())
	t.Cleanup(srv.Stop)
	return "http://" + srv.Addr() + hookPath
}

// boundedClient gives up on an answer after a generous deadline, so a
// limit that fails to shed turns into a test failure, not a hang.
var boundedClient = &http.Client{Timeout: 10 * time.Second}

// postStatus posts an empty JSON object and returns the status and the
// Retry-After header, or an error.
func postStatus(url string) (int, string, error) {
	res, err := boundedClient.Post(url, "application/json", strings.NewReader("{}"))
	if err != nil {
		return 0, "", err
	}
	res.Body.Close()
	return res.StatusCode, res.Header.Get("Retry-After"), nil
}

// saturate starts n requests that all reach the handler and stay there, and
// returns the channel their statuses arrive on once release is closed.
func saturate(t *testing.T, url string, n int, entered <-chan struct{}) <-chan error {
	t.Helper()
	done := make(chan error, n)
	for range n {
		go func() {
			status, _, err := postStatus(url)
			if err == nil && status != http.StatusOK {
				err = fmt.Errorf("a request in flight got %d, want 200", status)
			}
			done <- err
		}()
	}
	for i := range n {
		recv(t, fmt.Sprintf("request %d of %d to reach the handler", i+1, n), entered)
	}
	return done
}

func TestRequestsBeyondTheInFlightLimitAreAnswered503WithRetryAfter(t *testing.T) {
	const limit = 3
	entered, release := make(chan struct{}, limit+1), make(chan struct{})
	url := blockingServer(t, entered, release, receiver.WithMaxInFlight(limit))
	done := saturate(t, url, limit, entered)

	status, retryAfter, err := postStatus(url)
	if err != nil {
		t.Fatal(err)
	}
	if status != http.StatusServiceUnavailable || retryAfter != "1" {
		t.Errorf("a request beyond the limit: %d with Retry-After %q, want 503 with Retry-After 1", status, retryAfter)
	}
	select {
	case <-entered:
		t.Error("the shed request reached the handler")
	default:
	}

	close(release)
	for range limit {
		if err := recv(t, "a request in flight to finish", done); err != nil {
			t.Error(err)
		}
	}
	// Every slot is free again once those were answered.
	if status, _, err := postStatus(url); err != nil || status != http.StatusOK {
		t.Errorf("a request after the others finished: %d, %v; want 200", status, err)
	}
}

func TestTheDefaultInFlightLimitIsDefaultMaxInFlight(t *testing.T) {
	entered, release := make(chan struct{}, receiver.DefaultMaxInFlight+1), make(chan struct{})
	url := blockingServer(t, entered, release, receiver.WithMaxInFlight(0)) // 0 keeps the default
	done := saturate(t, url, receiver.DefaultMaxInFlight, entered)

	if status, _, err := postStatus(url); err != nil || status != http.StatusServiceUnavailable {
		t.Errorf("request %d: %d, %v; want 503", receiver.DefaultMaxInFlight+1, status, err)
	}
	close(release)
	for range receiver.DefaultMaxInFlight {
		if err := recv(t, "a request in flight to finish", done); err != nil {
			t.Error(err)
		}
	}
}

// recv returns the next value of ch, or fails the test after a generous
// deadline.
func recv[T any](t *testing.T, what string, ch <-chan T) T {
	t.Helper()
	timer := time.NewTimer(10 * time.Second)
	defer timer.Stop()
	select {
	case v := <-ch:
		return v
	case <-timer.C:
		t.Fatalf("timed out waiting for %s", what)
	}
	var zero T
	return zero
}
