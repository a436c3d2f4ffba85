package reconcile

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/apiclient"
	"github.com/docuparse/docuparse-ingest/internal/docuparse"
	"github.com/docuparse/docuparse-ingest/internal/samples"
	"github.com/docuparse/docuparse-ingest/internal/sim"
	"github.com/docuparse/docuparse-ingest/internal/store"
)

// submitBatch uploads files as one API batch and records it as the
// submitter would.
func (b *bundle) submitBatch(t *testing.T, files []samples.File) (int64, []int64) {
	t.Helper()
	ctx := context.Background()
	var ids []int64
	var uploads []apiclient.Upload
	for i, f := range files {
		r, err := b.store.Intake(ctx, store.NewFile{Source: "s", Path: fmt.Sprintf("/in/b%d-%s", i, f.Name), FileName: f.Name,
			Size: int64(len(f.Content)), ModTime: b.clock.Now(), SHA256: fmt.Sprintf("bsha%d-%s", i, f.Name)})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, r.ID)
		content := f.Content
		uploads = append(uploads, apiclient.Upload{Filename: f.Name, Size: int64(len(content)),
			Open: func() (ioReadCloser, error) { return newReader(content), nil }})
	}
	batch, err := b.store.CreateBatch(ctx, store.ModeBatch, ids)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := b.client.SubmitBatch(ctx, batch.IdempotencyKey, uploads, "")
	if err != nil {
		t.Fatal(err)
	}
	subs := make([]store.Submitted, len(ids))
	for i, d := range resp.Documents {
		subs[i] = store.Submitted{DocID: ids[i], DocumentID: d.DocumentID}
	}
	if err := b.store.RecordSubmitted(ctx, batch.ID, resp.BatchID, nil, subs); err != nil {
		t.Fatal(err)
	}
	return batch.ID, ids
}

func TestDocumentsOfOneBatchStillProcessingCostOneCall(t *testing.T) {
	p, b := setup(t, sim.Config{ProcessingDelay: time.Hour})
	b.submitBatch(t, samples.Demo())
	b.clock.Advance(6 * time.Minute)
	pass, err := p.RunOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if pass.BatchPolls != 1 || pass.Polled != 0 || pass.Processing != len(samples.Demo()) || pass.Calls() != 1 {
		t.Fatalf("pass = %+v, want one GET /batches and no GET /documents", pass)
	}
}

func TestABatchWhoseSummaryNeverCameIsVerifiedWithTheAPI(t *testing.T) {
	for _, tc := range []struct {
		name   string
		wrong  bool // record a wrong outcome for one document locally
		prefix string
	}{
		{"a batch the API agrees with is a match", false, store.CheckMatch},
		{"a batch with a document the daemon got wrong is a mismatch naming it", true, store.CheckMismatch + ": "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, b := setup(t, sim.Config{})
			files := samples.Demo()
			batchID, ids := b.submitBatch(t, files)
			waitSim(t, b.sim, len(files))
			ctx := context.Background()
			for i, id := range ids {
				d, _ := b.store.Get(ctx, id)
				_, apiErr := sim.Extract(files[i].Name, files[i].Content)
				status := docuparse.StatusCompleted
				if (apiErr != nil) != (tc.wrong && i == 0) {
					status = docuparse.StatusFailed
				}
				if _, err := b.store.ApplyResult(ctx, store.Result{DocumentID: d.DocumentID, Status: status, Via: store.ViaWebhook}); err != nil {
					t.Fatal(err)
				}
			}
			// Inside the grace the batch.completed may still come.
			if pass, _ := p.RunOnce(ctx); pass.Verified != 0 {
				t.Fatalf("verified inside the grace: %+v", pass)
			}
			b.clock.Advance(6 * time.Minute)
			pass, err := p.RunOnce(ctx)
			if err != nil || pass.Verified != 1 || pass.Calls() != 1 {
				t.Fatalf("pass = %+v, %v; want one verification call", pass, err)
			}
			if pass, _ := p.RunOnce(ctx); pass.Verified != 0 {
				t.Fatalf("verified twice: %+v", pass)
			}
			res := verification(t, b.store, batchID)
			if !strings.HasPrefix(res, tc.prefix) {
				t.Fatalf("verification = %q, want prefix %q", res, tc.prefix)
			}
			if tc.wrong {
				d, _ := b.store.Get(ctx, ids[0])
				if !strings.Contains(res, d.DocumentID) {
					t.Fatalf("mismatch %q does not name %s", res, d.DocumentID)
				}
			}
		})
	}
}

func TestCompareBatchNamesEveryKindOfDifference(t *testing.T) {
	docs := []store.Document{
		{DocumentID: "doc_a", Outcome: store.StateCompleted},
		{DocumentID: "doc_b", Outcome: store.StateFailed},
		{DocumentID: "doc_c", Outcome: store.StateCompleted},
	}
	api := &docuparse.Batch{Summary: docuparse.Summary{Total: 3, Succeeded: 2, Failed: 1}, Documents: []docuparse.BatchStatusDocument{
		{DocumentID: "doc_a", Status: "completed"}, {DocumentID: "doc_b", Status: "failed"}, {DocumentID: "doc_c", Status: "completed"}}}
	if got := CompareBatch(api, docs); got != store.CheckMatch {
		t.Fatalf("agreeing batch: %q", got)
	}
	api.Documents = []docuparse.BatchStatusDocument{{DocumentID: "doc_a", Status: "failed"}, {DocumentID: "doc_x", Status: "completed"}}
	got := CompareBatch(api, docs)
	for _, want := range []string{"doc_a: API says failed, daemon has completed", "doc_x: listed by the API, unknown", "doc_b: not listed", "doc_c: not listed"} {
		if !strings.Contains(got, want) {
			t.Errorf("%q does not say %q", got, want)
		}
	}
}

func verification(t *testing.T, st *store.Store, batchID int64) string {
	t.Helper()
	v, err := st.BatchVerification(context.Background(), batchID)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
