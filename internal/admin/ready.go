package admin

import (
	"context"
	"errors"
	"fmt"
	"github.com/docuparse/docuparse-ingest/internal/safetext"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"
)

// maxReason caps one check's reason in a /readyz answer, in bytes: room
// for what failed, since when, and the fix.
const maxReason = 1000

// failure is one check that did not pass.
type failure struct {
	name, reason string
}

// readiness runs the checks and remembers the last verdict, so that only
// changes are logged (a probe every few seconds must not flood the journal).
type readiness struct {
	checks  map[string]func(context.Context) error
	timeout time.Duration
	redact  *strings.Replacer
	log     *slog.Logger

	mu   sync.Mutex
	last string // "", "ready" or "failed:" and the failing checks' names
}

// run runs every check concurrently, each under its own timeout, and
// returns the failures sorted by name. A check that ignores its context is
// abandoned (not waited for) when its timeout passes.
func (rd *readiness) run(ctx context.Context) []failure {
	results := make(chan failure, len(rd.checks)) // buffered: abandoned checks never block
	for name, check := range rd.checks {
		go func() {
			results <- failure{name, rd.runOne(ctx, name, check)}
		}()
	}
	var failed []failure
	for range rd.checks {
		if f := <-results; f.reason != "" {
			failed = append(failed, f)
		}
	}
	slices.SortFunc(failed, func(a, b failure) int { return strings.Compare(a.name, b.name) })
	rd.record(failed)
	return failed
}

// runOne returns "" when the check passed, else a one-line reason.
func (rd *readiness) runOne(parent context.Context, name string, check func(context.Context) error) string {
	ctx, cancel := context.WithTimeout(parent, rd.timeout)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		defer func() {
			if v := recover(); v != nil {
				rd.log.Error("readiness check panicked", "check", name, "panic", rd.clean(fmt.Sprint(v)))
				done <- errors.New("check panicked")
			}
		}()
		done <- check(ctx)
	}()
	var err error
	select {
	case err = <-done:
	case <-ctx.Done():
		err = ctx.Err()
	}
	switch {
	case err == nil:
		return ""
	case errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil && parent.Err() == nil:
		return fmt.Sprintf("timed out after %s", rd.timeout)
	case parent.Err() != nil:
		return "request cancelled"
	}
	reason := rd.clean(err.Error())
	if reason == "" {
		reason = "failed"
	}
	return reason
}

// clean makes a reason safe to show: secrets redacted, one line, bounded.
func (rd *readiness) clean(s string) string {
	s = rd.redact.Replace(s)
	return strings.ToValidUTF8(safetext.OneLine(s, maxReason), "?")
}

// record logs a change of verdict: becoming ready, or a change in the set
// of failing checks (not of their reasons, which may vary call to call).
func (rd *readiness) record(failed []failure) {
	names := make([]string, len(failed))
	for i, f := range failed {
		names[i] = f.name
	}
	verdict := "ready"
	if len(failed) > 0 {
		verdict = "failed:" + strings.Join(names, ",")
	}
	rd.mu.Lock()
	changed := verdict != rd.last
	rd.last = verdict
	rd.mu.Unlock()
	if !changed {
		return
	}
	if len(failed) == 0 {
		rd.log.Info("ready: every readiness check passes")
		return
	}
	rd.log.Warn("not ready", "failed", strings.Join(names, ","),
		"detail", strings.TrimSpace(formatFailures(failed)))
}

// formatFailures is the /readyz body: one "name: reason" line per failure.
func formatFailures(failed []failure) string {
	var b strings.Builder
	for _, f := range failed {
		fmt.Fprintf(&b, "%s: %s\n", f.name, f.reason)
	}
	return b.String()
}

// newRedactor replaces every non-empty secret by "[redacted]", longest
// first so that a secret containing another is hidden whole.
func newRedactor(secrets []string) *strings.Replacer {
	var ss []string
	for _, s := range secrets {
		if s != "" {
			ss = append(ss, s)
		}
	}
	slices.SortFunc(ss, func(a, b string) int { return len(b) - len(a) })
	pairs := make([]string, 0, 2*len(ss))
	for _, s := range ss {
		pairs = append(pairs, s, "[redacted]")
	}
	return strings.NewReplacer(pairs...)
}
