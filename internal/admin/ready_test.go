package admin

import (
	"context"
	"errors"
	"fmt"
	"github.com/docuparse/docuparse-ingest/internal/testlog"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func ok(context.Context) error { return nil }

func TestReadyzWithoutChecksIsReady(t *testing.T) {
	s := start(t, Config{})
	if a := get(t, s, PathReady); a.status != http.StatusOK || a.body != "ok\n" {
		t.Errorf("readyz: %d %q", a.status, a.body)
	}
}

func TestReadyzPassing(t *testing.T) {
	s := start(t, Config{Checks: map[string]func(context.Context) error{"store": ok, "sources": ok, "api": ok}})
	if a := get(t, s, PathReady); a.status != http.StatusOK || a.body != "ok\n" {
		t.Errorf("readyz: %d %q", a.status, a.body)
	}
}

func TestReadyzFailingListsFailedChecks(t *testing.T) {
	s := start(t, Config{Checks: map[string]func(context.Context) error{
		"store":   func(context.Context) error { return fmt.Errorf("ping store: %w", errors.New("disk I/O error")) },
		"sources": ok,
		"api":     func(context.Context) error { return errors.New("no successful call\nfor 10m") },
	}})
	a := get(t, s, PathReady)
	if a.status != http.StatusServiceUnavailable {
		t.Fatalf("readyz: %d, want 503", a.status)
	}
	want := []string{"api: no successful call for 10m", "store: ping store: disk I/O error"}
	if got := lines(a.body); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("readyz body:\n%s\nwant lines %q", a.body, want)
	}
	if ct := a.header.Get("Content-Type"); ct != "text/plain; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
}

// A readiness answer never shows a secret, even when a check's error
// carries one.
func TestReadyzRedactsSecrets(t *testing.T) {
	const key, hook = "dex_live_Sup3rS3cret", "whsec_abc"
	var logs syncBuffer
	s := start(t, Config{
		Redact: []string{key, "", hook},
		Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Checks: map[string]func(context.Context) error{
			"api": func(context.Context) error {
				return fmt.Errorf("GET https://x/api?key=%s: 401 (secret %s)", key, hook)
			},
		},
	})
	a := get(t, s, PathReady)
	if strings.Contains(a.body, key) || strings.Contains(a.body, hook) || strings.Contains(a.body, "Sup3r") {
		t.Errorf("secret in readyz body: %q", a.body)
	}
	if !strings.Contains(a.body, "[redacted]") {
		t.Errorf("body %q lacks the redaction marker", a.body)
	}
	if strings.Contains(logs.String(), key) || strings.Contains(logs.String(), hook) {
		t.Errorf("secret in logs: %s", logs.String())
	}
	if !strings.Contains(logs.String(), "not ready") {
		t.Errorf("the failure was not logged: %s", logs.String())
	}
}

// A check that honours its context is cut off at CheckTimeout; one that
// ignores it is abandoned at the same time. Either way /readyz answers.
func TestReadyzCheckTimeout(t *testing.T) {
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	var sawDeadline atomic.Bool
	s := start(t, Config{
		CheckTimeout: 100 * time.Millisecond,
		Checks: map[string]func(context.Context) error{
			"polite": func(ctx context.Context) error {
				_, has := ctx.Deadline()
				sawDeadline.Store(has)
				<-ctx.Done()
				return ctx.Err()
			},
			"stubborn": func(context.Context) error { <-release; return nil },
			"fine":     ok,
		},
	})
	a := get(t, s, PathReady)
	if a.status != http.StatusServiceUnavailable {
		t.Fatalf("readyz: %d, want 503", a.status)
	}
	want := []string{"polite: timed out after 100ms", "stubborn: timed out after 100ms"}
	if got := lines(a.body); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("readyz body:\n%s\nwant lines %q", a.body, want)
	}
	if !sawDeadline.Load() {
		t.Error("the check's context had no deadline")
	}
}

func TestDefaultCheckTimeout(t *testing.T) {
	got := make(chan time.Duration, 1)
	s := start(t, Config{Checks: map[string]func(context.Context) error{"store": func(ctx context.Context) error {
		d, _ := ctx.Deadline()
		got <- time.Until(d)
		return nil
	}}})
	get(t, s, PathReady)
	if d := <-got; d <= 0 || d > DefaultCheckTimeout {
		t.Errorf("check deadline %s away, want within the default %s", d, DefaultCheckTimeout)
	}
}

// Readiness follows the checks: not ready, then ready once the condition
// clears, without a restart.
func TestReadyzFollowsTheChecks(t *testing.T) {
	var watching atomic.Bool
	var logs syncBuffer
	s := start(t, Config{
		Logger: slog.New(slog.NewTextHandler(&logs, nil)),
		Checks: map[string]func(context.Context) error{
			"sources": func(context.Context) error {
				if !watching.Load() {
					return errors.New("inbox: not watched yet")
				}
				return nil
			},
		}})
	for range 3 {
		if a := get(t, s, PathReady); a.status != http.StatusServiceUnavailable || a.body != "sources: inbox: not watched yet\n" {
			t.Fatalf("readyz: %d %q", a.status, a.body)
		}
	}
	watching.Store(true)
	if a := get(t, s, PathReady); a.status != http.StatusOK {
		t.Errorf("readyz after the condition cleared: %d %q", a.status, a.body)
	}
	// Three identical failures are one log line: only changes are logged.
	if n := strings.Count(logs.String(), "not ready"); n != 1 {
		t.Errorf("%d 'not ready' log lines, want 1:\n%s", n, logs.String())
	}
	if !strings.Contains(logs.String(), "ready: every readiness check passes") {
		t.Errorf("recovery not logged:\n%s", logs.String())
	}
}

// A panicking check is a failed check, not a dead daemon.
func TestReadyzCheckPanicIsAFailure(t *testing.T) {
	s := start(t, Config{Checks: map[string]func(context.Context) error{
		"broken": func(context.Context) error { panic("nil map") },
	}})
	a := get(t, s, PathReady)
	if a.status != http.StatusServiceUnavailable || a.body != "broken: check panicked\n" {
		t.Errorf("readyz: %d %q", a.status, a.body)
	}
	if h := get(t, s, PathHealth); h.status != http.StatusOK {
		t.Errorf("healthz after a panicking check: %d", h.status)
	}
}

func TestReadyzLongReasonIsBounded(t *testing.T) {
	s := start(t, Config{Checks: map[string]func(context.Context) error{
		"api": func(context.Context) error { return errors.New(strings.Repeat("é", 1000)) },
	}})
	a := get(t, s, PathReady)
	if len(a.body) > maxReason+len("api: …\n")+4 {
		t.Errorf("reason not bounded: %d bytes", len(a.body))
	}
	if !strings.HasSuffix(a.body, "…\n") {
		t.Errorf("truncation not marked: %q", a.body[len(a.body)-10:])
	}
}

// Checks run concurrently: the answer takes about one timeout, not one per check.
func TestReadyzRunsChecksConcurrently(t *testing.T) {
	const n = 4
	var started sync.WaitGroup
	started.Add(n)
	all := make(chan struct{})
	go func() { started.Wait(); close(all) }()
	checks := map[string]func(context.Context) error{}
	for i := range n {
		checks[fmt.Sprintf("c%d", i)] = func(ctx context.Context) error {
			started.Done()
			select { // passes only if every check is running at once
			case <-all:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
	s := start(t, Config{Checks: checks, CheckTimeout: 5 * time.Second})
	if a := get(t, s, PathReady); a.status != http.StatusOK {
		t.Errorf("readyz: %d %q", a.status, a.body)
	}
}

// syncBuffer collects log output written from other goroutines.
type syncBuffer = testlog.Buffer
