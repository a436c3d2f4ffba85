package receiver_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/docuparse"
	"github.com/docuparse/docuparse-ingest/internal/testwait"
	"github.com/docuparse/docuparse-ingest/internal/vocab"
	"github.com/docuparse/docuparse-ingest/receiver"
)

// trickle writes head and then an endless run of 'a' to conn, one byte per
// interval, until stop is closed or a write fails.
func trickle(conn net.Conn, head string, interval time.Duration, stop <-chan struct{}) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for i := 0; ; i++ {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		b := byte('a')
		if i < len(head) {
			b = head[i]
		}
		if _, err := conn.Write([]byte{b}); err != nil {
			return
		}
	}
}

// readAnswer reads what the server sends on conn until it closes it, and
// fails the test if it is still open after a generous deadline.
func readAnswer(t *testing.T, conn net.Conn) string {
	t.Helper()
	if err := conn.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(conn)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatal("the server kept the slow connection open")
	}
	return string(got) // EOF or reset: the server hung up
}

func hostOf(url string) string {
	return strings.TrimSuffix(strings.TrimPrefix(url, "http://"), hookPath)
}

func TestASlowLorisClientIsCutOffByReadHeaderTimeout(t *testing.T) {
	st := openStore(t)
	url := receiverURL(t, receiver.HandlerConfig{Secrets: [][]byte{secretA}}, st,
		receiver.WithTimeouts(receiver.Timeouts{ReadHeader: 200 * time.Millisecond}))
	conn, err := net.Dial("tcp", hostOf(url))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	stop := make(chan struct{})
	defer close(stop)
	// Headers that never end, one byte every 20 ms: far under MaxHeaderBytes
	// for as long as the test can run, so only the timeout can end it.
	go trickle(conn, "POST "+hookPath+" HTTP/1.1\r\nHost: receiver\r\nX-Slow: ", 20*time.Millisecond, stop)

	// The server hangs up (net/http may first write a bare 400).
	if got := readAnswer(t, conn); got != "" && !strings.HasPrefix(got, "HTTP/1.1 400 ") {
		t.Errorf("the server answered a request whose headers never ended: %q", got)
	}
	if n := totalEvents(t, st); n != 0 {
		t.Errorf("%d events stored, want none", n)
	}
	// Well-behaved clients are still served.
	body := completedEvent("doc_afterloris")
	if a := post(t, url, body, signed(secretA, body)); a.status != http.StatusOK {
		t.Fatalf("a normal delivery after the slow one answered %d", a.status)
	}
}

func TestASlowBodyIsCutOffByItsDeadlineAndNotStored(t *testing.T) {
	st := openStore(t)
	var refusals refusalCounter
	url := receiverURL(t, receiver.HandlerConfig{Secrets: [][]byte{secretA}, BodyTimeout: 300 * time.Millisecond, OnRefused: refusals.add}, st,
		receiver.WithTimeouts(receiver.Timeouts{Read: 5 * time.Minute}))
	conn, err := net.Dial("tcp", hostOf(url))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body := completedEvent("doc_slowbody01")
	head := fmt.Sprintf("POST %s HTTP/1.1\r\nHost: receiver\r\nContent-Type: application/json\r\n%s: %s\r\nContent-Length: %d\r\n\r\n",
		hookPath, docuparse.HeaderSignature, docuparse.Sign(secretA, body), len(body))
	if _, err := io.WriteString(conn, head); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	defer close(stop)
	go trickle(conn, string(body), 20*time.Millisecond, stop)

	if got := readAnswer(t, conn); !strings.HasPrefix(got, "HTTP/1.1 408 ") {
		t.Errorf("a body that never arrived in time: answer %q, want 408", got)
	}
	if n := totalEvents(t, st); n != 0 {
		t.Errorf("%d events stored, want none", n)
	}
	if got, want := refusals.String(), fmt.Sprint(map[string]int{vocab.RefusedSlowBody: 1}); got != want {
		t.Errorf("refusals = %s, want %s", got, want)
	}
}

func TestServerStopLetsARequestInFlightFinish(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
		w.WriteHeader(http.StatusOK)
	})
	srv, err := receiver.NewServer("127.0.0.1:0", hookPath, h, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv.Start(context.Background())
	status := make(chan int, 1)
	go func() {
		res, err := http.Post("http://"+srv.Addr()+hookPath, "application/json", strings.NewReader("{}"))
		if err != nil {
			status <- 0
			return
		}
		res.Body.Close()
		status <- res.StatusCode
	}()
	<-entered
	stopped := make(chan struct{})
	go func() {
		srv.Stop()
		close(stopped)
	}()
	// Shutdown closes the listener first: once new connections are refused,
	// Stop is under way while the request is still in the handler.
	testwait.For(t, "the listener to close", func() bool {
		c, err := net.Dial("tcp", srv.Addr())
		if err == nil {
			c.Close()
		}
		return err != nil
	})
	close(release)
	if s := <-status; s != http.StatusOK {
		t.Errorf("the request in flight got %d, want 200", s)
	}
	stopWithin(t, func() { <-stopped })
	stopWithin(t, srv.Stop) // twice is safe
}

func TestServerStopIsSafeTwiceAndWithoutStart(t *testing.T) {
	for _, started := range []bool{true, false} {
		srv, err := receiver.NewServer("127.0.0.1:0", hookPath, http.NotFoundHandler(), nil)
		if err != nil {
			t.Fatal(err)
		}
		if started {
			srv.Start(context.Background())
		}
		stopWithin(t, srv.Stop)
		stopWithin(t, srv.Stop)
		if c, err := net.Dial("tcp", srv.Addr()); err == nil {
			c.Close()
			t.Errorf("started=%v: the port still accepts connections after Stop", started)
		}
	}
}

func TestNewServerReportsAPortInUse(t *testing.T) {
	first, err := receiver.NewServer("127.0.0.1:0", hookPath, http.NotFoundHandler(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Stop()
	_, err = receiver.NewServer(first.Addr(), hookPath, http.NotFoundHandler(), nil)
	if err == nil || !strings.Contains(err.Error(), first.Addr()) {
		t.Fatalf("second listen on %s: err = %v, want an error naming the address", first.Addr(), err)
	}
}

func TestAConfiguredPathIsMatchedExactlyAsWritten(t *testing.T) {
	cases := []struct {
		name, path, request string
		want                int
	}{
		{"a path holding braces is served, not parsed as a pattern", "/hooks/{docuparse", "/hooks/{docuparse", 200},
		{"a path that looks like a wildcard matches only itself", "/hooks/{id}", "/hooks/doc_1", 404},
		{"a path that looks like a wildcard is served as written", "/hooks/{id}", "/hooks/{id}", 200},
		{"a path ending in a slash does not serve what is below it", "/hooks/", "/hooks/deeper", 404},
		{"a path ending in a slash is served", "/hooks/", "/hooks/", 200},
		{"a path is case-sensitive", "/Hooks", "/hooks", 404},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
			var srv *receiver.Server
			func() {
				defer func() {
					if p := recover(); p != nil {
						t.Fatalf("NewServer panicked on path %q: %v", tc.path, p)
					}
				}()
				var err error
				if srv, err = receiver.NewServer("127.0.0.1:0", tc.path, ok, nil); err != nil {
					t.Fatal(err)
				}
			}()
			srv.Start(context.Background())
			t.Cleanup(srv.Stop)
			res, err := http.Post("http://"+srv.Addr()+tc.request, "application/json", bytes.NewReader(nil))
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != tc.want {
				t.Errorf("POST %s to a server for %s = %d, want %d", tc.request, tc.path, res.StatusCode, tc.want)
			}
		})
	}
}
