package receiver

import (
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"
)

// DefaultRefusalLogInterval is how often, at most, refusals are logged one
// by one; see refusalLog.
const DefaultRefusalLogInterval = time.Minute

// refusalLog writes refusals of outsiders' requests to the log without
// letting a flood write a line per request: the first refusal of an
// interval is logged in full, the others are counted by reason and written
// as one summary line when the interval ends (and at stop). The counters
// (HandlerConfig.OnRefused, /metrics) still see every refusal.
type refusalLog struct {
	log   *slog.Logger
	every time.Duration
	now   func() time.Time

	mu      sync.Mutex
	last    time.Time      // when a line was last written
	held    map[string]int // refusals since then, not logged, by reason
	timer   *time.Timer    // writes the summary; nil when none is due
	stopped bool
}

func newRefusalLog(log *slog.Logger, every time.Duration) *refusalLog {
	return &refusalLog{log: log, every: every, now: time.Now, held: map[string]int{}}
}

// refused logs msg with attrs and the reason, or counts it for the next
// summary when a line was written less than an interval ago.
func (l *refusalLog) refused(reason, msg string, attrs ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if len(l.held) == 0 && (l.last.IsZero() || now.Sub(l.last) >= l.every) {
		l.last = now
		l.log.Warn(msg, append(attrs, "reason", reason)...)
		return
	}
	l.held[reason]++
	if l.timer == nil && !l.stopped {
		l.timer = time.AfterFunc(l.last.Add(l.every).Sub(now), l.flush)
	}
}

// flush writes the summary of the refusals held back, if any.
func (l *refusalLog) flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.timer = nil
	if len(l.held) == 0 {
		return
	}
	var counts strings.Builder
	total := 0
	for _, reason := range slices.Sorted(maps.Keys(l.held)) {
		fmt.Fprintf(&counts, " %s=%d", reason, l.held[reason])
		total += l.held[reason]
	}
	l.log.Warn("webhook requests refused and not logged one by one",
		"refused", total, "by_reason", strings.TrimSpace(counts.String()), "since", l.last.UTC().Format(time.RFC3339))
	clear(l.held)
	l.last = l.now()
}

// stop writes what is held back and schedules nothing more. Safe twice.
func (l *refusalLog) stop() {
	l.mu.Lock()
	l.stopped = true
	if l.timer != nil {
		l.timer.Stop()
	}
	l.mu.Unlock()
	l.flush()
}
