package counters

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/teststop"
)

type sinkRecorder struct {
	mu   sync.Mutex
	got  map[string]map[string]int64
	fail int
}

func (s *sinkRecorder) add(_ context.Context, day string, counts map[string]int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail > 0 {
		s.fail--
		return errors.New("store is busy")
	}
	if s.got[day] == nil {
		s.got[day] = map[string]int64{}
	}
	for k, v := range counts {
		s.got[day][k] += v
	}
	return nil
}

func TestCountsLandOnTheirLocalDayAndSurviveAFailedFlush(t *testing.T) {
	rec := &sinkRecorder{got: map[string]map[string]int64{}, fail: 1}
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip("no time zone data")
	}
	c := New(rec.add, berlin, time.Hour, nil)
	now := time.Date(2026, 11, 27, 22, 30, 0, 0, time.UTC) // 23:30 in Berlin
	c.now = func() time.Time { return now }
	c.Add(WebhookBadSignature, 2)
	now = now.Add(time.Hour) // 00:30 next day in Berlin
	c.Add(WebhookBadSignature, 1)
	c.Add(APICallsPrefix+"get_document", 5)
	if err := c.Flush(context.Background()); err == nil {
		t.Fatal("the first flush should fail")
	}
	if err := c.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if rec.got["2026-11-27"][WebhookBadSignature] != 2 || rec.got["2026-11-28"][WebhookBadSignature] != 1 ||
		rec.got["2026-11-28"]["api_calls_get_document"] != 5 {
		t.Fatalf("flushed %v", rec.got)
	}
	if len(c.Snapshot()) != 0 {
		t.Fatalf("left pending: %v", c.Snapshot())
	}
}

func TestStopFlushesWhatIsLeftAndIsSafeTwice(t *testing.T) {
	rec := &sinkRecorder{got: map[string]map[string]int64{}}
	c := New(rec.add, time.UTC, time.Hour, nil)
	c.Start(context.Background())
	c.Add(WebhookTooLarge, 3)
	teststop.Within(t, "Stop", c.Stop)
	teststop.Within(t, "a second Stop", c.Stop)
	total := int64(0)
	for _, m := range rec.got {
		total += m[WebhookTooLarge]
	}
	if total != 3 {
		t.Fatalf("flushed %v, want 3 too-large", rec.got)
	}
}
