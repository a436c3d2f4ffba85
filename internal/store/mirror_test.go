package store

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestAMirrorIntentionIsRecordedOnceAndEndsMirroredOrInConflict walks a
// mirror row through its states: intended once (a second intention of the
// key changes nothing), pending until done or in conflict, and dropped
// only while not mirrored.
func TestAMirrorIntentionIsRecordedOnceAndEndsMirroredOrInConflict(t *testing.T) {
	s, _ := openReportStore(t)
	ctx := context.Background()
	a := MirrorObject{Key: "results/2026-11-27/a.json", Kind: "result", LocalPath: "results/2026-11-27/a.json", Size: 1, SHA256: "aa"}
	b := MirrorObject{Key: "results/2026-11-27/b.json", Kind: "result", LocalPath: "results/2026-11-27/b.json", Size: 2, SHA256: "bb"}
	for i, o := range []MirrorObject{a, b, {Key: a.Key, Kind: "result", LocalPath: a.LocalPath, Size: 9, SHA256: "other"}} {
		if ok, err := s.IntendMirror(ctx, o); err != nil || ok != (i < 2) {
			t.Fatalf("intention %d: %v, %v", i, ok, err)
		}
	}
	if p, err := s.MirrorPending(ctx, 10); err != nil || len(p) != 2 || p[0].SHA256 != "aa" {
		t.Fatalf("pending %+v, %v", p, err)
	}
	if err := s.MirrorDone(ctx, a.Key); err != nil {
		t.Fatal(err)
	}
	if err := s.MirrorConflict(ctx, b.Key, "someone else's"); err != nil {
		t.Fatal(err)
	}
	if n, err := s.MirrorPendingCount(ctx); err != nil || n != 0 {
		t.Fatalf("backlog %d, %v", n, err)
	}
	if err := s.MirrorDrop(ctx, a.Key); err != nil {
		t.Fatal(err)
	}
	known, err := s.MirrorKnown(ctx, []string{a.Key, b.Key, "results/2026-11-27/c.json"})
	if err != nil || !known[a.Key] || !known[b.Key] || len(known) != 2 {
		t.Fatalf("known %v, %v (a mirrored row is never dropped)", known, err)
	}
	if v, err := s.MirrorVersions(ctx, b.LocalPath); err != nil || len(v) != 1 || v[0].Conflict != "someone else's" {
		t.Fatalf("versions %+v, %v", v, err)
	}
}

// TestExportPendingBetweenCountsOnlyTheDaysUnexportedEnds: a document
// that ended within the day and is not exported counts; one exported, or
// ended the next day, does not.
func TestExportPendingBetweenCountsOnlyTheDaysUnexportedEnds(t *testing.T) {
	s, c := openReportStore(t)
	ctx := context.Background()
	day := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	reject := func(name string) int64 {
		t.Helper()
		id, err := s.Reject(ctx, NewFile{Source: "in", Path: "/in/" + name, FileName: name, Size: 1, ModTime: c.Now(),
			SHA256: strings.Repeat("1", 64)}, "UNSUPPORTED", "no")
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	c.Set(day.Add(23*time.Hour + 59*time.Minute))
	late := reject("late.txt")
	c.Set(day.Add(24 * time.Hour))
	reject("next.txt")
	pending := func() int {
		t.Helper()
		n, err := s.ExportPendingBetween(ctx, day, day.Add(24*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := pending(); n != 1 {
		t.Fatalf("%d pending for the day, want 1 (the next day's is not)", n)
	}
	if err := s.MarkExported(ctx, []int64{late}, nil); err != nil {
		t.Fatal(err)
	}
	if n := pending(); n != 0 {
		t.Fatalf("%d pending after export, want 0", n)
	}
}
