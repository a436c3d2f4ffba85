package apiclient

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// echoCase is one hostile answer that echoes the API key at a chosen place.
type echoCase struct {
	name     string
	status   int
	header   map[string]string
	body     string
	maxField int // bound of the field the key lands in
	keyPos   int // where the key starts in that field, before any cut
}

// keyAt returns filler of n bytes followed by the key and some more text.
func keyAt(n int) string { return strings.Repeat("x", n) + testKey + " and more text after it" }

func echoCases() []echoCase {
	var cases []echoCase
	// Every position where the key straddles the cut of each bounded field,
	// plus the key ending exactly at the cut and starting right after it.
	for p := maxErrorText - len(testKey); p <= maxErrorText; p++ {
		cases = append(cases, echoCase{name: fmt.Sprintf("plain body, key at %d", p), status: http.StatusForbidden,
			body: keyAt(p), maxField: maxErrorText, keyPos: p})
	}
	for p := 4*maxErrorText - len(testKey); p <= 4*maxErrorText; p++ {
		cases = append(cases, echoCase{name: fmt.Sprintf("envelope message, key at %d", p), status: http.StatusBadRequest,
			body: `{"error":{"code":"BAD","message":"` + keyAt(p) + `"}}`, maxField: 4 * maxErrorText, keyPos: p})
	}
	for p := 64 - len(testKey); p <= 64; p++ {
		cases = append(cases, echoCase{name: fmt.Sprintf("envelope code, key at %d", p), status: http.StatusBadRequest,
			body: `{"error":{"code":"` + keyAt(p) + `","message":"m"}}`, maxField: 64, keyPos: p})
	}
	for p := maxErrorText - len(testKey); p <= maxErrorText; p++ {
		cases = append(cases, echoCase{name: fmt.Sprintf("redirect, key at %d", p), status: http.StatusMovedPermanently,
			header: map[string]string{"Location": "/" + keyAt(p-1)}, maxField: maxErrorText, keyPos: p})
	}
	// The body itself is read up to maxErrorBody bytes: a key cut there is
	// all that is left after the run of spaces before it collapses.
	for k := minKeyPrefix; k < len(testKey); k++ {
		cases = append(cases, echoCase{name: fmt.Sprintf("body cut at the read limit after %d bytes of the key", k),
			status: http.StatusForbidden, body: strings.Repeat(" ", maxErrorBody-k) + testKey, maxField: maxErrorText})
	}
	return cases
}

func TestAKeyStraddlingACutNeverShowsAPrefix(t *testing.T) {
	t.Parallel()
	cases := echoCases()
	api := newFakeAPI(t, func(_ int, a *attempt, w http.ResponseWriter, _ *http.Request) bool {
		i, err := strconv.Atoi(a.Path[strings.LastIndex(a.Path, "/case")+len("/case"):])
		if err != nil || i < 0 || i >= len(cases) {
			w.WriteHeader(http.StatusTeapot)
			return true
		}
		for k, v := range cases[i].header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(cases[i].status)
		_, _ = w.Write([]byte(cases[i].body))
		return true
	})
	c, _ := newClient(t, api.url(), func(cfg *Config) { cfg.MaxRetries = -1 })
	leak := testKey[:minKeyPrefix] // any shown prefix of the key long enough to matter starts so
	for i, tc := range cases {
		_, err := c.GetDocument(context.Background(), "case"+strconv.Itoa(i))
		var ae *APIError
		if !errors.As(err, &ae) || ae.StatusCode != tc.status {
			t.Fatalf("%s: err = %v, want an APIError %d", tc.name, err, tc.status)
		}
		for what, text := range map[string]string{"error": err.Error(), "message": ae.Message, "code": ae.Code} {
			if strings.Contains(text, leak) {
				t.Errorf("%s: the %s shows part of the key: %q", tc.name, what, text)
			}
		}
		// Where the whole mark fits before the cut, it shows (past that, a
		// cut mark such as "[REDAC…" shows nothing either).
		if tc.keyPos+len(redactedMark) <= tc.maxField && !strings.Contains(ae.Message+ae.Code, redactedMark) {
			t.Errorf("%s: the key was not visibly redacted: code %q, message %q", tc.name, ae.Code, ae.Message)
		}
		field := ae.Message
		if strings.HasPrefix(tc.name, "envelope code") {
			field = ae.Code
		} else if tc.status == http.StatusMovedPermanently {
			field = strings.TrimSuffix(strings.TrimPrefix(field, "redirected to "), "; set the base URL to the final address")
		}
		if len(field) > tc.maxField+len("…") {
			t.Errorf("%s: field of %d bytes, bound %d", tc.name, len(field), tc.maxField)
		}
	}
}

func TestRedactCutKey(t *testing.T) {
	t.Parallel()
	c := &Client{key: testKey}
	for _, tc := range []struct {
		in    string
		limit int
		want  string
	}{
		{"text " + testKey[:minKeyPrefix-1], 100, "text " + testKey[:minKeyPrefix-1]}, // too short to tell
		{"text " + testKey[:minKeyPrefix], 100, "text " + redactedMark},
		{"text " + testKey[:len(testKey)-1], 100, "text " + redactedMark},
		{"text " + testKey[:minKeyPrefix], 12, "te" + redactedMark}, // stays within the limit
		{"é" + testKey[:minKeyPrefix], 11, redactedMark},            // and on a rune boundary
		{"no key here", 100, "no key here"},
	} {
		if got := c.redactCutKey(tc.in, tc.limit); got != tc.want {
			t.Errorf("redactCutKey(%q, %d) = %q, want %q", tc.in, tc.limit, got, tc.want)
		}
	}
	if got := (&Client{}).redactCutKey("text", 100); got != "text" {
		t.Errorf("without a key: %q", got)
	}
}
