package store

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/docuparse"
	"github.com/docuparse/docuparse-ingest/internal/vocab"
)

// docIn builds document number i in the named situation through the
// store's own transitions and returns its id.
func docIn(t *testing.T, s *Store, i int, situation string) int64 {
	t.Helper()
	ctx := context.Background()
	f := newFile(i, fmt.Sprintf("sha%02d", i))
	if situation == "rejected" || situation == "exported rejected" || situation == "unread" {
		sha, code := f.SHA256, docuparse.CodeUnsupportedMedia
		if situation == "unread" {
			sha, code = "", "UNREADABLE"
		}
		f.SHA256 = sha
		id, err := s.Reject(ctx, f, code, "refused")
		if err != nil {
			t.Fatal(err)
		}
		if situation == "exported rejected" {
			mustExport(t, s, id)
		}
		return id
	}
	if situation == "duplicate" {
		mustIntake(t, s, f) // the original
		dup := f
		dup.Path, dup.FileName = f.Path+".copy.pdf", f.FileName+".copy.pdf"
		return mustIntake(t, s, dup).ID
	}
	id := mustIntake(t, s, f).ID
	if situation == "queued" {
		return id
	}
	if situation == "vanished" {
		if err := s.Finish(ctx, []int64{id}, StateVanished, "", "gone"); err != nil {
			t.Fatal(err)
		}
		return id
	}
	b, err := s.CreateBatch(ctx, ModeBatch, []int64{id})
	if err != nil {
		t.Fatal(err)
	}
	if situation == "submitting" {
		return id
	}
	docID := fmt.Sprintf("doc_%02d", i)
	if err := s.RecordSubmitted(ctx, b.ID, fmt.Sprintf("batch_%02d", i), nil, []Submitted{{id, docID}}); err != nil {
		t.Fatal(err)
	}
	switch situation {
	case "submitted":
		return id
	case "completed", "exported completed":
		mustApply(t, s, Result{DocumentID: docID, Status: docuparse.StatusCompleted, Data: []byte(`{"total":"1.00"}`), Via: ViaWebhook})
	case "failed", "exported failed":
		mustApply(t, s, Result{DocumentID: docID, Status: docuparse.StatusFailed, ErrorCode: docuparse.CodeExtractionFailed,
			ErrorMessage: "Document extraction failed for this file.", Via: ViaPoll})
	default:
		t.Fatalf("unknown situation %q", situation)
	}
	if strings.HasPrefix(situation, "exported ") {
		mustExport(t, s, id)
	}
	return id
}

func mustApply(t *testing.T, s *Store, r Result) {
	t.Helper()
	if got, err := s.ApplyResult(context.Background(), r); err != nil || got != Applied {
		t.Fatalf("apply %+v: %s, %v", r, got, err)
	}
}

func mustExport(t *testing.T, s *Store, id int64) {
	t.Helper()
	if err := s.MarkExported(context.Background(), []int64{id}, nil); err != nil {
		t.Fatal(err)
	}
}

func mustGet(t *testing.T, s *Store, id int64) *Document {
	t.Helper()
	d, err := s.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func countDocuments(t *testing.T, s *Store) int {
	t.Helper()
	docs, err := s.Documents(context.Background(), "", 0)
	if err != nil {
		t.Fatal(err)
	}
	return len(docs)
}

func TestRetryDependsOnTheDocumentsState(t *testing.T) {
	for _, tc := range []struct {
		name      string
		situation string
		refused   string // reason substring; "" when retried
	}{
		{"a failed document is retried and its failure stands", "failed", ""},
		{"an exported failed document is retried and stays exported", "exported failed", ""},
		{"a rejected document is retried and its rejection stands", "rejected", ""},
		{"an exported rejected document is retried", "exported rejected", ""},
		{"a stuck submitted document is retried and ends failed as resubmitted", "submitted", ""},
		{"a queued document is refused: it is still waiting", "queued", "queued documents are not retried"},
		{"a submitting document is refused: its upload is under way", "submitting", "submitting documents are not retried"},
		{"a completed document is refused", "completed", "completed documents are not retried"},
		{"an exported completed document is refused as completed", "exported completed", "completed documents are not retried"},
		{"a duplicate is refused and names its original", "duplicate", "retry its original, document 1"},
		{"a vanished document is refused", "vanished", "vanished documents are not retried"},
		{"a file that was never read is refused", "unread", "never read"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, b := setup(t)
			ctx := context.Background()
			id := docIn(t, s, 1, tc.situation)
			before := mustGet(t, s, id)
			n := countDocuments(t, s)
			seen := len(b.transitions())

			checked, checkErr := s.CheckRetry(ctx, id, RetryOptions{})
			newID, err := s.Retry(ctx, id, RetryOptions{})

			if tc.refused != "" {
				var nr *NotRetryableError
				if !errors.As(err, &nr) || !errors.Is(err, ErrNotRetryable) || !strings.Contains(nr.Reason, tc.refused) || nr.ID != id {
					t.Fatalf("Retry = %d, %v; want a refusal saying %q", newID, err, tc.refused)
				}
				if !errors.Is(checkErr, ErrNotRetryable) || checked != nil {
					t.Fatalf("CheckRetry = %v, %v; want the same refusal", checked, checkErr)
				}
				if after := mustGet(t, s, id); !reflect.DeepEqual(after, before) || countDocuments(t, s) != n {
					t.Fatalf("a refusal changed something:\nbefore %+v\nafter  %+v", before, after)
				}
				if trs := b.transitions(); len(trs) != seen {
					t.Fatalf("a refusal emitted transitions: %+v", trs[seen:])
				}
				return
			}
			if err != nil || checkErr != nil || checked.ID != id {
				t.Fatalf("Retry = %d, %v; CheckRetry = %v", newID, err, checkErr)
			}
			nd := mustGet(t, s, newID)
			if nd.State != StateQueued || nd.Source != before.Source || nd.Path != before.Path || nd.FileName != before.FileName ||
				nd.SizeBytes != before.SizeBytes || !nd.ModTime.Equal(before.ModTime) || nd.SHA256 != before.SHA256 {
				t.Fatalf("retry %+v does not carry the file of %+v", nd, before)
			}
			if nd.ClientReference == before.ClientReference || !strings.HasSuffix(nd.ClientReference, fmt.Sprintf("-%d", newID)) ||
				nd.DocumentID != "" || nd.BatchID != 0 || nd.Outcome != "" || nd.ErrorCode != "" || nd.DuplicateOf != 0 {
				t.Fatalf("retry is not a fresh queued document: %+v", nd)
			}
			if got, err := s.RetriedAs(ctx, id); err != nil || got != newID {
				t.Fatalf("RetriedAs = %d, %v; want %d", got, err, newID)
			}
			after := mustGet(t, s, id)
			trs := b.transitions()[seen:]
			if tc.situation != "submitted" {
				if !reflect.DeepEqual(after, before) {
					t.Fatalf("the old document changed:\nbefore %+v\nafter  %+v", before, after)
				}
				if len(trs) != 1 || trs[0].DocID != newID || trs[0].To != StateQueued {
					t.Fatalf("transitions = %+v, want the retry queued", trs)
				}
				return
			}
			if after.State != StateFailed || after.Outcome != StateFailed || after.ErrorCode != vocab.CodeResubmitted ||
				after.ErrorMessage != fmt.Sprintf("resubmitted as document %d", newID) || after.CompletedAt.IsZero() ||
				after.DocumentID != before.DocumentID {
				t.Fatalf("stuck document after retry = %+v", after)
			}
			if len(trs) != 2 || trs[1].DocID != id || trs[1].From != StateSubmitted || trs[1].To != StateFailed || trs[1].Reason != vocab.CodeResubmitted {
				t.Fatalf("transitions = %+v, want queued retry and failed original", trs)
			}
		})
	}
}

func TestARetriedDocumentIsRetriedAgainOnlyWhenAskedTo(t *testing.T) {
	s, _ := setup(t)
	ctx := context.Background()
	id := docIn(t, s, 1, "exported failed")
	first, err := s.Retry(ctx, id, RetryOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Retry(ctx, id, RetryOptions{})
	var nr *NotRetryableError
	if !errors.As(err, &nr) || nr.RetriedAs != first || !strings.Contains(nr.Reason, fmt.Sprintf("already retried as document %d", first)) {
		t.Fatalf("second retry: %v, want refused naming %d", err, first)
	}
	second, err := s.Retry(ctx, id, RetryOptions{Again: true})
	if err != nil || second == first {
		t.Fatalf("retry again = %d, %v", second, err)
	}
	if got, _ := s.RetriedAs(ctx, id); got != second {
		t.Fatalf("RetriedAs = %d, want the newest retry %d", got, second)
	}
	if _, err := s.Retry(ctx, 999, RetryOptions{}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown id: %v, want ErrNotFound", err)
	}
}

func TestALateResultForAResubmittedDocumentChangesNothing(t *testing.T) {
	s, _ := setup(t)
	ctx := context.Background()
	id := docIn(t, s, 1, "submitted")
	newID, err := s.Retry(ctx, id, RetryOptions{})
	if err != nil {
		t.Fatal(err)
	}
	before := mustGet(t, s, id)
	got, err := s.ApplyResult(ctx, Result{DocumentID: before.DocumentID, Status: docuparse.StatusCompleted, Data: []byte(`{}`), Via: ViaWebhook})
	if err != nil || got != Conflict {
		t.Fatalf("late completed result: %s, %v; want a conflict", got, err)
	}
	if after := mustGet(t, s, id); !reflect.DeepEqual(after, before) {
		t.Fatalf("late result changed the resubmitted document: %+v", after)
	}
	if due, _ := s.DueForPoll(ctx, time.Now().Add(time.Hour), 0, time.Hour, 10); len(due) != 0 {
		t.Fatalf("a resubmitted document is still polled: %+v", due)
	}
	// The retry is queued like any new file and goes into a batch.
	if b, err := s.CreateBatch(ctx, ModeBatch, []int64{newID}); err != nil || len(b.Documents) != 1 {
		t.Fatalf("batching the retry: %+v, %v", b, err)
	}
}

func TestResubmittingABatchsLastPendingDocumentChecksTheBatch(t *testing.T) {
	s, _ := setup(t)
	ctx := context.Background()
	id := docIn(t, s, 1, "submitted")
	body := []byte(`{"event":"batch.completed","batch_id":"batch_01","timestamp":"2026-11-28T10:00:00Z","summary":{"total":1,"succeeded":1,"failed":0}}`)
	if _, err := s.JournalEvent(ctx, IncomingEvent{DedupeKey: "k1", Type: docuparse.EventBatchCompleted, BatchID: "batch_01", Body: body}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ApplyPendingEvents(ctx, 10); err != nil {
		t.Fatal(err)
	}
	if checks, _ := s.BatchChecks(ctx, false); len(checks) != 0 {
		t.Fatalf("checked before its document was done: %+v", checks)
	}
	if _, err := s.Retry(ctx, id, RetryOptions{}); err != nil {
		t.Fatal(err)
	}
	checks, err := s.BatchChecks(ctx, false)
	if err != nil || len(checks) != 1 || !strings.HasPrefix(checks[0].Check, CheckMismatch) {
		t.Fatalf("batch checks = %+v, %v; want a mismatch (the API counted it, the daemon resubmitted it)", checks, err)
	}
}

func TestARescanOfARetriedFileFindsTheRetry(t *testing.T) {
	s, _ := setup(t)
	ctx := context.Background()
	id := docIn(t, s, 1, "exported failed")
	newID, err := s.Retry(ctx, id, RetryOptions{})
	if err != nil {
		t.Fatal(err)
	}
	f := newFile(1, "sha01")
	if r := mustIntake(t, s, f); !r.Known || r.ID != newID {
		t.Fatalf("re-intake = %+v, want known as the retry %d", r, newID)
	}
}

func TestSelectForRetryChoosesFailedAndStuckDocuments(t *testing.T) {
	s, _ := setup(t)
	ctx := context.Background()
	failed := docIn(t, s, 1, "failed")
	exportedFailed := docIn(t, s, 2, "exported failed")
	rejected := docIn(t, s, 3, "rejected")
	stuck := docIn(t, s, 4, "submitted")
	docIn(t, s, 5, "completed")
	docIn(t, s, 6, "queued")
	retried := docIn(t, s, 7, "failed")
	other := newFile(8, "sha08")
	other.Source, other.Path = "scans", "/scans/f8.pdf"
	otherID := mustIntake(t, s, other).ID
	b, _ := s.CreateBatch(ctx, ModeSingle, []int64{otherID})
	if err := s.RecordSubmitted(ctx, b.ID, "", nil, []Submitted{{otherID, "doc_08"}}); err != nil {
		t.Fatal(err)
	}
	mustApply(t, s, Result{DocumentID: "doc_08", Status: docuparse.StatusFailed, ErrorCode: "OTHER", Via: ViaWebhook})
	retry, err := s.Retry(ctx, retried, RetryOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// A retry of its own that failed too.
	failedRetry, err := s.Retry(ctx, docIn(t, s, 9, "failed"), RetryOptions{})
	if err != nil {
		t.Fatal(err)
	}
	b, _ = s.CreateBatch(ctx, ModeSingle, []int64{failedRetry})
	if err := s.RecordSubmitted(ctx, b.ID, "", nil, []Submitted{{failedRetry, "doc_again"}}); err != nil {
		t.Fatal(err)
	}
	mustApply(t, s, Result{DocumentID: "doc_again", Status: docuparse.StatusFailed, ErrorCode: "AGAIN", Via: ViaWebhook})
	later := time.Now().Add(time.Hour)

	for _, tc := range []struct {
		name string
		q    RetryQuery
		want []int64
	}{
		{"failed chooses every failed outcome not retried yet", RetryQuery{Failed: true}, []int64{failed, exportedFailed, otherID}},
		{"failed never chooses a retry, even failed", RetryQuery{Failed: true, Code: "AGAIN"}, nil},
		{"failed again adds failed retries, never a document retried before", RetryQuery{Failed: true, Again: true}, []int64{failed, exportedFailed, otherID, failedRetry}},
		{"a code chooses a failed retry with again", RetryQuery{Code: "AGAIN", Again: true}, []int64{failedRetry}},
		{"a code narrows failed to that code", RetryQuery{Failed: true, Code: docuparse.CodeExtractionFailed}, []int64{failed, exportedFailed}},
		{"a rejection code chooses rejected documents", RetryQuery{Code: docuparse.CodeUnsupportedMedia}, []int64{rejected}},
		{"a source keeps only its documents", RetryQuery{Failed: true, Source: "scans"}, []int64{otherID}},
		{"stuck chooses documents submitted before the cutoff", RetryQuery{Stuck: true, StuckBefore: later}, []int64{stuck}},
		{"nothing is stuck before an early cutoff", RetryQuery{Stuck: true, StuckBefore: time.Now().Add(-time.Hour)}, nil},
		{"failed and stuck together are united", RetryQuery{Failed: true, Code: "OTHER", Stuck: true, StuckBefore: later}, []int64{stuck, otherID}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			docs, err := s.SelectForRetry(ctx, tc.q)
			if err != nil {
				t.Fatal(err)
			}
			var got []int64
			for _, d := range docs {
				got = append(got, d.ID)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("selected %v, want %v (retry %d)", got, tc.want, retry)
			}
		})
	}
	for _, q := range []RetryQuery{{}, {Source: "inbox"}, {Stuck: true}} {
		if _, err := s.SelectForRetry(ctx, q); err == nil {
			t.Errorf("query %+v accepted", q)
		}
	}
}

func TestTwoProcessesRetryingOneDocumentMakeOneRetry(t *testing.T) {
	s, b := setup(t)
	ctx := context.Background()
	id := docIn(t, s, 1, "submitted")
	other, err := Open(ctx, b.path, Options{}) // as the command beside the daemon
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	errs := make(chan error, 8)
	for i := range 8 {
		st := s
		if i%2 == 1 {
			st = other
		}
		go func() {
			_, err := st.Retry(ctx, id, RetryOptions{})
			errs <- err
		}()
	}
	var ok, refused int
	for range 8 {
		switch err := <-errs; {
		case err == nil:
			ok++
		case errors.Is(err, ErrNotRetryable):
			refused++
		default:
			t.Errorf("unexpected error: %v", err)
		}
	}
	if ok != 1 || refused != 7 || countDocuments(t, s) != 2 {
		t.Fatalf("%d retried, %d refused, %d documents; want exactly one retry", ok, refused, countDocuments(t, s))
	}
}

// A retry of a retry leads back to the file's first attempt, the one the
// report counts as the file.
func TestFirstAttemptFollowsTheRetryChain(t *testing.T) {
	s, _ := setup(t)
	ctx := context.Background()
	first := docIn(t, s, 1, "failed")
	second, err := s.Retry(ctx, first, RetryOptions{})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := s.CreateBatch(ctx, ModeSingle, []int64{second})
	if err := s.RecordSubmitted(ctx, b.ID, "", nil, []Submitted{{second, "doc_second"}}); err != nil {
		t.Fatal(err)
	}
	mustApply(t, s, Result{DocumentID: "doc_second", Status: docuparse.StatusFailed, ErrorCode: "X", Via: ViaWebhook})
	third, err := s.Retry(ctx, second, RetryOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []int64{first, second, third} {
		if got, err := s.FirstAttempt(ctx, id); err != nil || got != first {
			t.Errorf("FirstAttempt(%d) = %d, %v; want %d", id, got, err, first)
		}
	}
	if d, err := s.Get(ctx, third); err != nil || d.RetryOf != second {
		t.Errorf("document %d: RetryOf = %+v, %v; want %d", third, d, err, second)
	}
	if _, err := s.FirstAttempt(ctx, 999); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown id: %v", err)
	}
}
