package storetest

import (
	"fmt"
	"sync"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/docuparse"
	"github.com/docuparse/docuparse-ingest/internal/store"
	"github.com/docuparse/docuparse-ingest/internal/vocab"
)

// Concurrency: writers at once (on one handle, and on two handles as the
// daemon and a command beside it) lose and double nothing, and a reader
// during a long write sees either all of it or none of it, never an error.
// The goroutines start together on a closed channel; nothing sleeps.
var concurrencyCases = []testCase{
	{"TwoWritersIntakingDistinctFilesRecordEachOnce", twoWritersDistinctFiles},
	{"TheSameFileFromSeveralWritersIsRecordedOnce", sameFileOnce},
	{"ConcurrentJournalsStoreEachKeyOnce", concurrentJournals},
	{"AReaderDuringALongWriteSeesAllOrNothing", readerDuringWrite},
}

// together runs fn(i) for i in [0, n) in n goroutines released at once, and
// returns once all have returned.
func together(n int, fn func(i int)) {
	var wg sync.WaitGroup
	release := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-release
			fn(i)
		}()
	}
	close(release)
	wg.Wait()
}

// collect gathers the errors of goroutines; the subtest fails on the
// first after they are done (t.Fatal is for the test's goroutine).
type collect struct {
	mu   sync.Mutex
	errs []error
}

func (c *collect) add(err error) {
	if err != nil {
		c.mu.Lock()
		c.errs = append(c.errs, err)
		c.mu.Unlock()
	}
}

func (c *collect) check(h *harness) {
	h.t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, err := range c.errs {
		h.t.Error(err)
	}
	if len(c.errs) > 0 {
		h.t.FailNow()
	}
}

func twoWritersDistinctFiles(h *harness) {
	writers := []Backend{h.b, h.openStore()}
	const each = 40
	var errs collect
	together(len(writers), func(w int) {
		for i := range each {
			n := w*each + i
			r, err := writers[w].Intake(h.ctx, file(n, sha(n)))
			if err == nil && r.State != store.StateQueued {
				err = fmt.Errorf("intake of file %d = %+v, want queued", n, r)
			}
			errs.add(err)
		}
	})
	errs.check(h)
	docs, err := h.b.Documents(h.ctx, "", 0)
	h.must(err)
	paths := map[string]int{}
	for _, d := range docs {
		paths[d.Path]++
	}
	if len(docs) != 2*each || len(paths) != 2*each {
		h.t.Fatalf("%d documents for %d paths, want %d each once", len(docs), len(paths), 2*each)
	}
	refs := map[string]bool{}
	for _, d := range docs {
		refs[d.ClientReference] = true
	}
	if len(refs) != 2*each {
		h.t.Fatalf("%d client references for %d documents", len(refs), len(docs))
	}
	if got := len(h.transitions()); got != 2*each {
		h.t.Fatalf("%d transitions announced on the first handle and the second, want %d", got, 2*each)
	}
}

// The same settled file handed to intake several times at once (two
// sources' listings, a rescan racing a watch event, or two handles): one
// document, the others find it known. Dedupe off, so a second row could
// not hide as a duplicate.
func sameFileOnce(h *harness) {
	writers := []Backend{h.b, h.openStore()}
	f := file(1, sha(1))
	f.Dedupe = false
	const n = 8
	var errs collect
	var mu sync.Mutex
	var queued, known int
	together(n, func(i int) {
		r, err := writers[i%2].Intake(h.ctx, f)
		errs.add(err)
		mu.Lock()
		defer mu.Unlock()
		switch {
		case err != nil:
		case r.State == store.StateQueued:
			queued++
		case r.Known:
			known++
		default:
			errs.add(fmt.Errorf("intake = %+v", r))
		}
	})
	errs.check(h)
	if queued != 1 || known != n-1 || h.count("") != 1 {
		h.t.Fatalf("%d queued, %d known, %d documents; want the file recorded once", queued, known, h.count(""))
	}
	// The same holds for a refusal.
	g := file(2, "")
	ids := make([]int64, n)
	together(n, func(i int) {
		id, err := writers[i%2].Reject(h.ctx, g, vocab.CodeUnreadable, "EACCES")
		errs.add(err)
		ids[i] = id
	})
	errs.check(h)
	for _, id := range ids {
		if id != ids[0] {
			h.t.Fatalf("refusals made documents %v, want one", ids)
		}
	}
}

// Deliveries journaled by several goroutines at once, repeats of each
// other's keys included: each key is stored once.
func concurrentJournals(h *harness) {
	const writers, keys = 4, 50
	var errs collect
	stored := make([][]bool, writers)
	together(writers, func(w int) {
		evs := make([]store.IncomingEvent, keys)
		for k := range keys {
			key := fmt.Sprintf("k%d", (k+w*keys/2)%(keys*2)) // half of each group overlaps the next
			evs[k] = store.IncomingEvent{DedupeKey: key, Type: docuparse.EventDocumentCompleted, DocumentID: "doc_" + key, Body: []byte(`{}`)}
		}
		got, err := h.b.JournalEvents(h.ctx, evs)
		errs.add(err)
		stored[w] = got
	})
	errs.check(h)
	n := 0
	for _, got := range stored {
		for _, ok := range got {
			if ok {
				n++
			}
		}
	}
	distinct := keys * 2
	if c := h.eventCounts(); n != distinct || c[store.EventPending] != distinct {
		h.t.Fatalf("%d reported stored, journal %v; want each of the %d keys once", n, c, distinct)
	}
}

// A reader during a long write (one transaction over many documents) sees
// the state before it or after it, never a part, and never an error.
func readerDuringWrite(h *harness) {
	const n = 400
	files := make([]store.NewFile, n)
	for i := range files {
		files[i] = file(i, sha(i))
	}
	reader := h.openStore()
	written := make(chan struct{})
	firstRead := make(chan struct{})
	var errs collect
	var reads int
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			errs.add(readConsistent(h, reader, n))
			reads++
			if i == 0 {
				close(firstRead)
			}
			select {
			case <-written:
				errs.add(readConsistent(h, reader, n))
				return
			default:
			}
		}
	}()
	<-firstRead
	h.must(h.b.SeedExported(h.ctx, files, "SEEDED", "seeded"))
	close(written)
	wg.Wait()
	errs.check(h)
	if reads < 1 {
		h.t.Fatal("the reader never read")
	}
	if n2 := h.count(store.StateExported); n2 != n {
		h.t.Fatalf("%d exported after the write, want %d", n2, n)
	}
}

// readConsistent reads the store through b as status and the report do,
// and checks that it holds none or all of the n documents of one write.
func readConsistent(h *harness, b Backend, n int) error {
	st, err := b.Status(h.ctx)
	if err != nil {
		return fmt.Errorf("status during a write: %w", err)
	}
	if got := st.Counts[store.StateExported]; len(st.Counts) > 1 || (got != 0 && got != n) {
		return fmt.Errorf("status during a write counts %v, want none or all %d exported", st.Counts, n)
	}
	docs, err := b.Documents(h.ctx, "", 0)
	if err != nil {
		return fmt.Errorf("documents during a write: %w", err)
	}
	if len(docs) != 0 && len(docs) != n {
		return fmt.Errorf("%d documents listed during a write, want none or %d", len(docs), n)
	}
	d, err := b.ReportData(h.ctx, store.ReportWindow{Day: "2026-11-27", From: start, To: start.Add(time.Hour)})
	if err != nil {
		return fmt.Errorf("report data during a write: %w", err)
	}
	if d.Discovered != len(d.Documents) || (d.Discovered != 0 && d.Discovered != n) {
		return fmt.Errorf("report data during a write: %d discovered, %d documents; want one snapshot of none or %d", d.Discovered, len(d.Documents), n)
	}
	return nil
}
