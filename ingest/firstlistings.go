package ingest

import (
	"context"
	"sync"
	"time"
)

// FirstListings is what intake waits for, once, at start: the first full
// listing of every folder source that registered with it (see
// FolderConfig.FirstListings and IntakeConfig.FirstListings). A tree found
// full at start is then listed at the speed of the file system, not
// sharing the CPU with the hashing and recording of its files, while the
// first group intake took goes on to be uploaded. Safe for concurrent use.
type FirstListings struct {
	mu      sync.Mutex
	pending int
	opened  bool
	done    chan struct{}
}

// NewFirstListings returns a FirstListings no listing registered with yet.
func NewFirstListings() *FirstListings {
	return &FirstListings{done: make(chan struct{})}
}

// add registers a first listing to wait for and returns the func that
// says it is done (once; more calls do nothing). Once every listing
// registered was done, a new one is not waited for. A nil FirstListings
// waits for nothing.
func (g *FirstListings) add() func() {
	if g == nil {
		return func() {}
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.opened {
		return func() {}
	}
	g.pending++
	var once sync.Once
	return func() {
		once.Do(func() {
			g.mu.Lock()
			defer g.mu.Unlock()
			if g.pending--; g.pending == 0 {
				g.opened = true
				close(g.done)
			}
		})
	}
}

// waiting returns the channel closed when every first listing registered
// is done, or false if none is pending.
func (g *FirstListings) waiting() (<-chan struct{}, bool) {
	if g == nil {
		return nil, false
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.done, g.pending > 0
}

// intakeHoldMax bounds intake's wait for the first listings: a tree that
// takes longer to list (a slow or network file system) is taken in while
// it is listed.
const intakeHoldMax = 10 * time.Second

// holdForFirstListings waits, the first time intake has recorded a full
// group (a folder found full at start), until the first listings are done,
// intakeHoldMax has passed or ctx ends.
func (in *Intake) holdForFirstListings(ctx context.Context) {
	if in.heldForListings {
		return
	}
	in.heldForListings = true
	done, pending := in.cfg.FirstListings.waiting()
	if !pending {
		return
	}
	if in.holding != nil {
		in.holding()
	}
	t := time.NewTimer(intakeHoldMax)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
	case <-ctx.Done():
	}
}
