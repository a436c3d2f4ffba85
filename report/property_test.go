package report

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/docuparse"
	"github.com/docuparse/docuparse-ingest/internal/store"
)

// model is what the test knows of each document from the operations it
// ran: its state (and outcome, once exported) and when it was discovered.
type model struct {
	state, outcome store.State
	path           string
	discovered     time.Time
	batch          int64
	dupOf          int64 // for a duplicate: its original
}

// randomHistory drives a real store through ops random pipeline steps,
// spread over about three days, and returns the model of what it did.
func randomHistory(t *testing.T, f *repFixture, rng *rand.Rand, ops int) map[int64]*model {
	t.Helper()
	docs := map[int64]*model{}
	var shas []string
	batches := map[int64][]int64{}
	var order []int64 // ids in creation order: map order would make a seed's history vary
	inState := func(states ...store.State) []int64 {
		var out []int64
		for _, id := range order {
			for _, s := range states {
				if docs[id].state == s {
					out = append(out, id)
				}
			}
		}
		return out
	}
	pick := func(ids []int64) int64 { return ids[rng.IntN(len(ids))] }
	apiSeq := 0
	for step := 0; step < ops; step++ {
		f.at(f.clock.Now().Add(time.Duration(rng.IntN(120)) * time.Minute))
		now := f.clock.Now()
		switch op := rng.IntN(12); {
		case op < 3: // a new file, sometimes with content seen before
			sha := fmt.Sprintf("sha-%d", step)
			if len(shas) > 0 && rng.IntN(3) == 0 {
				sha = shas[rng.IntN(len(shas))]
			}
			shas = append(shas, sha)
			p := fmt.Sprintf("/in/f%03d.pdf", step)
			r, err := f.st.Intake(f.ctx, f.newFile(p, sha))
			f.fatal(err)
			docs[r.ID] = &model{state: r.State, path: p, discovered: now, dupOf: r.DuplicateOf}
			order = append(order, r.ID)
		case op == 3: // refused locally
			p := fmt.Sprintf("/in/r%03d.exe", step)
			id := f.reject(p, "UNSUPPORTED_MEDIA_TYPE", "")
			docs[id] = &model{state: store.StateRejected, path: p, discovered: now}
			order = append(order, id)
		case op == 4 || op == 5: // batch some queued files
			q := inState(store.StateQueued)
			if len(q) == 0 {
				continue
			}
			rng.Shuffle(len(q), func(i, j int) { q[i], q[j] = q[j], q[i] })
			q = q[:1+rng.IntN(min(len(q), 5))]
			b, err := f.st.CreateBatch(f.ctx, store.ModeBatch, q)
			f.fatal(err)
			batches[b.ID] = q
			for _, id := range q {
				docs[id].state, docs[id].batch = store.StateSubmitting, b.ID
			}
		case op == 6: // the API answers a batch, or refuses it whole
			s := inState(store.StateSubmitting)
			if len(s) == 0 {
				continue
			}
			bid := docs[pick(s)].batch
			if rng.IntN(4) == 0 {
				f.fatal(f.st.Requeue(f.ctx, bid, false, "refused"))
				for _, id := range batches[bid] {
					if docs[id].state == store.StateSubmitting {
						docs[id].state, docs[id].batch = store.StateQueued, 0
					}
				}
				continue
			}
			apiSeq++
			var subs []store.Submitted
			for _, id := range batches[bid] {
				if d := docs[id]; d.batch == bid && (d.state == store.StateSubmitting || d.state == store.StateVanished) {
					subs = append(subs, store.Submitted{DocID: id, DocumentID: fmt.Sprintf("doc_%d", id)})
					d.state = store.StateSubmitted // a file vanished after upload was uploaded all the same
				}
			}
			f.fatal(f.st.RecordSubmitted(f.ctx, bid, fmt.Sprintf("batch_%d", apiSeq), nil, subs))
		case op == 7: // a file vanishes or is refused before upload
			s := inState(store.StateQueued, store.StateSubmitting)
			if len(s) == 0 {
				continue
			}
			id, to := pick(s), store.StateVanished
			if rng.IntN(2) == 0 {
				to = store.StateRejected
			}
			f.finish(to, "X", "", id)
			docs[id].state = to
			if to == store.StateVanished {
				// The original was never extracted: its oldest duplicate
				// takes its place, and the others point at that one.
				heir := int64(0)
				for _, did := range order {
					if d := docs[did]; d.state == store.StateDuplicate && d.dupOf == id {
						if heir == 0 {
							heir, d.state, d.dupOf = did, store.StateQueued, 0
						} else {
							d.dupOf = heir
						}
					}
				}
			}
		case op >= 8 && op <= 10: // a result, by webhook or poll, first one wins
			s := inState(store.StateSubmitted, store.StateCompleted, store.StateFailed, store.StateExported)
			if len(s) == 0 {
				continue
			}
			id := pick(s)
			d := docs[id]
			if d.outcome == store.StateDuplicate || d.outcome == store.StateRejected {
				continue
			}
			docID := fmt.Sprintf("doc_%d", id)
			failed := rng.IntN(3) == 0
			if rng.IntN(2) == 0 {
				if failed {
					f.webhookFailed(docID, "EXTRACTION_FAILED", "")
				} else {
					f.webhookCompleted(docID, "EUR", fmt.Sprintf("%d.%02d", rng.IntN(1000)-100, rng.IntN(100)), "1.00")
				}
			} else {
				r := store.Result{DocumentID: docID, Status: docuparse.StatusCompleted, Data: []byte(`{"currency":"EUR","total":"1.00","tax":"0"}`), Via: store.ViaPoll}
				if failed {
					r.Status, r.Data, r.ErrorCode = docuparse.StatusFailed, nil, "EXTRACTION_FAILED"
				}
				_, err := f.st.ApplyResult(f.ctx, r)
				f.fatal(err)
			}
			if d.state == store.StateSubmitted {
				d.state = store.StateCompleted
				if failed {
					d.state = store.StateFailed
				}
			}
		case op == 11: // export what is done
			s := inState(store.StateCompleted, store.StateFailed, store.StateRejected, store.StateDuplicate)
			if len(s) == 0 {
				continue
			}
			id := pick(s)
			f.export(id)
			docs[id].outcome, docs[id].state = docs[id].state, store.StateExported
		}
	}
	return docs
}

func modelBucket(d *model) Bucket {
	switch d.state {
	case store.StateQueued, store.StateSubmitting, store.StateSubmitted:
		return BucketPending
	case store.StateExported:
		return Bucket(d.outcome)
	}
	return Bucket(d.state)
}

// The accounting line balances for every store state the pipeline can
// reach, and each bucket holds exactly the files the history put there.
func TestReportAccountingBalancesForRandomHistories(t *testing.T) {
	berlin := mustLocation(t, "Europe/Berlin")
	seeds, ops := 12, 80
	if testing.Short() {
		seeds = 4
	}
	var seen Accounting // over all seeds: the generator must reach every bucket
	for seed := uint64(1); seed <= uint64(seeds); seed++ {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 0x5eed))
			f := newRepFixture(t)
			// Around the autumn DST change: 2026-10-25 lasts 25 hours in Berlin.
			f.at(time.Date(2026, 10, 24, 12, 0, 0, 0, berlin))
			docs := randomHistory(t, f, rng, ops)
			now := f.clock.Now().Add(time.Hour)
			for _, day := range []string{"2026-10-24", "2026-10-25", "2026-10-26"} {
				start, err := ParseDay(day, berlin)
				f.fatal(err)
				r := f.report(start, Options{Location: berlin, Now: now, StuckAfter: time.Hour})
				checkAccounting(t, day, r, docs, berlin)
				a := r.Accounting
				seen.Discovered += a.Discovered
				seen.Completed, seen.Failed, seen.Rejected = seen.Completed+a.Completed, seen.Failed+a.Failed, seen.Rejected+a.Rejected
				seen.Duplicate, seen.Vanished, seen.Pending = seen.Duplicate+a.Duplicate, seen.Vanished+a.Vanished, seen.Pending+a.Pending
			}
		})
	}
	t.Logf("files over all seeds and days: %+v", seen)
	if seen.Completed == 0 || seen.Failed == 0 || seen.Rejected == 0 || seen.Duplicate == 0 || seen.Vanished == 0 || seen.Pending == 0 {
		t.Errorf("the random histories never reached some bucket: %+v", seen)
	}
}

func checkAccounting(t *testing.T, day string, r *Report, docs map[int64]*model, loc *time.Location) {
	t.Helper()
	want := Accounting{Balanced: true}
	byPath := map[string]Bucket{}
	for _, d := range docs {
		if d.discovered.In(loc).Format("2006-01-02") != day {
			continue
		}
		want.Discovered++
		want.add(modelBucket(d))
		byPath[d.path] = modelBucket(d)
	}
	a := r.Accounting
	if a != want {
		t.Fatalf("%s: accounting = %+v\nwant (from the history) %+v", day, a, want)
	}
	if !a.Balanced || a.Sum() != a.Discovered || a.Unclassified != 0 {
		t.Fatalf("%s: accounting does not balance: %+v", day, a)
	}
	if len(r.Files) != a.Discovered || len(r.Pending) != a.Pending {
		t.Fatalf("%s: %d files, %d pending listed; want %d and %d", day, len(r.Files), len(r.Pending), a.Discovered, a.Pending)
	}
	for _, fl := range r.Files {
		if byPath[fl.Path] != fl.Bucket {
			t.Fatalf("%s: %s is %s, the history says %s", day, fl.Path, fl.Bucket, byPath[fl.Path])
		}
	}
	var failures int
	for _, g := range r.Failures {
		failures += len(g.Files)
	}
	if failures != a.Failed+a.Rejected {
		t.Fatalf("%s: %d files in failure groups, want %d", day, failures, a.Failed+a.Rejected)
	}
	if v := r.ResultsVia; v.Webhook+v.Poll+v.Other != a.Completed+a.Failed || v.Other != 0 {
		t.Fatalf("%s: results via %+v, want %d results, all with a channel", day, v, a.Completed+a.Failed)
	}
	var counted int
	for _, c := range r.Money.Currencies {
		counted += c.Documents
	}
	if counted != a.Completed {
		t.Fatalf("%s: %d documents in the money totals, want the %d completed", day, counted, a.Completed)
	}
}
