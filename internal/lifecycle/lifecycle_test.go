package lifecycle

import (
	"context"
	"sync/atomic"
	"testing"
	"time"
)

func TestStopCancelsAndWaitsForEveryGoroutine(t *testing.T) {
	var g Group
	var done atomic.Int32
	for range 3 {
		g.Go(context.Background(), func(ctx context.Context) {
			<-ctx.Done()
			done.Add(1)
		})
	}
	g.Stop()
	if done.Load() != 3 {
		t.Fatalf("%d goroutines returned before Stop did, want 3", done.Load())
	}
	g.Stop() // safe twice
}

func TestGoAfterStopRunsNothing(t *testing.T) {
	var g Group
	g.Stop() // before any Go
	if g.Go(context.Background(), func(context.Context) { t.Error("ran after Stop") }) {
		t.Fatal("Go after Stop reported true")
	}
	g.Stop()
}

func TestConcurrentStopsAllReturn(t *testing.T) {
	var g Group
	g.Go(context.Background(), func(ctx context.Context) { <-ctx.Done() })
	done := make(chan struct{})
	for range 3 {
		go func() { g.Stop(); done <- struct{}{} }()
	}
	for range 3 {
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("a Stop did not return")
		}
	}
}

func TestLoopRunsOnStartOnPokeAndStopsWithTheContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	poke := NewPoke()
	runs := make(chan struct{}, 10)
	ended := make(chan struct{})
	go func() {
		Loop(ctx, time.Hour, poke, func(context.Context) { runs <- struct{}{} })
		close(ended)
	}()
	<-runs // the first run happens at once
	poke.Notify()
	poke.Notify() // coalesced, never blocks
	<-runs
	cancel()
	select {
	case <-ended:
	case <-time.After(10 * time.Second):
		t.Fatal("Loop did not end with its context")
	}
}
