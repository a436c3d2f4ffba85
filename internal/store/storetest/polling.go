package storetest

import (
	"fmt"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/docuparse"
	"github.com/docuparse/docuparse-ingest/internal/store"
)

var pollingCases = []testCase{
	{"DueForPollTakesATimeTooFarAheadAsAClockSteppedBack", dueForPollClockStep},
	{"DueForPollOrdersAndLimitsAndRecordPollCounts", dueForPollOrder},
	{"ApplyResultNeedsATerminalStatusAndASubmittedDocument", applyResultRefusals},
	{"BatchesToVerifyTakesASubmissionTooFarAheadAsAClockSteppedBack", batchesToVerifyClockStep},
	{"ABatchVerifiedIsNotVerifiedAgain", batchVerification},
}

// Moved from internal/store TestDueForPollTakesATimeTooFarAheadAsAClockSteppedBack:
// a stored time further ahead of now than it can be was written before the
// wall clock was stepped back, so the document is due now rather than after
// the step. Within the bounds nothing changes.
func dueForPollClockStep(h *harness) {
	sub := start
	id := h.docIn(1, "submitted")
	const grace, maxInterval = 5 * time.Minute, 30 * time.Minute
	check := func(what string, now time.Time, want bool) {
		h.t.Helper()
		docs, err := h.b.DueForPoll(h.ctx, now, grace, maxInterval, 10)
		h.must(err)
		if got := len(docs) == 1; got != want {
			h.t.Errorf("%s: due = %v, want %v", what, got, want)
		}
	}
	check("inside the grace", sub.Add(grace-time.Second), false)
	check("at the end of the grace", sub.Add(grace), true)
	check("submitted exactly the grace ahead of now", sub.Add(-grace), false)
	check("submitted more than the grace ahead of now", sub.Add(-grace-time.Second), true)

	next := sub.Add(time.Hour)
	h.must(h.b.RecordPoll(h.ctx, id, next, ""))
	check("before the next poll", next.Add(-time.Second), false)
	check("at the next poll", next, true)
	check("next poll exactly the longest interval ahead", next.Add(-maxInterval), false)
	check("next poll more than the longest interval ahead", next.Add(-maxInterval-time.Second), true)
}

func dueForPollOrder(h *harness) {
	a := h.submitted(1)
	h.clock.Advance(time.Minute)
	c := h.submitted(2)
	h.clock.Advance(time.Minute)
	done := h.docIn(3, "completed")
	now := start.Add(time.Hour)
	due, err := h.b.DueForPoll(h.ctx, now, time.Minute, time.Hour, 10)
	h.must(err)
	if len(due) != 2 || due[0].ID != a || due[1].ID != c {
		h.t.Fatalf("due = %+v, want %d, %d (never a document with its result, %d)", due, a, c, done)
	}
	// Polled: a goes to the back of the line, after c.
	h.must(h.b.RecordPoll(h.ctx, a, now, "HTTP 503"))
	h.must(h.b.RecordPoll(h.ctx, a, now, ""))
	due, _ = h.b.DueForPoll(h.ctx, now, time.Minute, time.Hour, 1)
	if len(due) != 1 || due[0].ID != c {
		h.t.Fatalf("first due after a's polls = %+v, want %d", due, c)
	}
	if n, err := h.b.PollCount(h.ctx, a); err != nil || n != 2 {
		h.t.Fatalf("poll count = %d, %v; want 2", n, err)
	}
	if d := h.get(a); d.PollCount != 2 {
		h.t.Fatalf("document poll count = %d", d.PollCount)
	}
	// A poll of a document that has its result changes nothing.
	h.must(h.b.RecordPoll(h.ctx, done, now, ""))
	if n, _ := h.b.PollCount(h.ctx, done); n != 0 {
		h.t.Fatalf("a finished document was counted polled: %d", n)
	}
	if _, err := h.b.PollCount(h.ctx, 999); err == nil {
		h.t.Fatal("PollCount of an unknown document")
	}
	h.apply(failed(a))
	if due, _ := h.b.DueForPoll(h.ctx, now, time.Minute, time.Hour, 10); len(due) != 1 || due[0].ID != c {
		h.t.Fatalf("due after a failed = %+v", due)
	}
}

// ApplyResult refuses a status that is not terminal and a document the
// API id does not name; it is refused (Conflict, changing nothing) for a
// document that is not waiting for its result.
func applyResultRefusals(h *harness) {
	id := h.submitted(1)
	if _, err := h.b.ApplyResult(h.ctx, store.Result{DocumentID: docID(id), Status: docuparse.StatusProcessing}); err == nil {
		h.t.Fatal("a processing status was applied")
	}
	h.wantState(id, store.StateSubmitted)
	h.apply(store.Result{DocumentID: docID(id), Status: docuparse.StatusCompleted, Via: store.ViaPoll, APITimestamp: "2026-11-27T09:00:00Z"})
	d := h.get(id)
	if d.Outcome != store.StateCompleted || d.ResultVia != store.ViaPoll || d.Result != nil || !d.CompletedAt.Equal(start) ||
		d.APITimestamp != "2026-11-27T09:00:00Z" {
		h.t.Fatalf("completed without data = %+v", d)
	}
	// Exported since: the same result is still a duplicate, another a conflict.
	h.must(h.b.MarkExported(h.ctx, []int64{id}, nil))
	if got, _ := h.b.ApplyResult(h.ctx, store.Result{DocumentID: docID(id), Status: docuparse.StatusCompleted, Via: store.ViaWebhook}); got != store.Duplicate {
		h.t.Fatalf("the result again after export = %q, want duplicate", got)
	}
	if got, _ := h.b.ApplyResult(h.ctx, failed(id)); got != store.Conflict {
		h.t.Fatalf("another result after export = %q, want conflict", got)
	}
	h.wantState(id, store.StateExported)
}

// Moved from internal/store TestBatchesToVerifyTakesASubmissionTooFarAheadAsAClockSteppedBack.
func batchesToVerifyClockStep(h *harness) {
	sub := start
	h.docIn(1, "completed")
	const grace = 5 * time.Minute
	for _, tc := range []struct {
		what string
		now  time.Time
		want bool
	}{
		{"inside the grace", sub.Add(grace - time.Second), false},
		{"at the end of the grace", sub.Add(grace), true},
		{"submitted exactly the grace ahead of now", sub.Add(-grace), false},
		{"submitted more than the grace ahead of now", sub.Add(-grace - time.Second), true},
	} {
		got, err := h.b.BatchesToVerify(h.ctx, tc.now, grace, 10)
		h.must(err)
		if (len(got) == 1) != tc.want {
			h.t.Errorf("%s: %d batches to verify, want due = %v", tc.what, len(got), tc.want)
		}
	}
}

func batchVerification(h *harness) {
	a := h.docIn(1, "completed")
	c := h.docIn(2, "submitted") // its batch still waits for a result
	later := start.Add(time.Hour)
	got, err := h.b.BatchesToVerify(h.ctx, later, time.Minute, 10)
	h.must(err)
	if len(got) != 1 || got[0].APIBatchID != "batch_1" || got[0].Reason != "summary missing" ||
		len(got[0].Documents) != 1 || got[0].Documents[0].ID != a {
		h.t.Fatalf("to verify = %+v, want batch_1 alone (not %d's)", got, c)
	}
	if v, err := h.b.BatchVerification(h.ctx, got[0].ID); err != nil || v != "" {
		h.t.Fatalf("verification before asking = %q, %v", v, err)
	}
	h.must(h.b.RecordBatchVerification(h.ctx, got[0].ID, store.CheckMatch))
	if v, err := h.b.BatchVerification(h.ctx, got[0].ID); err != nil || v != store.CheckMatch {
		h.t.Fatalf("verification = %q, %v", v, err)
	}
	if again, _ := h.b.BatchesToVerify(h.ctx, later, time.Minute, 10); len(again) != 0 {
		h.t.Fatalf("a verified batch is offered again: %+v", again)
	}
	if _, err := h.b.BatchVerification(h.ctx, 999); err == nil {
		h.t.Fatal("verification of an unknown batch")
	}
	h.apply(completed(c))
	if got, _ := h.b.BatchesToVerify(h.ctx, later, time.Minute, 10); len(got) != 1 || got[0].Documents[0].ID != c {
		h.t.Fatalf("to verify once its result is in = %+v", got)
	}
	if bc, _ := h.b.BatchCounts(h.ctx); fmt.Sprint(bc) != fmt.Sprint(map[string]int{store.BatchSubmitted: 2}) {
		h.t.Fatalf("batch counts = %v", bc)
	}
}
