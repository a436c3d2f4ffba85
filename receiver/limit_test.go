package receiver_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/docuparse"
	"github.com/docuparse/docuparse-ingest/internal/testwait"
	"github.com/docuparse/docuparse-ingest/internal/vocab"
	"github.com/docuparse/docuparse-ingest/receiver"
)

// heldReceiver serves a real handler whose journal holds every group until
// release is closed; each held group is announced on entered.
func heldReceiver(t *testing.T, cfg receiver.HandlerConfig, entered chan<- int, release <-chan struct{}, opts ...receiver.ServerOption) string {
	t.Helper()
	h := receiver.NewHandler(cfg, openStore(t))
	receiver.HoldJournal(h, func(n int) {
		entered <- n
		<-release
	})
	srv, err := receiver.NewServer("127.0.0.1:0", hookPath, h, nil, opts...)
	if err != nil {
		t.Fatal(err)
	}
	h.Start(context.Background())
	srv.Start(context.Background())
	t.Cleanup(func() { srv.Stop(); h.Stop() })
	return "http://" + srv.Addr() + hookPath
}

// boundedClient gives up on an answer after a generous deadline, so a
// limit that fails to shed turns into a test failure, not a hang.
var boundedClient = &http.Client{Timeout: 10 * time.Second}

// postStatus posts an empty JSON object and returns the status and the
// Retry-After header, or an error.
func postStatus(url string) (int, string, error) {
	return postSigned(url, []byte("{}"), nil)
}

// postSigned posts body with the given headers and returns the status and
// the Retry-After header, or an error.
func postSigned(url string, body []byte, headers map[string]string) (int, string, error) {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	res, err := boundedClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	res.Body.Close()
	return res.StatusCode, res.Header.Get("Retry-After"), nil
}

func TestVerifiedDeliveriesBeyondTheInFlightLimitAreAnswered503WithRetryAfter(t *testing.T) {
	entered, release := make(chan int, 1), make(chan struct{})
	var refusals refusalCounter
	url := heldReceiver(t, receiver.HandlerConfig{Secrets: [][]byte{secretA}, MaxInFlight: 1, OnRefused: refusals.add}, entered, release)

	// The first delivery takes the only slot and is held in the journal.
	done := make(chan error, 1)
	go func() {
		body := completedEvent("doc_inflight")
		status, _, err := postSigned(url, body, signed(secretA, body))
		if err == nil && status != http.StatusOK {
			err = fmt.Errorf("the delivery in flight got %d, want 200", status)
		}
		done <- err
	}()
	recv(t, "the first delivery to reach the journal", entered)

	body := completedEvent("doc_beyond")
	status, retryAfter, err := postSigned(url, body, signed(secretA, body))
	if err != nil || status != http.StatusServiceUnavailable || retryAfter != "1" {
		t.Errorf("a verified delivery beyond the limit: %d with Retry-After %q, %v; want 503 with Retry-After 1", status, retryAfter, err)
	}
	// A request with a well-formed but wrong signature is read and refused
	// 401 however full the slots are: it never competes for one.
	fake := map[string]string{docuparse.HeaderSignature: "sha256=" + strings.Repeat("0", 64)}
	if status, _, err := postSigned(url, completedEvent("doc_fake"), fake); err != nil || status != http.StatusUnauthorized {
		t.Errorf("a fake-signed request while the slots are full: %d, %v; want 401", status, err)
	}
	close(release)
	if err := recv(t, "the delivery in flight to finish", done); err != nil {
		t.Error(err)
	}
	want := fmt.Sprint(map[string]int{vocab.RefusedBusy: 1, vocab.RefusedBadSignature: 1})
	if got := refusals.String(); got != want {
		t.Errorf("refusals = %s, want %s", got, want)
	}
	// The slot is free again once that one was answered.
	if status, _, err := postSigned(url, body, signed(secretA, body)); err != nil || status != http.StatusOK {
		t.Errorf("a delivery after the other finished: %d, %v; want 200", status, err)
	}
}

func TestWhenTheUnverifiedBudgetIsSpentRequestsAreRefused503AtOnce(t *testing.T) {
	const maxBody = 16 << 10
	var refusals refusalCounter
	// The budget's floor is twice MaxBody: two bodies sent but for their
	// last byte spend it, and with a minimum rate of 1 byte/s they hold it
	// until the body deadline.
	h := receiver.NewHandler(receiver.HandlerConfig{Secrets: [][]byte{secretA}, MaxBody: maxBody, MaxUnverifiedBytes: 1,
		BodyTimeout: 5 * time.Minute, MinBodyRate: 1, OnRefused: refusals.add}, openStore(t))
	srv, err := receiver.NewServer("127.0.0.1:0", hookPath, h, nil, patient)
	if err != nil {
		t.Fatal(err)
	}
	srv.Start(context.Background())
	t.Cleanup(srv.Stop)
	url := "http://" + srv.Addr() + hookPath
	var conns []net.Conn
	for i := range 2 {
		c, err := stalledUpload(hostOf(url), maxBody, maxBody-1)
		if err != nil {
			t.Fatalf("slow upload %d: %v", i+1, err)
		}
		conns = append(conns, c)
	}
	// A body takes budget as its bytes are read.
	testwait.For(t, "the two bodies to be read", func() bool { return receiver.UnverifiedBytes(h) == 2*maxBody })
	if _, err := slowUpload(hostOf(url), maxBody); err == nil || !strings.Contains(err.Error(), "503") {
		t.Errorf("a third body with the budget spent: %v, want an immediate 503", err)
	}
	body := completedEvent("doc_budget")
	if status, retryAfter, err := postSigned(url, body, signed(secretA, body)); err != nil ||
		status != http.StatusServiceUnavailable || retryAfter == "" {
		t.Errorf("a delivery with the budget spent: %d (Retry-After %q), %v; want 503 with Retry-After", status, retryAfter, err)
	}
	for _, c := range conns {
		c.Close()
	}
	// Bodies cut short give their share back.
	testwait.For(t, "the budget to be given back", func() bool {
		status, _, err := postSigned(url, body, signed(secretA, body))
		return err == nil && status == http.StatusOK
	})
	if got := refusals.String(); !strings.Contains(got, vocab.RefusedOverloaded+":2") {
		t.Errorf("refusals = %s, want %s:2", got, vocab.RefusedOverloaded)
	}
}

func TestAtTheConnectionCapTheLongestIdleConnectionMakesRoom(t *testing.T) {
	st := openStore(t)
	url := receiverURL(t, receiver.HandlerConfig{Secrets: [][]byte{secretA}}, st, receiver.WithMaxConns(2),
		receiver.WithTimeouts(receiver.Timeouts{ReadHeader: 5 * time.Minute, Read: 5 * time.Minute}))
	idle := make([]net.Conn, 2)
	for i := range idle {
		c, err := net.Dial("tcp", hostOf(url))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		idle[i] = c
	}
	body := completedEvent("doc_capped")
	if status, _, err := postSigned(url, body, signed(secretA, body)); err != nil || status != http.StatusOK {
		t.Fatalf("a delivery while idle connections fill the cap: %d, %v; want 200", status, err)
	}
	// The first idle connection was closed for it, with nothing sent.
	if got := readAnswer(t, idle[0]); got != "" {
		t.Errorf("the evicted idle connection got %q, want a bare close", got)
	}
}

func TestAtTheConnectionCapWithNoIdleConnectionANewOneWaits(t *testing.T) {
	st := openStore(t)
	url := receiverURL(t, receiver.HandlerConfig{Secrets: [][]byte{secretA}, BodyTimeout: 5 * time.Minute}, st,
		receiver.WithMaxConns(2), receiver.WithTimeouts(receiver.Timeouts{Read: 5 * time.Minute}))
	busy := make([]net.Conn, 2)
	for i := range busy {
		c, err := slowUpload(hostOf(url), 900) // in a request: not idle
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		busy[i] = c
	}
	body := completedEvent("doc_waits")
	answered := make(chan int, 1)
	go func() {
		status, _, err := postSigned(url, body, signed(secretA, body))
		if err != nil {
			status = 0
		}
		answered <- status
	}()
	// Not a timing assertion on the server's speed: a capped server cannot
	// answer here at all, however long the wait, while an uncapped one would.
	select {
	case s := <-answered:
		t.Fatalf("a third connection was served (%d) while two requests held the cap", s)
	case <-time.After(200 * time.Millisecond):
	}
	busy[0].Close()
	if s := recv(t, "the waiting delivery to be served", answered); s != http.StatusOK {
		t.Errorf("the waiting delivery got %d, want 200", s)
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
