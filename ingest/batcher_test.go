package ingest

import (
	"slices"
	"testing"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/store"
)

// planDoc is a queued document as planBatches sees it.
type planDoc struct {
	name string
	size int64
	solo bool
}

// planDocs turns specs into queued documents with ids 1, 2, … in order.
func planDocs(specs ...planDoc) []store.Document {
	t0 := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	docs := make([]store.Document, len(specs))
	for i, s := range specs {
		docs[i] = store.Document{ID: int64(i + 1), FileName: s.name, SizeBytes: s.size, Solo: s.solo,
			State: store.StateQueued, DiscoveredAt: t0.Add(time.Duration(i) * time.Second)}
	}
	return docs
}

// wantPlan is a batch planBatches should form: its document ids in order,
// and whether it reached a limit.
type wantPlan struct {
	ids  []int64
	full bool
}

func TestPlanBatches(t *testing.T) {
	limits := BatchLimits{MaxFiles: 3, MaxBytes: 100, MaxWait: time.Second}
	f := func(name string, size int64) planDoc { return planDoc{name: name, size: size} }
	tests := []struct {
		name   string
		limits BatchLimits
		docs   []store.Document
		want   []wantPlan
	}{
		{
			name:   "an empty queue forms no batch",
			limits: limits,
			docs:   nil,
			want:   nil,
		},
		{
			name:   "files are cut into batches of max_files, oldest first",
			limits: limits,
			docs:   planDocs(f("1.pdf", 1), f("2.pdf", 1), f("3.pdf", 1), f("4.pdf", 1), f("5.pdf", 1), f("6.pdf", 1), f("7.pdf", 1)),
			want:   []wantPlan{{[]int64{1, 2, 3}, true}, {[]int64{4, 5, 6}, true}, {[]int64{7}, false}},
		},
		{
			name:   "a batch is cut before the file that would take it past max_bytes",
			limits: limits,
			docs:   planDocs(f("1.pdf", 40), f("2.pdf", 40), f("3.pdf", 30), f("4.pdf", 10)),
			want:   []wantPlan{{[]int64{1, 2}, true}, {[]int64{3, 4}, false}},
		},
		{
			name:   "a batch that reaches max_bytes exactly is full",
			limits: limits,
			docs:   planDocs(f("1.pdf", 50), f("2.pdf", 50), f("3.pdf", 1)),
			want:   []wantPlan{{[]int64{1, 2}, true}, {[]int64{3}, false}},
		},
		{
			name:   "a single file bigger than max_bytes goes alone",
			limits: limits,
			docs:   planDocs(f("1.pdf", 10), f("big.pdf", 500), f("3.pdf", 10)),
			want:   []wantPlan{{[]int64{1}, true}, {[]int64{2}, true}, {[]int64{3}, false}},
		},
		{
			name:   "a file bigger than max_bytes at the head of the queue goes alone at once",
			limits: limits,
			docs:   planDocs(f("big.pdf", 500), f("2.pdf", 10)),
			want:   []wantPlan{{[]int64{1}, true}, {[]int64{2}, false}},
		},
		{
			name:   "two files with the same name never share a batch",
			limits: limits,
			docs:   planDocs(f("a.pdf", 1), f("a.pdf", 1), f("b.pdf", 1)),
			want:   []wantPlan{{[]int64{1, 3}, false}, {[]int64{2}, false}},
		},
		{
			name:   "names that differ only in case never share a batch",
			limits: limits,
			docs:   planDocs(f("Invoice.PDF", 1), f("invoice.pdf", 1), f("INVOICE.pdf", 1)),
			want:   []wantPlan{{[]int64{1}, false}, {[]int64{2}, false}, {[]int64{3}, false}},
		},
		{
			name:   "names that become equal once sanitised for the part header never share a batch",
			limits: limits,
			docs:   planDocs(f(`a\b.pdf`, 1), f("a_b.pdf", 1), f("a\tB.pdf", 1), f("c.pdf", 1)),
			want:   []wantPlan{{[]int64{1, 4}, false}, {[]int64{2}, false}, {[]int64{3}, false}},
		},
		{
			name:   "a file held back by a name clash does not stop later files from filling the batch",
			limits: limits,
			docs:   planDocs(f("a.pdf", 1), f("A.pdf", 1), f("b.pdf", 1), f("c.pdf", 1), f("d.pdf", 1)),
			want:   []wantPlan{{[]int64{1, 3, 4}, true}, {[]int64{2, 5}, false}},
		},
		{
			name:   "a solo document goes alone, after the batch it would have joined",
			limits: limits,
			docs:   planDocs(f("1.pdf", 1), planDoc{name: "2.pdf", size: 1, solo: true}, f("3.pdf", 1)),
			want:   []wantPlan{{[]int64{1, 3}, false}, {[]int64{2}, true}},
		},
		{
			name:   "a solo document at the head of the queue goes alone at once",
			limits: limits,
			docs:   planDocs(planDoc{name: "1.pdf", size: 1, solo: true}, planDoc{name: "2.pdf", size: 1, solo: true}, f("3.pdf", 1)),
			want:   []wantPlan{{[]int64{1}, true}, {[]int64{2}, true}, {[]int64{3}, false}},
		},
		{
			name:   "max_files of one sends every file alone",
			limits: BatchLimits{MaxFiles: 1, MaxBytes: 100},
			docs:   planDocs(f("1.pdf", 1), f("2.pdf", 1)),
			want:   []wantPlan{{[]int64{1}, true}, {[]int64{2}, true}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plans := planBatches(tt.docs, tt.limits)
			var got []wantPlan
			seen := map[int64]int{}
			for _, p := range plans {
				gp := wantPlan{full: p.full}
				var bytes int64
				for _, d := range p.docs {
					gp.ids = append(gp.ids, d.ID)
					bytes += d.SizeBytes
					seen[d.ID]++
				}
				if bytes != p.bytes {
					t.Errorf("plan %v counts %d bytes, its files hold %d", gp.ids, p.bytes, bytes)
				}
				got = append(got, gp)
			}
			if !slices.EqualFunc(got, tt.want, func(a, b wantPlan) bool { return a.full == b.full && slices.Equal(a.ids, b.ids) }) {
				t.Fatalf("plans = %+v, want %+v", got, tt.want)
			}
			for _, d := range tt.docs {
				if seen[d.ID] != 1 {
					t.Errorf("document %d is in %d plans, want exactly 1", d.ID, seen[d.ID])
				}
			}
		})
	}
}

func TestPlanDue(t *testing.T) {
	wall := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	mono := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC) // unrelated to wall, as a monotonic clock is
	const maxWait = 5 * time.Second
	// at makes documents discovered the given times before wall.
	at := func(ago ...time.Duration) []store.Document {
		docs := make([]store.Document, len(ago))
		for i, a := range ago {
			docs[i] = store.Document{ID: int64(i + 1), DiscoveredAt: wall.Add(-a)}
		}
		return docs
	}
	tests := []struct {
		name     string
		plan     plan
		seen     []time.Duration // how long before mono the batcher saw each document; none: not seen yet
		wantDue  bool
		wantLeft time.Duration
	}{
		{
			name:    "a full batch is due at once, however young",
			plan:    plan{docs: at(0), full: true},
			wantDue: true, wantLeft: 0,
		},
		{
			name:    "a partial batch is not due before its oldest file has waited max_wait",
			plan:    plan{docs: at(2 * time.Second)},
			wantDue: false, wantLeft: 3 * time.Second,
		},
		{
			name:    "a partial batch is due once its oldest file has waited exactly max_wait",
			plan:    plan{docs: at(maxWait)},
			wantDue: true, wantLeft: 0,
		},
		{
			name:    "a partial batch long overdue is due",
			plan:    plan{docs: at(time.Hour)},
			wantDue: true, wantLeft: -time.Hour + maxWait,
		},
		{
			name:    "the oldest file counts even when it is not first in the batch",
			plan:    plan{docs: at(time.Second, 4*time.Second, 2*time.Second)},
			wantDue: false, wantLeft: time.Second,
		},
		{
			name:    "a file discovered in the wall clock's future (stepped back) waits max_wait from when it was seen",
			plan:    plan{docs: at(-time.Hour)},
			seen:    []time.Duration{2 * time.Second},
			wantDue: false, wantLeft: 3 * time.Second,
		},
		{
			name:    "elapsed time makes a batch due whatever the wall clock says",
			plan:    plan{docs: at(-time.Hour)},
			seen:    []time.Duration{maxWait},
			wantDue: true, wantLeft: 0,
		},
		{
			name:    "a file not seen yet waits at most max_wait",
			plan:    plan{docs: at(-time.Hour)},
			wantDue: false, wantLeft: maxWait,
		},
		{
			name:    "a file older by the wall clock than the batcher has seen it counts by its age",
			plan:    plan{docs: at(4 * time.Second)},
			seen:    []time.Duration{time.Second},
			wantDue: false, wantLeft: time.Second,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var w waits
			w.observe(tt.plan.docs, mono)
			for i, ago := range tt.seen {
				w.seen[tt.plan.docs[i].ID] = mono.Add(-ago)
			}
			due, left := w.due(tt.plan, wall, mono, maxWait)
			if due != tt.wantDue || left != tt.wantLeft {
				t.Fatalf("due = %v in %v, want %v in %v", due, left, tt.wantDue, tt.wantLeft)
			}
		})
	}
}

func TestWaitsRemembersWhenEachQueuedDocumentWasFirstSeen(t *testing.T) {
	mono := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	docs := planDocs(planDoc{name: "1.pdf"}, planDoc{name: "2.pdf"})
	var w waits
	w.observe(docs[:1], mono)
	w.observe(docs, mono.Add(time.Second))
	if got := w.seen[1]; !got.Equal(mono) {
		t.Fatalf("document 1 seen at %v after a second look, want its first sighting %v", got, mono)
	}
	if got := w.seen[2]; !got.Equal(mono.Add(time.Second)) {
		t.Fatalf("document 2 seen at %v, want %v", got, mono.Add(time.Second))
	}
	w.observe(docs[1:], mono.Add(2*time.Second))
	if _, ok := w.seen[1]; ok || len(w.seen) != 1 {
		t.Fatalf("a document no longer queued is still remembered: %v", w.seen)
	}
}

func TestBatchLimitsDefaults(t *testing.T) {
	var l BatchLimits
	l.defaults()
	if l.MaxFiles != 50 || l.MaxBytes != 100_000_000 || l.MaxWait != 5*time.Second {
		t.Fatalf("defaults = %+v, want 50 files, 100 MB, 5 s", l)
	}
	l = BatchLimits{MaxFiles: 7, MaxBytes: 9, MaxWait: time.Minute}
	l.defaults()
	if l.MaxFiles != 7 || l.MaxBytes != 9 || l.MaxWait != time.Minute {
		t.Fatalf("defaults changed set limits: %+v", l)
	}
}
