package receiver

import (
	"context"
	"errors"
	"sync"

	"github.com/docuparse/docuparse-ingest/internal/lifecycle"
	"github.com/docuparse/docuparse-ingest/internal/store"
)

// maxGroup bounds how many deliveries share one transaction.
const maxGroup = 256

// errJournalStopped answers deliveries that arrive after shutdown began;
// the non-200 makes the API deliver them again later.
var errJournalStopped = errors.New("journal stopped")

// journal writes verified deliveries to the store with group commit: one
// writer goroutine takes every delivery waiting at that moment and stores
// them in one transaction, so concurrent deliveries share one fsync
// instead of queueing for one each. A lone delivery is written at once —
// batching never adds a wait.
type journal struct {
	store Journal
	reqs  chan journalReq
	group lifecycle.Group

	// mu guards state. Writers hold it shared while they enqueue, so
	// stop (exclusive) knows no delivery slips in after the final drain.
	mu    sync.RWMutex
	state int

	// beforeCommit, set only by tests, sees each group's size before it is
	// written.
	beforeCommit func(n int)
}

const (
	journalIdle    = iota // not started: write directly, one transaction each
	journalRunning        // the writer goroutine groups deliveries
	journalStopped        // refuse: the API will deliver again
)

type journalReq struct {
	ev    store.IncomingEvent
	reply chan journalReply
}

type journalReply struct {
	inserted bool
	err      error
}

func newJournal(st Journal) *journal {
	return &journal{store: st, reqs: make(chan journalReq, maxGroup)}
}

func (j *journal) start(ctx context.Context) {
	j.mu.Lock()
	defer j.mu.Unlock()
	// Only stop ends the writer: a writer gone while the state still says
	// running would leave deliveries waiting for an answer forever.
	if j.state == journalIdle && j.group.Go(context.WithoutCancel(ctx), j.run) {
		j.state = journalRunning
	}
}

func (j *journal) stop() {
	j.mu.Lock()
	j.state = journalStopped
	j.mu.Unlock()
	j.group.Stop()
}

// write stores one delivery durably and reports whether it was new.
func (j *journal) write(ctx context.Context, ev store.IncomingEvent) (bool, error) {
	j.mu.RLock()
	switch j.state {
	case journalIdle:
		j.mu.RUnlock()
		return j.store.JournalEvent(ctx, ev)
	case journalStopped:
		j.mu.RUnlock()
		return false, errJournalStopped
	}
	req := journalReq{ev: ev, reply: make(chan journalReply, 1)}
	select {
	case j.reqs <- req:
		j.mu.RUnlock()
	case <-ctx.Done():
		j.mu.RUnlock()
		return false, ctx.Err()
	}
	// Once queued, wait for the answer even if the client went away: the
	// writer owns the request now, and its result is what happened.
	r := <-req.reply
	return r.inserted, r.err
}

func (j *journal) run(ctx context.Context) {
	group := make([]journalReq, 0, maxGroup)
	evs := make([]store.IncomingEvent, 0, maxGroup)
	for {
		group, evs = group[:0], evs[:0]
		select {
		case <-ctx.Done():
			j.drain()
			return
		case r := <-j.reqs:
			group = append(group, r)
		}
	collect:
		for len(group) < maxGroup {
			select {
			case r := <-j.reqs:
				group = append(group, r)
			default:
				break collect
			}
		}
		for _, r := range group {
			evs = append(evs, r.ev)
		}
		if j.beforeCommit != nil {
			j.beforeCommit(len(group))
		}
		// The writes outlive a cancelled context: deliveries already taken
		// are committed (or fail) as a whole, never left unanswered.
		inserted, err := j.store.JournalEvents(context.WithoutCancel(ctx), evs)
		for i, r := range group {
			if err != nil {
				r.reply <- journalReply{err: err}
			} else {
				r.reply <- journalReply{inserted: inserted[i]}
			}
		}
	}
}

// drain answers deliveries still queued at shutdown.
func (j *journal) drain() {
	for {
		select {
		case r := <-j.reqs:
			r.reply <- journalReply{err: errJournalStopped}
		default:
			return
		}
	}
}
