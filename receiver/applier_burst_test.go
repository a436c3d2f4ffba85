package receiver_test

import (
	"context"
	"testing"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/store"
	"github.com/docuparse/docuparse-ingest/internal/testwait"
	"github.com/docuparse/docuparse-ingest/receiver"
)

// timerReq is one timer the applier asked for: how long, and the channel
// the test fires it on.
type timerReq struct {
	d    time.Duration
	fire chan time.Time
}

// burstRig is an applier whose timers the test fires by hand and whose
// passes it sees, over a store whose journal commits wake it (the
// daemon's wake path) and a receiver on loopback.
type burstRig struct {
	t      *testing.T
	st     *store.Store
	a      *receiver.Applier
	url    string
	timers chan timerReq
	passes chan int
}

func newBurstRig(t *testing.T) *burstRig {
	r := &burstRig{t: t}
	r.st = openStoreWith(t, store.Options{OnJournaled: func(int) { r.a.Notify() }})
	r.start(time.Hour) // no tick interferes
	return r
}

// start starts the applier over r.st with the safety net's interval and
// waits for its pass at Start.
func (r *burstRig) start(interval time.Duration) {
	t := r.t
	r.timers, r.passes = make(chan timerReq), make(chan int, 16)
	stopped := make(chan struct{})
	r.a = receiver.NewApplier(r.st, nil)
	receiver.SetApplierInterval(r.a, interval)
	receiver.SetApplierTimers(r.a, func(d time.Duration) <-chan time.Time {
		c := make(chan time.Time, 1)
		select {
		case r.timers <- timerReq{d, c}:
		case <-stopped: // the test is over: nobody fires it
		}
		return c
	}, func(n int) {
		select {
		case r.passes <- n:
		case <-stopped:
		}
	})
	r.url = receiverURL(t, receiver.HandlerConfig{Secrets: [][]byte{secretA}}, r.st)
	r.a.Start(context.Background())
	t.Cleanup(r.a.Stop)
	t.Cleanup(func() { close(stopped) }) // runs before Stop
	if n := r.pass(); n != 0 {
		t.Fatalf("the first pass applied %d events, want 0", n)
	}
}

// timer returns the next timer the applier asks for, which must last d.
func (r *burstRig) timer(d time.Duration) timerReq {
	r.t.Helper()
	select {
	case tr := <-r.timers:
		if tr.d != d {
			r.t.Fatalf("the applier asked for a %v timer, want %v", tr.d, d)
		}
		return tr
	case n := <-r.passes:
		r.t.Fatalf("the applier applied %d events instead of waiting for a %v timer", n, d)
	case <-time.After(testwait.Deadline):
		r.t.Fatalf("the applier asked for no %v timer", d)
	}
	return timerReq{}
}

// pass returns how many events the applier's next pass applied.
func (r *burstRig) pass() int {
	r.t.Helper()
	select {
	case n := <-r.passes:
		return n
	case tr := <-r.timers:
		r.t.Fatalf("the applier asked for a %v timer instead of applying", tr.d)
	case <-time.After(testwait.Deadline):
		r.t.Fatal("the applier did not apply")
	}
	return 0
}

// arrive delivers an event for a new submitted document, as the API does.
func (r *burstRig) arrive(id string) {
	r.t.Helper()
	submitted(r.t, r.st, id+".pdf", id)
	deliver(r.t, r.url, completedEvent(id))
}

func (r *burstRig) pending() int { return eventCounts(r.t, r.st)["pending"] }

func TestTheApplierWaitsWhileDeliveriesArriveAndAppliesAtThePause(t *testing.T) {
	r := newBurstRig(t)
	pause, bound := receiver.ApplyPause, receiver.ApplyBound
	r.arrive("doc_burst00001")
	r.timer(bound)
	q := r.timer(pause)
	r.arrive("doc_burst00002") // a delivery within the pause
	q.fire <- time.Now()
	q = r.timer(pause) // so the applier waits for another pause
	if n := r.pending(); n != 2 {
		t.Fatalf("%d events pending while deliveries arrive, want 2", n)
	}
	q.fire <- time.Now() // nothing arrived: the burst has paused
	if n := r.pass(); n != 2 {
		t.Fatalf("the pass after the pause applied %d events, want 2", n)
	}
	if d := documentState(t, r.st, "doc_burst00002"); d.State != store.StateCompleted {
		t.Fatalf("document %s after the pause, want completed", d.State)
	}
}

func TestTheApplierAppliesAtTheBoundUnderAContinuousStream(t *testing.T) {
	r := newBurstRig(t)
	pause, bound := receiver.ApplyPause, receiver.ApplyBound
	r.arrive("doc_stream0000")
	b := r.timer(bound)
	q := r.timer(pause)
	for _, id := range []string{"doc_stream0001", "doc_stream0002", "doc_stream0003"} {
		r.arrive(id)
		q.fire <- time.Now()
		q = r.timer(pause)
	}
	r.arrive("doc_stream0004")
	b.fire <- time.Now() // the oldest has waited the bound; q never fires
	if n := r.pass(); n != 5 {
		t.Fatalf("the pass at the bound applied %d events, want 5", n)
	}
	// The next delivery starts a new wait, bounded afresh.
	r.arrive("doc_stream0005")
	r.timer(bound)
	r.timer(pause).fire <- time.Now()
	if n := r.pass(); n != 1 {
		t.Fatalf("the next pass applied %d events, want 1", n)
	}
}

func TestStopEndsTheApplierWaitAndTheLastPassAppliesWhatWaited(t *testing.T) {
	r := newBurstRig(t)
	r.arrive("doc_stopwait01")
	r.timer(receiver.ApplyBound)
	r.timer(receiver.ApplyPause)
	stopWithin(t, r.a.Stop) // no timer fires: Stop alone ends the wait
	if n := r.pending(); n != 1 {
		t.Fatalf("%d events pending after Stop, want 1", n)
	}
	// The daemon's last pass after Stop (withLastPass) applies it.
	if n, err := r.a.RunOnce(context.Background()); err != nil || n != 1 {
		t.Fatalf("the last pass = %d, %v; want 1 applied", n, err)
	}
	if d := documentState(t, r.st, "doc_stopwait01"); d.State != store.StateCompleted {
		t.Fatalf("document %s after the last pass, want completed", d.State)
	}
}

func TestTheSafetyNetTickWaitsForTheBurstToPauseToo(t *testing.T) {
	r := &burstRig{t: t, st: openStore(t)} // no journal commit wakes it: only the tick can
	r.start(time.Millisecond)
	// A tick during a burst must not apply in the middle of it either.
	r.timer(receiver.ApplyBound)
	r.timer(receiver.ApplyPause).fire <- time.Now()
	r.pass()
}
