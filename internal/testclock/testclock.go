// Package testclock owns the settable clock that tests inject wherever the
// code takes a `Now func() time.Time`, so time-dependent logic (grace
// periods, backoff, schedules, day boundaries) is tested without sleeping.
// Only tests import it.
//
// Like a host's clock it has two readings: Now, the wall clock that
// timestamps are written with, which an operator or NTP may step either
// way; and Mono, the monotonic clock that in-process deadlines are measured
// on, which only moves forward. Advance moves both; Step moves the wall
// clock alone.
package testclock

import (
	"sync"
	"time"
)

// monoOrigin is Mono's first reading. It is unrelated to any wall time, as
// a real monotonic clock's origin is, so that a test mixing the two
// readings gets nonsense rather than a pass by coincidence.
var monoOrigin = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// Clock is a clock that moves only when told. Safe for concurrent use.
type Clock struct {
	mu      sync.Mutex
	t       time.Time     // wall clock
	elapsed time.Duration // monotonic time since New
}

// New returns a Clock reading t.
func New(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the wall clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Mono returns the monotonic clock's reading: only differences between
// two readings mean anything. It is what time.Now's monotonic reading is
// in production.
func (c *Clock) Mono() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return monoOrigin.Add(c.elapsed)
}

// Set moves the wall clock to t. Forward, the monotonic clock moves on by
// as much; backward, it is a step (see Step) and the monotonic clock stands.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	if d := t.Sub(c.t); d > 0 {
		c.elapsed += d
	}
	c.t = t
	c.mu.Unlock()
}

// Advance lets d pass: both clocks move on by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.elapsed += d
	c.mu.Unlock()
}

// Step steps the wall clock by d (negative: back), as an operator or NTP
// setting the time does; no time passes, so the monotonic clock stands.
func (c *Clock) Step(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}
