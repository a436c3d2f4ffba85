package receiver

import (
	"github.com/docuparse/docuparse-ingest/internal/vocab"
	"time"
)

// DefaultMaxFutureSkew is how far ahead of this host's clock a delivery's
// timestamp may be, unless HandlerConfig.MaxFutureSkew says otherwise: the
// two clocks' disagreement, not the network's delay.
const DefaultMaxFutureSkew = 15 * time.Minute

// window checks a verified delivery's signed "timestamp" (the body is
// signed, so the time is the API's) against the replay window.
type window struct {
	maxAge time.Duration // 0: no window
	skew   time.Duration
	now    func() time.Time
}

// check returns "" when the delivery stamped ts may be journaled, else the
// refusal reason: vocab.RefusedStaleTimestamp or vocab.RefusedFutureTimestamp. A
// missing or unparseable timestamp is not refused here: the body is the
// API's own, and the journal keeps what it cannot read as a dead letter.
func (w window) check(ts string) (reason string, age time.Duration) {
	if w.maxAge <= 0 || ts == "" {
		return "", 0
	}
	at, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		return "", 0
	}
	age = w.now().Sub(at)
	switch {
	case age > w.maxAge:
		return vocab.RefusedStaleTimestamp, age
	case -age > w.skew:
		return vocab.RefusedFutureTimestamp, age
	}
	return "", age
}
