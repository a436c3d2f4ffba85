package store

import (
	"context"
	"testing"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/docuparse"
)

// A vanished document counts as vanished, never as awaiting export; a
// document whose outcome came before the day counts in the total only.
func TestCountOutcomesCountsVanishedAndKeepsEarlierDaysOutOfToday(t *testing.T) {
	s, c := openReportStore(t) // 2026-11-27 00:00 UTC
	ctx := context.Background()
	gone := mustIntake(t, s, newFile(1, "aa"))
	if err := s.Finish(ctx, []int64{gone.ID}, StateVanished, "", "file gone"); err != nil {
		t.Fatal(err)
	}
	c.Advance(24 * time.Hour)
	if _, err := s.Reject(ctx, newFile(2, "bb"), docuparse.CodeUnsupportedMedia, "refused"); err != nil {
		t.Fatal(err)
	}
	day := c.Now()
	got, err := s.CountOutcomes(ctx, day, day.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		t                  Tally
		vanished, rejected int
	}{"total": {got.All.Total, 1, 1}, "today": {got.All.Today, 0, 1}, "inbox today": {got.Sources["inbox"].Today, 0, 1}} {
		if tc.t.Ended[StateVanished] != tc.vanished || tc.t.Ended[StateRejected] != tc.rejected || tc.t.AwaitingExport != tc.rejected {
			t.Errorf("%s = %+v, want vanished %d, rejected %d (awaiting export)", name, tc.t, tc.vanished, tc.rejected)
		}
	}
}

// Every transition into an outcome names the document's source, for the
// ended-documents counter.
func TestTransitionsIntoAnOutcomeNameTheSource(t *testing.T) {
	s, b := setup(t)
	ctx := context.Background()
	orig := mustIntake(t, s, newFile(1, "aa"))
	mustIntake(t, s, newFile(2, "aa")) // duplicate
	if _, err := s.Reject(ctx, newFile(3, "cc"), docuparse.CodeUnsupportedMedia, "refused"); err != nil {
		t.Fatal(err)
	}
	gone := mustIntake(t, s, newFile(4, "dd"))
	if err := s.Finish(ctx, []int64{gone.ID}, StateVanished, "", "file gone"); err != nil {
		t.Fatal(err)
	}
	batch, err := s.CreateBatch(ctx, ModeSingle, []int64{orig.ID})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.RecordSubmitted(ctx, batch.ID, "", nil, []Submitted{{DocID: orig.ID, DocumentID: "doc_1"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ApplyResult(ctx, Result{DocumentID: "doc_1", Status: docuparse.StatusFailed, ErrorCode: docuparse.CodeExtractionFailed, Via: ViaPoll}); err != nil {
		t.Fatal(err)
	}
	ended := map[State]int{}
	for _, tr := range b.transitions() {
		if tr.Source != "inbox" {
			t.Errorf("transition %+v does not name its source", tr)
		}
		if IsOutcome(tr.To) {
			ended[tr.To]++
		}
	}
	if ended[StateDuplicate] != 1 || ended[StateRejected] != 1 || ended[StateVanished] != 1 || ended[StateFailed] != 1 {
		t.Errorf("outcomes entered = %v", ended)
	}
}
