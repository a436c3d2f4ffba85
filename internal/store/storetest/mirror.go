package storetest

import (
	"fmt"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/store"
)

var mirrorCases = []testCase{
	{"AMirrorIntentionIsRecordedOnceAndEndsMirroredOrInConflict", mirrorIntention},
	{"MirrorKnownAnswersForManyKeys", mirrorKnownMany},
	{"ExportPendingBetweenCountsOnlyTheDaysUnexportedEnds", exportPendingBetween},
}

// Moved from internal/store TestAMirrorIntentionIsRecordedOnceAndEndsMirroredOrInConflict:
// intended once (a second intention of the key changes nothing), pending
// until done or in conflict, and dropped only while not mirrored.
func mirrorIntention(h *harness) {
	a := store.MirrorObject{Key: "results/2026-11-27/a.json", Kind: "result", LocalPath: "results/2026-11-27/a.json", Size: 1, SHA256: "aa"}
	b := store.MirrorObject{Key: "results/2026-11-27/b.json", Kind: "result", LocalPath: "results/2026-11-27/b.json", Size: 2, SHA256: "bb"}
	c := store.MirrorObject{Key: "results/2026-11-27/c.json", Kind: "result", LocalPath: "results/2026-11-27/c.json", Size: 3, SHA256: "cc"}
	for i, o := range []store.MirrorObject{a, b, {Key: a.Key, Kind: "result", LocalPath: a.LocalPath, Size: 9, SHA256: "other"}} {
		if ok, err := h.b.IntendMirror(h.ctx, o); err != nil || ok != (i < 2) {
			h.t.Fatalf("intention %d: %v, %v", i, ok, err)
		}
	}
	h.clock.Advance(time.Second)
	if ok, err := h.b.IntendMirror(h.ctx, c); err != nil || !ok {
		h.t.Fatalf("intention of c: %v, %v", ok, err)
	}
	p, err := h.b.MirrorPending(h.ctx, 10)
	if err != nil || len(p) != 3 || p[0] != a || p[1] != b || p[2].Key != c.Key {
		h.t.Fatalf("pending %+v, %v; want a, b, c as intended", p, err)
	}
	if p, _ := h.b.MirrorPending(h.ctx, 1); len(p) != 1 || p[0].Key != a.Key {
		h.t.Fatalf("MirrorPending(1) = %+v", p)
	}
	h.must(h.b.MirrorDone(h.ctx, a.Key))
	h.must(h.b.MirrorConflict(h.ctx, b.Key, "someone else's"))
	if n, err := h.b.MirrorPendingCount(h.ctx); err != nil || n != 1 {
		h.t.Fatalf("backlog %d, %v; want c", n, err)
	}
	// A conflict recorded for a mirrored key is not: it holds our bytes.
	h.must(h.b.MirrorConflict(h.ctx, a.Key, "late"))
	h.must(h.b.MirrorDrop(h.ctx, a.Key))
	h.must(h.b.MirrorDrop(h.ctx, c.Key))
	known, err := h.b.MirrorKnown(h.ctx, []string{a.Key, b.Key, c.Key, "results/2026-11-27/d.json"})
	if err != nil || !known[a.Key] || !known[b.Key] || len(known) != 2 {
		h.t.Fatalf("known %v, %v (a mirrored row is never dropped, an intended one is)", known, err)
	}
	if v, err := h.b.MirrorVersions(h.ctx, b.LocalPath); err != nil || len(v) != 1 || v[0].Conflict != "someone else's" {
		h.t.Fatalf("versions %+v, %v", v, err)
	}
	if v, _ := h.b.MirrorVersions(h.ctx, a.LocalPath); len(v) != 1 || v[0].Conflict != "" || !v[0].Mirrored.Equal(start.Add(time.Second)) {
		h.t.Fatalf("versions of a = %+v, want mirrored at %v, no conflict", v, start.Add(time.Second))
	}
	if n, _ := h.b.MirrorPendingCount(h.ctx); n != 0 {
		h.t.Fatalf("backlog %d after c was dropped", n)
	}
}

// MirrorKnown answers for more keys than one query takes, and a report
// rewritten has one version per key.
func mirrorKnownMany(h *harness) {
	var keys []string
	for i := range 1200 {
		k := fmt.Sprintf("results/d/%04d.json", i)
		keys = append(keys, k)
		if i%3 == 0 {
			if _, err := h.b.IntendMirror(h.ctx, store.MirrorObject{Key: k, Kind: "result", LocalPath: k, Size: 1, SHA256: "x"}); err != nil {
				h.t.Fatal(err)
			}
		}
	}
	known, err := h.b.MirrorKnown(h.ctx, keys)
	h.must(err)
	if len(known) != 400 || !known[keys[1197]] || known[keys[1198]] {
		h.t.Fatalf("%d keys known, want 400", len(known))
	}
	const report = "reports/reconciliation-2026-11-27.md"
	for i, sha := range []string{"v1", "v2"} {
		h.clock.Advance(time.Second)
		o := store.MirrorObject{Key: fmt.Sprintf("reports/reconciliation-2026-11-27-%d.md", i), Kind: "report", LocalPath: report, Size: 5, SHA256: sha}
		if _, err := h.b.IntendMirror(h.ctx, o); err != nil {
			h.t.Fatal(err)
		}
	}
	if v, err := h.b.MirrorVersions(h.ctx, report); err != nil || len(v) != 2 || v[0].SHA256 != "v1" || v[1].SHA256 != "v2" {
		h.t.Fatalf("versions = %+v, %v; want v1 then v2", v, err)
	}
}

// Moved from internal/store TestExportPendingBetweenCountsOnlyTheDaysUnexportedEnds.
func exportPendingBetween(h *harness) {
	day := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	reject := func(i int) int64 {
		id, err := h.b.Reject(h.ctx, file(i, sha(i)), "UNSUPPORTED", "no")
		h.must(err)
		return id
	}
	h.clock.Set(day.Add(23*time.Hour + 59*time.Minute))
	late := reject(1)
	vanished := h.queued(3)
	h.must(h.b.Finish(h.ctx, []int64{vanished}, store.StateVanished, "", "gone"))
	h.clock.Set(day.Add(24 * time.Hour))
	reject(2)
	pending := func() int {
		h.t.Helper()
		n, err := h.b.ExportPendingBetween(h.ctx, day, day.Add(24*time.Hour))
		h.must(err)
		return n
	}
	if n := pending(); n != 1 {
		h.t.Fatalf("%d pending for the day, want 1 (the next day's is not, a vanished one is never exported)", n)
	}
	h.must(h.b.MarkExported(h.ctx, []int64{late}, nil))
	if n := pending(); n != 0 {
		h.t.Fatalf("%d pending after export, want 0", n)
	}
}
