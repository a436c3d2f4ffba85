package main

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/docuparse/docuparse-ingest/internal/docuparse"
	"github.com/docuparse/docuparse-ingest/internal/store"
)

// failRetry submits the queued retry id to the API and records its
// failure, as the daemon would when the retry fails too.
func (f *retryFixture) failRetry(id int64) {
	t, ctx := f.t, context.Background()
	t.Helper()
	docID := fmt.Sprintf("doc_retry_%d", id)
	b, err := f.st.CreateBatch(ctx, store.ModeSingle, []int64{id})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.st.RecordSubmitted(ctx, b.ID, "", nil, []store.Submitted{{DocID: id, DocumentID: docID}}); err != nil {
		t.Fatal(err)
	}
	r := store.Result{DocumentID: docID, Status: docuparse.StatusFailed, ErrorCode: docuparse.CodeExtractionFailed, Via: store.ViaWebhook}
	if _, err := f.st.ApplyResult(ctx, r); err != nil {
		t.Fatal(err)
	}
}

// retry --failed retries each failed file once: a second run retries
// nothing (and says so, exiting 0), and the retry's own failure is not
// retried by --failed either. Naming the retry by id, or --again, does.
func TestRetryFailedRetriesAFileOnceNotItsRetrysFailure(t *testing.T) {
	f := newRetryFixture(t)
	f.add("a.pdf", docuparse.StatusFailed, docuparse.CodeExtractionFailed)
	f.add("b.pdf", docuparse.StatusFailed, docuparse.CodeExtractionFailed)
	out, err := f.run("--failed")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	retryA, retryB := f.retried(out, "a.pdf"), f.retried(out, "b.pdf")
	before := f.count()

	out, err = f.run("--failed")
	if err != nil || strings.Contains(out, "→") || !strings.Contains(out, "nothing to retry") {
		t.Fatalf("second run: %v\n%s", err, out)
	}

	f.failRetry(retryA)
	f.failRetry(retryB)
	for _, args := range [][]string{{"--failed"}, {"--code", docuparse.CodeExtractionFailed}} {
		out, err = f.run(args...)
		if err != nil || strings.Contains(out, "→") || !strings.Contains(out, "nothing to retry") {
			t.Fatalf("%v after the retries failed: %v\n%s", args, err, out)
		}
	}
	if n := f.count(); n != before {
		t.Fatalf("%d documents, want %d: the retries' failures were retried", n, before)
	}

	// By id: the retry's failure is retried.
	out, err = f.run(fmt.Sprint(retryA))
	if err != nil || !strings.Contains(out, fmt.Sprintf("retry %d → ", retryA)) {
		t.Fatalf("by id: %v\n%s", err, out)
	}
	// --again: each file whose newest attempt failed is retried once more,
	// only through that attempt (b's retry, not b itself nor a's chain).
	out, err = f.run("--failed", "--again")
	if err != nil || strings.Count(out, "→") != 1 || !strings.Contains(out, fmt.Sprintf("retry %d → ", retryB)) {
		t.Fatalf("--again: %v\n%s", err, out)
	}
}

// retry --stuck (or --failed) with nothing to do is not an error: it says
// so and exits 0.
func TestRetryWithNothingToDoExitsZero(t *testing.T) {
	f := newRetryFixture(t)
	f.add("completed.pdf", docuparse.StatusCompleted, "")
	for _, args := range [][]string{{"--stuck"}, {"--failed"}, {"--failed", "--stuck", "--source", "inbox"}} {
		out, err := f.run(args...)
		if err != nil || !strings.HasPrefix(out, "nothing to retry: no ") {
			t.Errorf("%v: %v\n%s", args, err, out)
		}
	}
}
