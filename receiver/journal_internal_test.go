package receiver

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/store"
	"github.com/docuparse/docuparse-ingest/internal/testwait"
)

func testJournal(t *testing.T) *journal {
	t.Helper()
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "state.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return newJournal(st)
}

func incoming(i int) store.IncomingEvent {
	body := []byte(fmt.Sprintf(`{"event":"document.completed","document_id":"doc_%d"}`, i))
	return Identify(body, "")
}

func TestConcurrentDeliveriesShareOneTransaction(t *testing.T) {
	j := testJournal(t)
	release := make(chan struct{})
	var mu sync.Mutex
	var groups []int
	j.beforeCommit = func(n int) {
		mu.Lock()
		groups = append(groups, n)
		first := len(groups) == 1
		mu.Unlock()
		if first {
			<-release // hold the writer while the others queue up
		}
	}
	j.start(context.Background())
	defer j.stop()

	results := make(chan error, 11)
	write := func(i int) {
		inserted, err := j.write(context.Background(), incoming(i))
		if err == nil && !inserted {
			err = fmt.Errorf("delivery %d not stored", i)
		}
		results <- err
	}
	go write(0)
	testwait.For(t, "the journal's state", func() bool { mu.Lock(); defer mu.Unlock(); return len(groups) == 1 })
	for i := 1; i <= 10; i++ {
		go write(i)
	}
	testwait.For(t, "the journal's state", func() bool { return len(j.reqs) == 10 })
	close(release)
	for range 11 {
		if err := <-results; err != nil {
			t.Fatal(err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if fmt.Sprint(groups) != "[1 10]" {
		t.Fatalf("groups = %v, want [1 10]: the ten waiting deliveries share one transaction", groups)
	}
}

func TestDeliveriesAfterStopAreRefusedNotLost(t *testing.T) {
	j := testJournal(t)
	j.start(context.Background())
	if ok, err := j.write(context.Background(), incoming(1)); err != nil || !ok {
		t.Fatalf("write = %v, %v", ok, err)
	}
	j.stop()
	j.stop()
	if _, err := j.write(context.Background(), incoming(2)); err != errJournalStopped {
		t.Fatalf("after stop: %v, want errJournalStopped (a non-200, so the API retries)", err)
	}
}

func TestAJournalNeverStartedWritesDirectly(t *testing.T) {
	j := testJournal(t)
	if ok, err := j.write(context.Background(), incoming(1)); err != nil || !ok {
		t.Fatalf("write = %v, %v", ok, err)
	}
	if ok, _ := j.write(context.Background(), incoming(1)); ok {
		t.Fatal("a repeat must not be stored twice")
	}
}

// The context given to Start may end before Stop (the demo's Ctrl-C): the
// writer must keep answering until Stop, never leave a delivery waiting.
func TestTheWriterOutlivesTheContextItWasStartedWith(t *testing.T) {
	j := testJournal(t)
	ctx, cancel := context.WithCancel(context.Background())
	j.start(ctx)
	defer j.stop()
	cancel()
	done := make(chan error, 1)
	go func() { _, err := j.write(context.Background(), incoming(1)); done <- err }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a delivery waited forever after the start context ended")
	}
}
