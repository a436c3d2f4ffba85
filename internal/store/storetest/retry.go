package storetest

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/docuparse"
	"github.com/docuparse/docuparse-ingest/internal/store"
	"github.com/docuparse/docuparse-ingest/internal/vocab"
)

var retryCases = []testCase{
	{"RetryDependsOnTheDocumentsState", retryDependsOnState},
	{"ARetriedDocumentIsRetriedAgainOnlyWhenAskedTo", retryAgain},
	{"ALateResultForAResubmittedDocumentChangesNothing", lateResultAfterRetry},
	{"ARescanOfARetriedFileFindsTheRetry", rescanFindsTheRetry},
	{"SelectForRetryChoosesFailedAndStuckDocuments", selectForRetry},
	{"TwoHandlesRetryingOneDocumentMakeOneRetry", twoHandlesRetryOnce},
	{"FirstAttemptFollowsTheRetryChain", firstAttempt},
}

// Moved from internal/store TestRetryDependsOnTheDocumentsState: retry
// only of failed, rejected, stuck submitted and stuck submitting documents.
func retryDependsOnState(h *harness) {
	for i, tc := range []struct {
		situation string
		refused   string // reason substring; "" when retried
	}{
		{"failed", ""},
		{"exported failed", ""},
		{"rejected", ""},
		{"exported rejected", ""},
		{"submitted", ""},
		{"stuck", ""},
		{"queued", "queued documents are not retried"},
		{"submitting", "submitting documents are not retried"},
		{"completed", "completed documents are not retried"},
		{"exported completed", "completed documents are not retried"},
		{"duplicate", "retry its original, document"},
		{"vanished", "vanished documents are not retried"},
		{"unread", "never read"},
	} {
		id := h.docIn(10*(i+1), tc.situation)
		if tc.refused != "" {
			retryRefused(h, id, tc.situation, tc.refused)
		} else {
			retryMade(h, id, tc.situation)
		}
	}
}

// retryRefused checks that document id is refused, by Retry and CheckRetry
// alike, with a reason saying refused, and that nothing changed.
func retryRefused(h *harness, id int64, situation, refused string) {
	h.t.Helper()
	before, n, seen := h.get(id), h.count(""), len(h.transitions())
	checked, checkErr := h.b.CheckRetry(h.ctx, id, store.RetryOptions{})
	newID, err := h.b.Retry(h.ctx, id, store.RetryOptions{})
	var nr *store.NotRetryableError
	if !errors.As(err, &nr) || !errors.Is(err, store.ErrNotRetryable) || !strings.Contains(nr.Reason, refused) || nr.ID != id {
		h.t.Fatalf("%s: Retry = %d, %v; want a refusal saying %q", situation, newID, err, refused)
	}
	if !errors.Is(checkErr, store.ErrNotRetryable) || checked != nil {
		h.t.Fatalf("%s: CheckRetry = %v, %v; want the same refusal", situation, checked, checkErr)
	}
	if after := h.get(id); !reflect.DeepEqual(after, before) || h.count("") != n {
		h.t.Fatalf("%s: a refusal changed something:\nbefore %+v\nafter  %+v", situation, before, after)
	}
	if trs := h.transitions(); len(trs) != seen {
		h.t.Fatalf("%s: a refusal announced transitions: %+v", situation, trs[seen:])
	}
}

// retryMade retries document id and checks the new document and what
// became of the old one.
func retryMade(h *harness, id int64, situation string) {
	h.t.Helper()
	before, seen := h.get(id), len(h.transitions())
	checked, checkErr := h.b.CheckRetry(h.ctx, id, store.RetryOptions{})
	newID, err := h.b.Retry(h.ctx, id, store.RetryOptions{})
	if err != nil || checkErr != nil || checked.ID != id {
		h.t.Fatalf("%s: Retry = %d, %v; CheckRetry = %v", situation, newID, err, checkErr)
	}
	nd := h.get(newID)
	if nd.State != store.StateQueued || nd.Source != before.Source || nd.Path != before.Path || nd.FileName != before.FileName ||
		nd.SizeBytes != before.SizeBytes || !nd.ModTime.Equal(before.ModTime) || nd.SHA256 != before.SHA256 || nd.RetryOf != id {
		h.t.Fatalf("%s: retry %+v does not carry the file of %+v", situation, nd, before)
	}
	if nd.ClientReference == before.ClientReference || !strings.HasSuffix(nd.ClientReference, fmt.Sprintf("-%d", newID)) || nd.DocumentID != "" || nd.BatchID != 0 || nd.Outcome != "" ||
		nd.ErrorCode != "" || nd.DuplicateOf != 0 {
		h.t.Fatalf("%s: retry is not a fresh queued document: %+v", situation, nd)
	}
	if got, err := h.b.RetriedAs(h.ctx, id); err != nil || got != newID {
		h.t.Fatalf("%s: RetriedAs = %d, %v; want %d", situation, got, err, newID)
	}
	after, trs := h.get(id), h.transitions()[seen:]
	if situation != "submitted" && situation != "stuck" {
		if !reflect.DeepEqual(after, before) {
			h.t.Fatalf("%s: the old document changed:\nbefore %+v\nafter  %+v", situation, before, after)
		}
		if len(trs) != 1 || trs[0].DocID != newID || trs[0].To != store.StateQueued {
			h.t.Fatalf("%s: transitions = %+v, want the retry queued", situation, trs)
		}
		return
	}
	if after.State != store.StateFailed || after.Outcome != store.StateFailed || after.ErrorCode != vocab.CodeResubmitted ||
		!strings.HasSuffix(after.ErrorMessage, fmt.Sprintf("resubmitted as document %d", newID)) || after.CompletedAt.IsZero() ||
		after.DocumentID != before.DocumentID {
		h.t.Fatalf("%s: stuck document after retry = %+v", situation, after)
	}
	if len(trs) != 2 || trs[1].DocID != id || trs[1].From != before.State || trs[1].To != store.StateFailed || trs[1].Reason != vocab.CodeResubmitted {
		h.t.Fatalf("%s: transitions = %+v, want queued retry and failed original", situation, trs)
	}
}

// Moved from internal/store TestARetriedDocumentIsRetriedAgainOnlyWhenAskedTo.
func retryAgain(h *harness) {
	id := h.docIn(1, "exported failed")
	first, err := h.b.Retry(h.ctx, id, store.RetryOptions{})
	h.must(err)
	_, err = h.b.Retry(h.ctx, id, store.RetryOptions{})
	var nr *store.NotRetryableError
	if !errors.As(err, &nr) || nr.RetriedAs != first || !strings.Contains(nr.Reason, fmt.Sprintf("already retried as document %d", first)) {
		h.t.Fatalf("second retry: %v, want refused naming %d", err, first)
	}
	if _, err := h.b.CheckRetry(h.ctx, id, store.RetryOptions{Again: true}); err != nil {
		h.t.Fatalf("CheckRetry with again: %v", err)
	}
	second, err := h.b.Retry(h.ctx, id, store.RetryOptions{Again: true})
	if err != nil || second == first {
		h.t.Fatalf("retry again = %d, %v", second, err)
	}
	if got, _ := h.b.RetriedAs(h.ctx, id); got != second {
		h.t.Fatalf("RetriedAs = %d, want the newest retry %d", got, second)
	}
	if got, err := h.b.RetriedAs(h.ctx, second); err != nil || got != 0 {
		h.t.Fatalf("RetriedAs of a document never retried = %d, %v", got, err)
	}
	if _, err := h.b.Retry(h.ctx, 999, store.RetryOptions{}); !errors.Is(err, store.ErrNotFound) {
		h.t.Fatalf("unknown id: %v, want ErrNotFound", err)
	}
	if _, err := h.b.CheckRetry(h.ctx, 999, store.RetryOptions{}); !errors.Is(err, store.ErrNotFound) {
		h.t.Fatalf("CheckRetry of an unknown id: %v, want ErrNotFound", err)
	}
}

// Moved from internal/store TestALateResultForAResubmittedDocumentChangesNothing.
func lateResultAfterRetry(h *harness) {
	id := h.docIn(1, "submitted")
	newID, err := h.b.Retry(h.ctx, id, store.RetryOptions{})
	h.must(err)
	before := h.get(id)
	got, err := h.b.ApplyResult(h.ctx, store.Result{DocumentID: before.DocumentID, Status: docuparse.StatusCompleted, Data: []byte(`{}`), Via: store.ViaWebhook})
	if err != nil || got != store.Conflict {
		h.t.Fatalf("late completed result: %s, %v; want a conflict", got, err)
	}
	if after := h.get(id); !reflect.DeepEqual(after, before) {
		h.t.Fatalf("late result changed the resubmitted document: %+v", after)
	}
	if due, _ := h.b.DueForPoll(h.ctx, start.Add(time.Hour), 0, time.Hour, 10); len(due) != 0 {
		h.t.Fatalf("a resubmitted document is still polled: %+v", due)
	}
	// The retry is queued like any new file and goes into a batch.
	if b := h.batch(store.ModeBatch, newID); len(b.Documents) != 1 {
		h.t.Fatalf("batching the retry: %+v", b)
	}
}

// Moved from internal/store TestARescanOfARetriedFileFindsTheRetry.
func rescanFindsTheRetry(h *harness) {
	id := h.docIn(1, "exported failed")
	newID, err := h.b.Retry(h.ctx, id, store.RetryOptions{})
	h.must(err)
	if r := h.intake(file(1, sha(1))); !r.Known || r.ID != newID {
		h.t.Fatalf("re-intake = %+v, want known as the retry %d", r, newID)
	}
}

// failAs records document id submitted under API id doc and failed with code.
func (h *harness) failAs(id int64, doc, code string) {
	h.t.Helper()
	b := h.batch(store.ModeSingle, id)
	h.must(h.b.RecordSubmitted(h.ctx, b.ID, "", nil, []store.Submitted{{DocID: id, DocumentID: doc}}))
	h.apply(store.Result{DocumentID: doc, Status: docuparse.StatusFailed, ErrorCode: code, Via: store.ViaWebhook})
}

// Moved from internal/store TestSelectForRetryChoosesFailedAndStuckDocuments.
func selectForRetry(h *harness) {
	failedID := h.docIn(1, "failed")
	exportedFailed := h.docIn(2, "exported failed")
	rejected := h.docIn(3, "rejected")
	stuck := h.docIn(4, "submitted")
	h.docIn(5, "completed")
	h.docIn(6, "queued")
	retried := h.docIn(7, "failed")
	other := file(8, sha(8))
	other.Source, other.Path = "scans", "/scans/f8.pdf"
	otherID := h.intake(other).ID
	h.failAs(otherID, "doc_other", "OTHER")
	if _, err := h.b.Retry(h.ctx, retried, store.RetryOptions{}); err != nil {
		h.t.Fatal(err)
	}
	// A retry of its own that failed too.
	failedRetry, err := h.b.Retry(h.ctx, h.docIn(9, "failed"), store.RetryOptions{})
	h.must(err)
	h.failAs(failedRetry, "doc_again", "AGAIN")
	stuckSubmitting := h.docIn(11, "stuck")
	later := start.Add(time.Hour)
	for _, tc := range []struct {
		name string
		q    store.RetryQuery
		want []int64
	}{
		{"failed chooses every failed outcome not retried yet", store.RetryQuery{Failed: true}, []int64{failedID, exportedFailed, otherID}},
		{"failed never chooses a retry, even failed", store.RetryQuery{Failed: true, Code: "AGAIN"}, nil},
		{"failed again adds failed retries, never a document retried before", store.RetryQuery{Failed: true, Again: true}, []int64{failedID, exportedFailed, otherID, failedRetry}},
		{"a code chooses a failed retry with again", store.RetryQuery{Code: "AGAIN", Again: true}, []int64{failedRetry}},
		{"a code narrows failed to that code", store.RetryQuery{Failed: true, Code: docuparse.CodeExtractionFailed}, []int64{failedID, exportedFailed}},
		{"a rejection code chooses rejected documents", store.RetryQuery{Code: docuparse.CodeUnsupportedMedia}, []int64{rejected}},
		{"a source keeps only its documents", store.RetryQuery{Failed: true, Source: "scans"}, []int64{otherID}},
		{"stuck chooses documents submitted before the cutoff and stuck at submission", store.RetryQuery{Stuck: true, StuckBefore: later}, []int64{stuck, stuckSubmitting}},
		{"nothing submitted is stuck before an early cutoff", store.RetryQuery{Stuck: true, StuckBefore: start.Add(-time.Hour)}, []int64{stuckSubmitting}},
		{"failed and stuck together are united", store.RetryQuery{Failed: true, Code: "OTHER", Stuck: true, StuckBefore: later}, []int64{stuck, otherID, stuckSubmitting}},
	} {
		docs, err := h.b.SelectForRetry(h.ctx, tc.q)
		h.must(err)
		var got []int64
		for _, d := range docs {
			got = append(got, d.ID)
		}
		if !reflect.DeepEqual(got, tc.want) {
			h.t.Errorf("%s: selected %v, want %v", tc.name, got, tc.want)
		}
	}
	for _, q := range []store.RetryQuery{{}, {Source: "inbox"}, {Stuck: true}} {
		if _, err := h.b.SelectForRetry(h.ctx, q); err == nil {
			h.t.Errorf("query %+v accepted", q)
		}
	}
}

// Moved from internal/store TestTwoProcessesRetryingOneDocumentMakeOneRetry:
// the retry command beside the daemon, each with its own handle on the
// store.
func twoHandlesRetryOnce(h *harness) {
	id := h.docIn(1, "submitted")
	other := h.openStore()
	const tries = 8
	errs := make(chan error, tries)
	for i := range tries {
		b := h.b
		if i%2 == 1 {
			b = other
		}
		go func() {
			_, err := b.Retry(h.ctx, id, store.RetryOptions{})
			errs <- err
		}()
	}
	var ok, refused int
	for range tries {
		switch err := <-errs; {
		case err == nil:
			ok++
		case errors.Is(err, store.ErrNotRetryable):
			refused++
		default:
			h.t.Errorf("unexpected error: %v", err)
		}
	}
	if ok != 1 || refused != tries-1 || h.count("") != 2 {
		h.t.Fatalf("%d retried, %d refused, %d documents; want exactly one retry", ok, refused, h.count(""))
	}
}

// Moved from internal/store TestFirstAttemptFollowsTheRetryChain: a retry
// of a retry leads back to the file's first attempt.
func firstAttempt(h *harness) {
	first := h.docIn(1, "failed")
	second, err := h.b.Retry(h.ctx, first, store.RetryOptions{})
	h.must(err)
	h.failAs(second, "doc_second", "X")
	third, err := h.b.Retry(h.ctx, second, store.RetryOptions{})
	h.must(err)
	for _, id := range []int64{first, second, third} {
		if got, err := h.b.FirstAttempt(h.ctx, id); err != nil || got != first {
			h.t.Errorf("FirstAttempt(%d) = %d, %v; want %d", id, got, err, first)
		}
	}
	if d := h.get(third); d.RetryOf != second {
		h.t.Errorf("document %d: RetryOf = %d; want %d", third, d.RetryOf, second)
	}
	if _, err := h.b.FirstAttempt(h.ctx, 999); !errors.Is(err, store.ErrNotFound) {
		h.t.Errorf("unknown id: %v", err)
	}
}
