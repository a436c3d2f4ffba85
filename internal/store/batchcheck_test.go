package store

import (
	"context"
	"strings"
	"testing"

	"github.com/docuparse/docuparse-ingest/internal/docuparse"
)

func TestBatchSummaryIsCheckedOnceItsDocumentsAreDone(t *testing.T) {
	for _, tc := range []struct {
		name    string
		summary docuparse.Summary
		want    string
	}{
		{"a summary that agrees is a match", docuparse.Summary{Total: 2, Succeeded: 1, Failed: 1}, CheckMatch},
		{"a summary that disagrees is a recorded mismatch", docuparse.Summary{Total: 2, Succeeded: 2}, CheckMismatch + ": API says total 2, succeeded 2, failed 0; daemon has total 2, succeeded 1, failed 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := setup(t)
			ctx := context.Background()
			a := mustIntake(t, s, newFile(1, "a1"))
			c := mustIntake(t, s, newFile(2, "a2"))
			b, _ := s.CreateBatch(ctx, ModeBatch, []int64{a.ID, c.ID})
			if err := s.RecordSubmitted(ctx, b.ID, "batch_1", nil, []Submitted{{a.ID, "doc_a"}, {c.ID, "doc_c"}}); err != nil {
				t.Fatal(err)
			}
			// batch.completed first: nothing to check against yet.
			summary := tc.summary
			event(t, s, "k-batch", docuparse.Event{Event: docuparse.EventBatchCompleted, BatchID: "batch_1", Summary: &summary})
			applyPending(t, s)
			if checks, _ := s.BatchChecks(ctx, false); len(checks) != 0 {
				t.Fatalf("checked before the documents were done: %+v", checks)
			}
			if _, err := s.ApplyResult(ctx, Result{DocumentID: "doc_a", Status: docuparse.StatusCompleted, Via: ViaWebhook}); err != nil {
				t.Fatal(err)
			}
			if _, err := s.ApplyResult(ctx, Result{DocumentID: "doc_c", Status: docuparse.StatusFailed, Via: ViaWebhook}); err != nil {
				t.Fatal(err)
			}
			checks, err := s.BatchChecks(ctx, false)
			if err != nil || len(checks) != 1 || checks[0].Check != tc.want || checks[0].APIBatchID != "batch_1" {
				t.Fatalf("checks = %+v, %v; want %q", checks, err, tc.want)
			}
			mism, _ := s.BatchChecks(ctx, true)
			if (len(mism) == 1) != strings.HasPrefix(tc.want, CheckMismatch) {
				t.Fatalf("mismatches = %+v", mism)
			}
		})
	}
}
