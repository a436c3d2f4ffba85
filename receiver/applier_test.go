package receiver_test

import (
	"context"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/docuparse"
	"github.com/docuparse/docuparse-ingest/internal/store"
	"github.com/docuparse/docuparse-ingest/internal/testwait"
	"github.com/docuparse/docuparse-ingest/receiver"
)

// deliver posts body signed with secretA and insists on a 200.
func deliver(t *testing.T, url string, body []byte) {
	t.Helper()
	if a := post(t, url, body, signed(secretA, body)); a.status != http.StatusOK {
		t.Fatalf("delivery answered %d (%q), want 200", a.status, a.body)
	}
}

func TestRunOnceAppliesJournaledEventsToDocuments(t *testing.T) {
	const id = "doc_applier001"
	completedLater := []byte(strings.Replace(string(completedEvent(id)), "14:00:00Z", "14:05:00Z", 1))
	batchDone := []byte(`{"event":"batch.completed","batch_id":"batch_` + id + `","timestamp":"2026-05-19T14:10:00Z",` +
		`"summary":{"total":1,"succeeded":1,"failed":0}}`)
	cases := []struct {
		name       string
		bodies     [][]byte
		wantState  store.State
		wantEvents map[string]int
		check      func(t *testing.T, d *store.Document)
	}{
		{name: "a document.completed completes the submitted document with its data",
			bodies: [][]byte{completedEvent(id)}, wantState: store.StateCompleted, wantEvents: map[string]int{"applied": 1},
			check: func(t *testing.T, d *store.Document) {
				if d.ResultVia != store.ViaWebhook || !strings.Contains(string(d.Result), `"Test Vendor"`) ||
					d.APITimestamp != "2026-05-19T14:00:00Z" {
					t.Errorf("document = via %q, result %s, timestamp %q", d.ResultVia, d.Result, d.APITimestamp)
				}
			}},
		{name: "a document.failed fails the submitted document with the API's reason",
			bodies: [][]byte{failedEvent(id)}, wantState: store.StateFailed, wantEvents: map[string]int{"applied": 1},
			check: func(t *testing.T, d *store.Document) {
				if d.ErrorCode != docuparse.CodeExtractionFailed || d.ErrorMessage != "unreadable scan" {
					t.Errorf("error = %q %q", d.ErrorCode, d.ErrorMessage)
				}
			}},
		{name: "a repeat of the outcome with another timestamp is a duplicate",
			bodies: [][]byte{completedEvent(id), completedLater}, wantState: store.StateCompleted,
			wantEvents: map[string]int{"applied": 1, "duplicate": 1},
			check: func(t *testing.T, d *store.Document) {
				if d.APITimestamp != "2026-05-19T14:00:00Z" {
					t.Errorf("timestamp = %q, want the first event's", d.APITimestamp)
				}
			}},
		{name: "a contradicting later outcome is a conflict and changes nothing",
			bodies: [][]byte{completedEvent(id), failedEvent(id)}, wantState: store.StateCompleted,
			wantEvents: map[string]int{"applied": 1, "conflict": 1}},
		{name: "a batch.completed for the document's batch is applied and leaves the document waiting",
			bodies: [][]byte{batchDone}, wantState: store.StateSubmitted, wantEvents: map[string]int{"applied": 1}},
		{name: "an event for a document not recorded yet waits as an orphan",
			bodies: [][]byte{completedEvent("doc_notyet0001")}, wantState: store.StateSubmitted, wantEvents: map[string]int{"orphan": 1}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			// The store announces what the events changed (the daemon wakes
			// the exporter from there).
			var mu sync.Mutex
			var announced []store.State
			st := openStoreWith(t, store.Options{OnTransition: func(tr store.Transition) {
				mu.Lock()
				announced = append(announced, tr.To)
				mu.Unlock()
			}})
			submitted(t, st, "a.pdf", id)
			url := receiverURL(t, receiver.HandlerConfig{Secrets: [][]byte{secretA}}, st)
			for _, b := range tc.bodies {
				deliver(t, url, b)
			}
			a := receiver.NewApplier(st, nil)
			mu.Lock()
			before := len(announced)
			mu.Unlock()

			n, err := a.RunOnce(ctx)
			if err != nil || n != len(tc.bodies) {
				t.Fatalf("RunOnce = %d, %v; want %d, nil", n, err, len(tc.bodies))
			}
			if n, err := a.RunOnce(ctx); err != nil || n != 0 {
				t.Fatalf("second RunOnce = %d, %v; want 0, nil", n, err)
			}
			var want []store.State // one transition, by the pass that applied the outcome
			if tc.wantState != store.StateSubmitted {
				want = []store.State{tc.wantState}
			}
			mu.Lock()
			got := slices.Clone(announced[before:])
			mu.Unlock()
			if !slices.Equal(got, want) {
				t.Errorf("the passes announced transitions to %v, want %v (only the pass that applied an outcome)", got, want)
			}
			d := documentState(t, st, id)
			if d.State != tc.wantState {
				t.Errorf("document state = %s, want %s", d.State, tc.wantState)
			}
			if got := eventCounts(t, st); !sameCounts(got, tc.wantEvents) {
				t.Errorf("events = %v, want %v", got, tc.wantEvents)
			}
			if tc.check != nil {
				tc.check(t, d)
			}
		})
	}
}

func sameCounts(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestAWebhookThatBeatsTheSubmitAnswerIsAppliedWhenTheAnswerIsRecorded(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	doc, batch := submitting(t, st, "early.pdf")
	url := receiverURL(t, receiver.HandlerConfig{Secrets: [][]byte{secretA}}, st)
	deliver(t, url, completedEvent("doc_early00001"))
	if n, err := receiver.NewApplier(st, nil).RunOnce(ctx); err != nil || n != 1 {
		t.Fatalf("RunOnce = %d, %v; want 1, nil", n, err)
	}
	if got := eventCounts(t, st); got["orphan"] != 1 {
		t.Fatalf("events = %v, want the event kept as an orphan", got)
	}
	// Recording the answer queues the orphan again; the applier's next
	// pass (the daemon wakes it for each submitted document) applies it.
	recordSubmitted(t, st, batch, doc, "doc_early00001")
	if n, err := receiver.NewApplier(st, nil).RunOnce(ctx); err != nil || n != 1 {
		t.Fatalf("RunOnce after the answer = %d, %v; want 1, nil", n, err)
	}
	if d := documentState(t, st, "doc_early00001"); d.State != store.StateCompleted {
		t.Fatalf("document state = %s, want completed once the submission is recorded", d.State)
	}
	if got := eventCounts(t, st); !sameCounts(got, map[string]int{"applied": 1}) {
		t.Fatalf("events = %v, want the adopted orphan applied", got)
	}
}

// stopWithin fails the test rather than hanging when Stop blocks.
func stopWithin(t *testing.T, stop func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		stop()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Stop did not return")
	}
}

func TestApplierStartReturnsAtOnceAndStopIsSafeTwice(t *testing.T) {
	st := openStore(t)
	a := receiver.NewApplier(st, nil)
	receiver.SetApplierInterval(a, time.Hour) // Stop must not wait for a tick
	a.Start(context.Background())
	stopWithin(t, a.Stop)
	stopWithin(t, a.Stop)

	// Concurrent Stops of a running applier all return.
	b := receiver.NewApplier(st, nil)
	b.Start(context.Background())
	var wg sync.WaitGroup
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b.Stop()
		}()
	}
	stopWithin(t, wg.Wait)

	// Stop of an applier never started returns too.
	stopWithin(t, receiver.NewApplier(st, nil).Stop)
}

func TestApplierStopsWhenItsContextIsCancelled(t *testing.T) {
	st := openStore(t)
	a := receiver.NewApplier(st, nil)
	receiver.SetApplierInterval(a, time.Hour)
	ctx, cancel := context.WithCancel(context.Background())
	a.Start(ctx)
	cancel()
	stopWithin(t, a.Stop)
}

func TestApplierStartAppliesWhatAPreviousRunJournaled(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "state.db")
	st, err := store.Open(ctx, path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	submitted(t, st, "old.pdf", "doc_restart001")
	url := receiverURL(t, receiver.HandlerConfig{Secrets: [][]byte{secretA}}, st)
	deliver(t, url, completedEvent("doc_restart001"))
	st.Close() // the process died after the 200, before applying

	st2, err := store.Open(ctx, path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st2.Close() })
	a := receiver.NewApplier(st2, nil)
	receiver.SetApplierInterval(a, time.Hour) // only the first pass at Start can apply it
	a.Start(ctx)
	t.Cleanup(a.Stop)
	testwait.For(t, "the journaled event to be applied at start", func() bool {
		return documentState(t, st2, "doc_restart001").State == store.StateCompleted
	})
}

func TestNotifyWakesTheApplierForANewWebhook(t *testing.T) {
	ctx := context.Background()
	var a *receiver.Applier // set before anything is journaled
	st := openStoreWith(t, store.Options{OnJournaled: func(int) { a.Notify() }})
	submitted(t, st, "invoice.pdf", "doc_notify0001")
	a = receiver.NewApplier(st, nil)
	receiver.SetApplierInterval(a, time.Hour) // the ticker cannot be what wakes it

	url := receiverURL(t, receiver.HandlerConfig{Secrets: [][]byte{secretA}}, st)

	// A first event, journaled before Start, tells us when the first pass
	// (the one at Start) is over: it leaves it an orphan.
	deliver(t, url, completedEvent("doc_sentinel01"))
	a.Start(ctx)
	t.Cleanup(a.Stop)
	testwait.For(t, "the first pass to apply the journaled event", func() bool {
		return eventCounts(t, st)["orphan"] == 1
	})

	// The applier now waits for a tick an hour away: only Notify, called
	// from the store's OnJournaled after the journal commit (the daemon's
	// wake path), can make it apply this one.
	deliver(t, url, completedEvent("doc_notify0001"))
	testwait.For(t, "the notified applier to complete the document", func() bool {
		return documentState(t, st, "doc_notify0001").State == store.StateCompleted
	})
	if d := documentState(t, st, "doc_notify0001"); d.ResultVia != store.ViaWebhook {
		t.Errorf("result via %q, want webhook", d.ResultVia)
	}
}

func TestNotifyNeverBlocks(t *testing.T) {
	a := receiver.NewApplier(openStore(t), nil)
	// Not started: nobody drains the wake-up channel, yet Notify returns.
	for range 100 {
		a.Notify()
	}
}
