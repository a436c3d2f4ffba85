package lifecycle

import (
	"context"
	"testing"
	"time"
)

// TestEveryCallsOnTicksUntilTheEnd: fn runs once a tick, and Every returns
// once ctx ends.
func TestEveryCallsOnTicksUntilTheEnd(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	calls := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		Every(ctx, time.Millisecond, func(context.Context) { calls <- struct{}{} })
	}()
	for range 3 {
		<-calls
	}
	cancel()
	for {
		select {
		case <-calls: // a tick that raced the cancel
		case <-done:
			return
		}
	}
}

// TestEveryDoesNotCallAtOnce: unlike Loop, Every waits a whole interval
// before its first call, so an ended context means no call at all.
func TestEveryDoesNotCallAtOnce(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	Every(ctx, time.Hour, func(context.Context) { t.Error("fn called before the first tick") })
}
