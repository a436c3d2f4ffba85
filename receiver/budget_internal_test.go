package receiver

import (
	"bytes"
	"slices"
	"testing"
	"time"
)

func TestAnUnverifiedBodyHoldsWhatItReadPlusOneGrowingPart(t *testing.T) {
	budget := &byteBudget{max: 1 << 20}
	b := unverifiedBody{budget: budget}
	body := bytes.Repeat([]byte("a"), 40<<10)
	if err := b.read(bytes.NewReader(body), int64(len(body)), 1<<20); err != nil {
		t.Fatal(err)
	}
	var sizes []int
	for _, p := range b.parts {
		sizes = append(sizes, len(p))
	}
	// 1 KiB, then as much as was read so far up to 16 KiB, then what is left.
	if want := []int{1 << 10, 1 << 10, 2 << 10, 4 << 10, 8 << 10, 16 << 10, 8 << 10}; !slices.Equal(sizes, want) {
		t.Errorf("parts %v, want %v", sizes, want)
	}
	if !bytes.Equal(b.bytes(), body) || b.held != int64(len(body)) || budget.used.Load() != b.held {
		t.Errorf("read %d bytes holding %d (budget %d), want the body whole holding its length", b.n, b.held, budget.used.Load())
	}
	b.release()
	if budget.used.Load() != 0 {
		t.Errorf("budget %d after release, want 0", budget.used.Load())
	}
}

func TestThePaceOfAnUnverifiedBody(t *testing.T) {
	start := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	p := pace{start: start, timeout: 5 * time.Second, rate: 2 << 20}
	cases := []struct {
		held int64
		want time.Duration
	}{
		{1, 5 * time.Second},                  // within the first part: the body deadline
		{firstPart, 5 * time.Second},          // still the first part
		{2 << 20, 2 * time.Second},            // 1 s of grace + 2 MiB at 2 MiB/s
		{1 << 20, 1500 * time.Millisecond},    // 1 MiB: 1.5 s
		{64 << 20, 5 * time.Second},           // never past the body deadline
		{firstPart + 1, time.Second + 488758}, // just past it: the grace and 1,025 bytes at 2 MiB/s (488.758 µs)
	}
	for _, tc := range cases {
		if got := p.deadline(tc.held).Sub(start); got != tc.want {
			t.Errorf("holding %d bytes: deadline start+%v, want start+%v", tc.held, got, tc.want)
		}
	}
}
