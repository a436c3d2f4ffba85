package receiver_test

import (
	"bufio"
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
	"github.com/docuparse/docuparse-ingest/internal/vocab"
	"github.com/docuparse/docuparse-ingest/receiver"
)

// slowUpload opens a connection that posts a fake-signed delivery of
// declared bytes with Expect: 100-continue, waits until the server starts
// reading its body (the "100 Continue" net/http sends on the handler's
// first read), sends one byte and then hangs. It returns the open
// connection, or an error naming what the server answered instead.
func slowUpload(addr string, declared int) (net.Conn, error) { return stalledUpload(addr, declared, 1) }

// stalledUpload is slowUpload sending sent bytes of the body before it
// hangs.
func stalledUpload(addr string, declared, sent int) (net.Conn, error) {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	fake := "sha256=" + strings.Repeat("0", 64)
	head := fmt.Sprintf("POST %s HTTP/1.1\r\nHost: receiver\r\nContent-Type: application/json\r\n%s: %s\r\nExpect: 100-continue\r\nContent-Length: %d\r\n\r\n",
		hookPath, docuparse.HeaderSignature, fake, declared)
	if _, err := io.WriteString(conn, head); err != nil {
		conn.Close()
		return nil, err
	}
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	line, err := bufio.NewReader(conn).ReadString('\n')
	conn.SetReadDeadline(time.Time{})
	if err != nil || !strings.HasPrefix(line, "HTTP/1.1 100 ") {
		conn.Close()
		return nil, fmt.Errorf("answered %q (%v) instead of reading the body", strings.TrimSpace(line), err)
	}
	if _, err := conn.Write([]byte("{" + strings.Repeat(" ", sent-1))); err != nil {
		conn.Close()
		return nil, err
	}
	return conn, nil
}

// stillOpen reports whether the server has neither answered nor closed
// conn: a read finds nothing waiting.
func stillOpen(conn net.Conn) bool {
	conn.SetReadDeadline(time.Now().Add(time.Millisecond))
	var b [1]byte
	_, err := conn.Read(b[:])
	return errors.Is(err, os.ErrDeadlineExceeded)
}

func TestSlowFakeSignedUploadsDoNotDelayARealDelivery(t *testing.T) {
	const slow = 300
	st := openStore(t)
	// Generous timeouts: the slow uploads stay open for the whole test, so
	// "still open afterwards" means they were never cut short to make room.
	url := receiverURL(t, receiver.HandlerConfig{Secrets: [][]byte{secretA}, BodyTimeout: 5 * time.Minute}, st,
		receiver.WithTimeouts(receiver.Timeouts{Read: 5 * time.Minute, Write: 5 * time.Minute}))
	addr := hostOf(url)
	conns := make([]net.Conn, 0, slow)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i := range slow {
		// Half declare a small event, half the largest body allowed.
		declared := 900
		if i%2 == 1 {
			declared = 1_000_000
		}
		c, err := slowUpload(addr, declared)
		if err != nil {
			t.Fatalf("slow upload %d of %d: %v", i+1, slow, err)
		}
		conns = append(conns, c)
	}

	body := completedEvent("doc_realafter300")
	if a := post(t, url, body, signed(secretA, body)); a.status != http.StatusOK {
		t.Fatalf("a real delivery while %d slow uploads hang: %d %q, want 200", slow, a.status, a.body)
	}
	for i, c := range conns {
		if !stillOpen(c) {
			t.Fatalf("slow upload %d was answered or closed before the real delivery was done", i+1)
		}
	}
	if n := totalEvents(t, st); n != 1 {
		t.Errorf("%d events stored, want 1", n)
	}
}

func TestAFloodOfUnsignedPostsWritesABoundedNumberOfLogLines(t *testing.T) {
	const flood = 1000
	st := openStore(t)
	log, buf := debugLogger()
	var refusals refusalCounter
	h := receiver.NewHandler(receiver.HandlerConfig{Secrets: [][]byte{secretA}, OnRefused: refusals.add, Logger: log}, st)
	srv, err := receiver.NewServer("127.0.0.1:0", hookPath, h, log)
	if err != nil {
		t.Fatal(err)
	}
	h.Start(context.Background())
	srv.Start(context.Background())
	url := "http://" + srv.Addr() + hookPath
	for i := range flood {
		status, _, err := postStatus(url) // "{}" with no signature
		if err != nil || status != http.StatusUnauthorized {
			t.Fatalf("unsigned POST %d: %d, %v; want 401", i+1, status, err)
		}
	}
	srv.Stop()
	h.Stop() // writes what the last interval held back

	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	var warn []string
	for _, l := range lines {
		if strings.Contains(l, "level=WARN") {
			warn = append(warn, l)
		}
	}
	if len(warn) > 3 {
		t.Fatalf("%d unsigned POSTs wrote %d WARN lines, want at most 3; the first: %q", flood, len(warn), warn[:3])
	}
	// Nothing is hidden: the lines still account for every refusal.
	joined := strings.Join(warn, "\n")
	if !strings.Contains(joined, fmt.Sprintf("%s=%d", vocab.RefusedBadSignature, flood-1)) {
		t.Errorf("no summary counting the %d refusals held back:\n%s", flood-1, joined)
	}
	if got, want := refusals.String(), fmt.Sprint(map[string]int{vocab.RefusedBadSignature: flood}); got != want {
		t.Errorf("refusals = %s, want %s", got, want)
	}
}
