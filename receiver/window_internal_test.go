package receiver

import (
	"github.com/docuparse/docuparse-ingest/internal/vocab"
	"testing"
	"time"
)

func TestTheReplayWindowRefusesOnlyTimestampsOutsideIt(t *testing.T) {
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	w := window{maxAge: 36 * time.Hour, skew: 15 * time.Minute, now: func() time.Time { return now }}
	cases := []struct {
		ts   string
		want string
	}{
		{"2026-12-02T12:00:00Z", ""},                           // the API's last retry, 24 h on
		{"2026-12-02T00:00:00Z", ""},                           // exactly max age
		{"2026-12-01T23:59:59Z", vocab.RefusedStaleTimestamp},  // one second older
		{"2026-11-19T12:00:00Z", vocab.RefusedStaleTimestamp},  // a capture replayed two weeks on
		{"2026-12-03T12:15:00Z", ""},                           // ahead by the skew allowed
		{"2026-12-03T12:15:01Z", vocab.RefusedFutureTimestamp}, // one second more
		{"2026-12-03T13:00:00+01:00", ""},                      // an offset other than Z
		{"2026-12-03T12:00:00.123456789Z", ""},                 // fractional seconds
		{"", ""},                                               // no timestamp: kept, the API signed it
		{"yesterday", ""},                                      // unparseable: kept as the API sent it
	}
	for _, tc := range cases {
		if got, _ := w.check(tc.ts); got != tc.want {
			t.Errorf("timestamp %q: %q, want %q", tc.ts, got, tc.want)
		}
	}
	off := window{skew: time.Minute, now: w.now}
	if got, _ := off.check("2000-01-01T00:00:00Z"); got != "" {
		t.Errorf("with no window, an old timestamp is refused: %q", got)
	}
}
