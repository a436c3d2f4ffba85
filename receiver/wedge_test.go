package receiver_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/docuparse"
	"github.com/docuparse/docuparse-ingest/receiver"
)

// patient are timeouts long enough that only the receiver's own defences,
// never a timeout, can end a connection during a test.
var patient = receiver.WithTimeouts(receiver.Timeouts{ReadHeader: 5 * time.Minute, Read: 5 * time.Minute,
	Write: 5 * time.Minute, Idle: 5 * time.Minute})

// cappedServer serves h on loopback with at most maxConns connections and
// patient timeouts. Its channel receives a value (or holds one) whenever
// the listener, at the cap, starts to wait with a new connection in hand.
func cappedServer(t *testing.T, h http.Handler, maxConns int) (addr string, waiting <-chan struct{}) {
	t.Helper()
	srv, err := receiver.NewServer("127.0.0.1:0", hookPath, h, nil, receiver.WithMaxConns(maxConns), patient)
	if err != nil {
		t.Fatal(err)
	}
	w := make(chan struct{}, 1)
	receiver.OnAcceptWait(srv, func() {
		select {
		case w <- struct{}{}:
		default:
		}
	})
	srv.Start(context.Background())
	t.Cleanup(srv.Stop)
	return srv.Addr(), w
}

// signedRequest is the raw HTTP/1.1 text of a signed delivery of body.
func signedRequest(body []byte) string {
	return fmt.Sprintf("POST %s HTTP/1.1\r\nHost: receiver\r\nContent-Type: application/json\r\n%s: %s\r\nContent-Length: %d\r\n\r\n%s",
		hookPath, docuparse.HeaderSignature, docuparse.Sign(secretA, body), len(body), body)
}

// readHead reads one answer's status line and headers from r and returns
// the status line.
func readHead(t *testing.T, r *bufio.Reader) string {
	t.Helper()
	status, err := r.ReadString('\n')
	if err != nil {
		t.Fatalf("reading an answer: %v", err)
	}
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("reading an answer's headers: %v", err)
		}
		if line == "\r\n" {
			return strings.TrimSpace(status)
		}
	}
}

// postAsync posts a signed delivery of body in the background; the channel
// receives its status (0 when it got no answer).
func postAsync(url string, body []byte) <-chan int {
	answered := make(chan int, 1)
	go func() {
		status, _, err := postSigned(url, body, signed(secretA, body))
		if err != nil {
			status = 0
		}
		answered <- status
	}()
	return answered
}

// The reviewer's attack: every connection the cap allows sends "OPTIONS *"
// with a body still to come, so that all are in a request when one more
// arrives; then the bodies are sent and every connection is kept alive.
// Before the fix net/http answered OPTIONS * itself (200, keep-alive) and
// the listener, waiting for a slot, never looked for idle connections
// again: the real delivery waited for the idle timeout.
func TestOptionsStarOnEveryConnectionCannotKeepARealDeliveryWaiting(t *testing.T) {
	const maxConns = 4
	st := openStore(t)
	h := receiver.NewHandler(receiver.HandlerConfig{Secrets: [][]byte{secretA}}, st)
	addr, waiting := cappedServer(t, h, maxConns)

	type attacker struct {
		conn net.Conn
		r    *bufio.Reader
	}
	var holding []attacker
	for range maxConns {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		// Expect: 100-continue tells when a handler starts reading the
		// body: the connection is then in a request.
		if _, err := io.WriteString(c, "OPTIONS * HTTP/1.1\r\nHost: receiver\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		a := attacker{conn: c, r: bufio.NewReader(c)}
		switch status := readHead(t, a.r); {
		case strings.HasPrefix(status, "HTTP/1.1 100 "):
			holding = append(holding, a)
		case !strings.HasPrefix(status, "HTTP/1.1 404 "):
			t.Errorf("OPTIONS * answered %q, want 404 (or 100 while the attack holds)", status)
		}
	}

	body := completedEvent("doc_afteroptions")
	answered := postAsync("http://"+addr+hookPath, body)
	if len(holding) == maxConns {
		// Every slot is in a request: the real delivery's connection waits.
		recv(t, "the listener to wait with the real delivery's connection", waiting)
		for _, a := range holding {
			if _, err := io.WriteString(a.conn, "hello"); err != nil {
				t.Fatal(err)
			}
			if status := readHead(t, a.r); !strings.HasPrefix(status, "HTTP/1.1 200 ") {
				t.Fatalf("OPTIONS * with its body answered %q", status)
			}
		}
	}
	if s := recv(t, "the real delivery to be answered", answered); s != http.StatusOK {
		t.Fatalf("a real delivery while OPTIONS * held every connection: %d, want 200", s)
	}
	if n := totalEvents(t, st); n != 1 {
		t.Errorf("%d events stored, want 1", n)
	}
}

// Connections kept alive between verified deliveries (the API's own) can
// fill the cap while a new connection waits: the first to go idle is
// closed to make room for it, not left until its idle timeout.
func TestAConnectionGoingIdleMakesRoomForOneWaitingAtTheCap(t *testing.T) {
	const maxConns = 2
	var calls atomic.Int32
	entered, release := make(chan struct{}, maxConns), make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.Copy(io.Discard, r.Body); err != nil {
			return
		}
		if calls.Add(1) <= maxConns {
			entered <- struct{}{}
			<-release
		}
		w.WriteHeader(http.StatusOK)
	})
	addr, waiting := cappedServer(t, h, maxConns)
	kept := make([]*bufio.Reader, maxConns)
	for i := range kept {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := io.WriteString(c, signedRequest(completedEvent(fmt.Sprint("doc_kept", i)))); err != nil {
			t.Fatal(err)
		}
		kept[i] = bufio.NewReader(c)
		recv(t, "a kept-alive delivery to be in the handler", entered)
	}
	answered := postAsync("http://"+addr+hookPath, completedEvent("doc_waiting"))
	recv(t, "the listener to wait with the new connection", waiting)
	close(release)
	for _, r := range kept {
		if status := readHead(t, r); !strings.HasPrefix(status, "HTTP/1.1 200 ") {
			t.Fatalf("a kept-alive delivery answered %q", status)
		}
	}
	// Both are now idle, kept alive for minutes; the waiting one is served.
	if s := recv(t, "the waiting delivery to be answered", answered); s != http.StatusOK {
		t.Fatalf("the waiting delivery got %d, want 200", s)
	}
}

// Only a verified delivery keeps its connection: every request the
// receiver refuses, including those net/http would answer itself, is
// answered once and the connection closed, so a request pipelined behind
// it is never read and the connection never goes idle to be kept.
func TestEveryRefusalClosesItsConnectionWithARequestPipelinedBehind(t *testing.T) {
	fake := "sha256=" + strings.Repeat("0", 64)
	cases := []struct{ name, request, want string }{
		{"OPTIONS * with a body", "OPTIONS * HTTP/1.1\r\nHost: r\r\nContent-Length: 5\r\n\r\nhello", "404"},
		{"OPTIONS *", "OPTIONS * HTTP/1.1\r\nHost: r\r\n\r\n", "404"},
		{"OPTIONS on the webhook path", "OPTIONS " + hookPath + " HTTP/1.1\r\nHost: r\r\n\r\n", "405"},
		{"GET elsewhere", "GET /elsewhere HTTP/1.1\r\nHost: r\r\n\r\n", "404"},
		{"unsigned", "POST " + hookPath + " HTTP/1.1\r\nHost: r\r\nContent-Length: 2\r\n\r\n{}", "401"},
		{"unsigned, expecting 100-continue", "POST " + hookPath + " HTTP/1.1\r\nHost: r\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n{}", "401"},
		{"fake-signed", "POST " + hookPath + " HTTP/1.1\r\nHost: r\r\n" + docuparse.HeaderSignature + ": " + fake + "\r\nContent-Length: 2\r\n\r\n{}", "401"},
		{"declared too large", "POST " + hookPath + " HTTP/1.1\r\nHost: r\r\n" + docuparse.HeaderSignature + ": " + fake + "\r\nContent-Length: 99999999\r\n\r\n", "413"},
		{"not JSON", "POST " + hookPath + " HTTP/1.1\r\nHost: r\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\n{}", "415"},
		{"HTTP/2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "404"},
		{"malformed", "NOT HTTP\r\n\r\n", "400"},
	}
	st := openStore(t)
	url := receiverURL(t, receiver.HandlerConfig{Secrets: [][]byte{secretA}}, st, patient)
	behind := signedRequest(completedEvent("doc_pipelined"))
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := net.Dial("tcp", hostOf(url))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if _, err := io.WriteString(c, tc.request+behind); err != nil {
				t.Fatal(err)
			}
			got := readAnswer(t, c) // fails if the connection stays open
			if n := strings.Count(got, "HTTP/1.1 "); n != 1 || !strings.HasPrefix(got, "HTTP/1.1 "+tc.want+" ") {
				t.Errorf("%d answers, want one %s: %q", n, tc.want, got)
			}
		})
	}
	if n := totalEvents(t, st); n != 0 {
		t.Errorf("%d events stored, want none: a pipelined delivery was read after a refusal", n)
	}
}

// A connection whose headers are still arriving is not in a request yet
// (http.ConnState: new or idle), so at the cap it is closed to make room
// like an idle one: slow headers cannot keep a delivery waiting even for
// the header timeout.
func TestSlowHeadersOnEveryConnectionAreClosedToMakeRoom(t *testing.T) {
	const maxConns = 2
	st := openStore(t)
	url := receiverURL(t, receiver.HandlerConfig{Secrets: [][]byte{secretA}}, st, receiver.WithMaxConns(maxConns), patient)
	for range maxConns {
		c, err := net.Dial("tcp", hostOf(url))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := io.WriteString(c, "POST "+hookPath+" HTTP/1.1\r\nHost: receiver\r\nX-Slow: "); err != nil {
			t.Fatal(err)
		}
	}
	body := completedEvent("doc_afterslowheaders")
	if status, _, err := postSigned(url, body, signed(secretA, body)); err != nil || status != http.StatusOK {
		t.Fatalf("a delivery while slow headers fill the cap: %d, %v; want 200", status, err)
	}
}

// net/http drains up to 256 KiB of a body the handler left unread before
// it closes the connection, within the request's read deadline; a refused
// request whose declared body never comes held its connection, in a
// request and so never closed to make room, for the whole read timeout.
// The drain now has a short allowance of its own.
func TestARefusedRequestWhoseBodyNeverComesIsClosedWithoutWaitingForTheReadTimeout(t *testing.T) {
	fake := "sha256=" + strings.Repeat("0", 64)
	cases := []struct{ name, head, want string }{
		{"OPTIONS *", "OPTIONS * HTTP/1.1\r\nHost: r\r\nContent-Length: 5\r\n\r\n", "404"},
		{"GET elsewhere", "GET /elsewhere HTTP/1.1\r\nHost: r\r\nContent-Length: 100\r\n\r\n", "404"},
		{"unsigned", "POST " + hookPath + " HTTP/1.1\r\nHost: r\r\nContent-Length: 100\r\n\r\n", "401"},
		{"unsigned, expecting 100-continue", "POST " + hookPath + " HTTP/1.1\r\nHost: r\r\nExpect: 100-continue\r\nContent-Length: 100\r\n\r\n", "401"},
		{"not JSON", "POST " + hookPath + " HTTP/1.1\r\nHost: r\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\n", "415"},
		{"declared over max_body", "POST " + hookPath + " HTTP/1.1\r\nHost: r\r\n" + docuparse.HeaderSignature + ": " + fake + "\r\nContent-Length: 20000\r\n\r\n", "413"},
	}
	st := openStore(t)
	url := receiverURL(t, receiver.HandlerConfig{Secrets: [][]byte{secretA}, MaxBody: 10_000}, st, patient)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := net.Dial("tcp", hostOf(url))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if _, err := io.WriteString(c, tc.head); err != nil {
				t.Fatal(err)
			}
			// The read timeout is minutes: only the drain's allowance ends it.
			if got := readAnswer(t, c); !strings.HasPrefix(got, "HTTP/1.1 "+tc.want+" ") {
				t.Errorf("answer %q, want %s", got, tc.want)
			}
		})
	}
}
