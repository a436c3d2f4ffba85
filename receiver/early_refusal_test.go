package receiver_test

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/docuparse"
	"github.com/docuparse/docuparse-ingest/internal/vocab"
	"github.com/docuparse/docuparse-ingest/receiver"
)

// refusalCounter collects HandlerConfig.OnRefused reasons.
type refusalCounter struct {
	mu  sync.Mutex
	got map[string]int
}

func (c *refusalCounter) add(reason string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.got == nil {
		c.got = map[string]int{}
	}
	c.got[reason]++
}

func (c *refusalCounter) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return fmt.Sprint(c.got)
}

// readSpy is a request body that records whether anything read it.
type readSpy struct {
	mu   sync.Mutex
	read bool
}

func (s *readSpy) Read([]byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.read = true
	return 0, io.ErrUnexpectedEOF
}

func (s *readSpy) Close() error { return nil }

func (s *readSpy) wasRead() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.read
}

func TestAnUnsignedOrMalformedSignatureIsRefusedBeforeTheBodyIsRead(t *testing.T) {
	goodHex := strings.TrimPrefix(docuparse.Sign(secretA, []byte("{}")), "sha256=")
	const maxBody = 1_000_000
	cases := []struct {
		name          string
		header        *string // nil: no signature header at all
		contentLength int64
	}{
		{"no signature and a huge declared length", nil, 1 << 40},
		{"no signature and a length within MaxBody", nil, maxBody},
		{"an empty signature", ptr(""), maxBody},
		{"a bare digest without the prefix", ptr(goodHex), maxBody},
		{"a digest one hex digit short", ptr("sha256=" + goodHex[1:]), maxBody},
		{"a digest one hex digit long", ptr("sha256=" + goodHex + "0"), maxBody},
		{"a digest with a non-hex digit", ptr("sha256=" + goodHex[:63] + "g"), maxBody},
		{"another scheme", ptr("sha1=" + goodHex), maxBody},
		{"an uppercase prefix", ptr("SHA256=" + goodHex), maxBody},
		{"space inside the value", ptr("sha256= " + goodHex[1:]), maxBody},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			st := openStore(t)
			var refusals refusalCounter
			h := receiver.NewHandler(receiver.HandlerConfig{Secrets: [][]byte{secretA}, MaxBody: maxBody, OnRefused: refusals.add}, st)
			spy := &readSpy{}
			req := httptest.NewRequest(http.MethodPost, hookPath, nil)
			req.Body, req.ContentLength = spy, tc.contentLength
			req.Header.Set("Content-Type", "application/json")
			if tc.header != nil {
				req.Header.Set(docuparse.HeaderSignature, *tc.header)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusUnauthorized {
				t.Fatalf("status = %d (%q), want 401", rec.Code, rec.Body.String())
			}
			if spy.wasRead() {
				t.Error("the body was read before the signature header was checked")
			}
			if got, want := refusals.String(), fmt.Sprint(map[string]int{vocab.RefusedBadSignature: 1}); got != want {
				t.Errorf("refusals = %s, want %s", got, want)
			}
			if n := totalEvents(t, st); n != 0 {
				t.Errorf("%d events stored, want none", n)
			}
		})
	}
}

func ptr(s string) *string { return &s }

func TestAnUnsignedRequestWithAHugeDeclaredBodyIsAnswered401OverTheWire(t *testing.T) {
	st := openStore(t)
	var refusals refusalCounter
	// A read timeout far beyond readAnswer's deadline: had the handler
	// waited for the body that never comes, no answer would arrive in time.
	url := receiverURL(t, receiver.HandlerConfig{Secrets: [][]byte{secretA}, OnRefused: refusals.add}, st,
		receiver.WithTimeouts(receiver.Timeouts{Read: 5 * time.Minute, Write: 5 * time.Minute}))
	for _, length := range []int64{1_000_000, 1 << 40} { // at the default MaxBody, and far beyond it
		conn, err := net.Dial("tcp", hostOf(url))
		if err != nil {
			t.Fatal(err)
		}
		head := fmt.Sprintf("POST %s HTTP/1.1\r\nHost: receiver\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", hookPath, length)
		if _, err := io.WriteString(conn, head); err != nil {
			t.Fatal(err)
		}
		// Only the headers were sent; the server answers and hangs up.
		got := readAnswer(t, conn)
		conn.Close()
		if !strings.HasPrefix(got, "HTTP/1.1 401 ") {
			t.Errorf("Content-Length %d without a signature: answer %q, want 401", length, got)
		}
	}
	if got, want := refusals.String(), fmt.Sprint(map[string]int{vocab.RefusedBadSignature: 2}); got != want {
		t.Errorf("refusals = %s, want %s", got, want)
	}
	if n := totalEvents(t, st); n != 0 {
		t.Errorf("%d events stored, want none", n)
	}
}

func TestTheSignatureShapeCheckKeepsVerifysTolerance(t *testing.T) {
	doc := completedEvent("doc_shape00001")
	sig := docuparse.Sign(secretA, doc)
	upper := "sha256=" + strings.ToUpper(strings.TrimPrefix(sig, "sha256="))
	cases := []struct {
		name          string
		header        string
		allowUnsigned bool
		want          int
	}{
		{"a valid signature", sig, false, http.StatusOK},
		{"surrounding spaces and tabs", " \t" + sig + "\t ", false, http.StatusOK},
		{"uppercase hex", upper, false, http.StatusOK},
		{"uppercase hex with surrounding spaces", "  " + upper + "  ", false, http.StatusOK},
		{"AllowUnsigned with no header", "", true, http.StatusOK},
		{"AllowUnsigned with a malformed header", "sha256=nothex", true, http.StatusOK},
		{"a well-formed but wrong signature is refused after the read", "sha256=" + strings.Repeat("0", 64), false, http.StatusUnauthorized},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			st := openStore(t)
			h := receiver.NewHandler(receiver.HandlerConfig{Secrets: [][]byte{secretA}, AllowUnsigned: tc.allowUnsigned}, st)
			req := httptest.NewRequest(http.MethodPost, hookPath, bytes.NewReader(doc))
			if tc.header != "" {
				req.Header[http.CanonicalHeaderKey(docuparse.HeaderSignature)] = []string{tc.header} // as sent: not trimmed by a parser
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tc.want {
				t.Fatalf("status = %d (%q), want %d", rec.Code, rec.Body.String(), tc.want)
			}
			wantEvents := 0
			if tc.want == http.StatusOK {
				wantEvents = 1
			}
			if n := totalEvents(t, st); n != wantEvents {
				t.Errorf("%d events stored, want %d", n, wantEvents)
			}
		})
	}
}
