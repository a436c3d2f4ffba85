package receiver

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/testlog"
	"github.com/docuparse/docuparse-ingest/internal/vocab"
)

func TestRefusalsAreLoggedOncePerIntervalAndSummarised(t *testing.T) {
	log, buf := testlog.Logger(slog.LevelDebug)
	l := newRefusalLog(log, time.Hour)
	clock := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	l.now = func() time.Time { return clock }

	l.refused(vocab.RefusedBadSignature, "webhook refused: invalid signature")
	for range 5 {
		l.refused(vocab.RefusedBadSignature, "webhook refused: invalid signature")
	}
	l.refused(vocab.RefusedOverloaded, "webhook refused: too many unverified bodies in flight")
	if n := strings.Count(buf.String(), "\n"); n != 1 {
		t.Fatalf("%d lines within one interval, want 1:\n%s", n, buf)
	}
	l.flush() // what the interval's timer does
	if !strings.Contains(buf.String(), `refused=6 by_reason="bad_signature=5 overloaded=1"`) {
		t.Fatalf("no summary of the 6 refusals held back:\n%s", buf)
	}
	// Held back again until the next interval; stop writes the rest.
	l.refused(vocab.RefusedBadSignature, "webhook refused: invalid signature")
	l.stop()
	l.stop()
	if n := strings.Count(buf.String(), "\n"); n != 3 {
		t.Fatalf("%d lines, want 3 (first, summary, summary at stop):\n%s", n, buf)
	}
	// A quiet interval later, a refusal is logged in full again.
	clock = clock.Add(2 * time.Hour)
	l.refused(vocab.RefusedTooLarge, "webhook refused: body too large")
	if !strings.Contains(buf.String(), "reason=too_large") {
		t.Errorf("a refusal after a quiet interval was not logged:\n%s", buf)
	}
}
