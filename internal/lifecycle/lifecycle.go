// Package lifecycle owns the Start/Stop contract shared by every
// long-lived part of the daemon: background goroutines under one
// cancellable context, a Stop that cancels and waits and is safe to call
// twice (or before Start), and the "run once, then wait for a poke or a
// tick" loop that periodic jobs are built on.
package lifecycle

import (
	"context"
	"sync"
	"time"
)

// Group runs goroutines under one context and stops them together. The
// zero value is ready to use.
type Group struct {
	mu      sync.Mutex
	ctx     context.Context
	cancel  context.CancelFunc
	stopped bool
	wg      sync.WaitGroup
}

// Go runs fn in a new goroutine. The first call derives the group's context
// from parent; later calls share it. After Stop, Go runs nothing and
// reports false.
func (g *Group) Go(parent context.Context, fn func(ctx context.Context)) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.stopped {
		return false
	}
	if g.ctx == nil {
		g.ctx, g.cancel = context.WithCancel(parent)
	}
	ctx := g.ctx
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		fn(ctx)
	}()
	return true
}

// Stop cancels the group's context and waits for every goroutine to
// return. It is safe to call twice, concurrently, or before any Go.
func (g *Group) Stop() {
	g.mu.Lock()
	g.stopped = true
	if g.cancel != nil {
		g.cancel()
	}
	g.mu.Unlock()
	g.wg.Wait()
}

// Poke is a wake-up signal that never blocks the sender and coalesces
// repeated pokes into one.
type Poke chan struct{}

// NewPoke returns a Poke.
func NewPoke() Poke { return make(Poke, 1) }

// Notify wakes the waiter, if it is not already due to wake.
func (p Poke) Notify() {
	select {
	case p <- struct{}{}:
	default:
	}
}

// Loop calls fn, then waits for a poke, the interval, or the end of ctx,
// and repeats until ctx ends. It is the shape of every periodic job: fn is
// the job's runOnce, the ticker its safety net, the poke its fast path.
func Loop(ctx context.Context, interval time.Duration, poke Poke, fn func(context.Context)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		fn(ctx)
		select {
		case <-ctx.Done():
			return
		case <-poke:
		case <-t.C:
		}
	}
}

// Every waits the interval, calls fn, and repeats until ctx ends. Unlike
// Loop it does not call fn at once, and nothing but the ticker wakes it: it
// is the shape of a periodic check whose first run is due one interval
// after the start.
func Every(ctx context.Context, interval time.Duration, fn func(context.Context)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		fn(ctx)
	}
}
