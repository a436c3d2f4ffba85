package storetest

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/docuparse"
	"github.com/docuparse/docuparse-ingest/internal/store"
	"github.com/docuparse/docuparse-ingest/receiver"
)

// Every subtest of the webhook journal and of applying journaled events is
// in this file, and applies events through applyPending alone: a change of
// how pending events are applied changes that helper, not the subtests.

var eventCases = []testCase{
	{"JournalEventsStoresEachKeyOnceWithinAndAcrossGroups", journalEachKeyOnce},
	{"AFailedGroupStoresNothing", journalFailedGroup},
	{"EventBeforeSubmissionIsAdoptedWhenTheSubmissionIsRecorded", eventBeforeSubmission},
	{"UnknownAndBrokenEventsAreKeptAsDead", deadEvents},
	{"EveryAppliedEventReportsItsStatus", everyEventReportsItsStatus},
	{"ASecondCompletedEventWithOtherDataIsAConflictNotADuplicate", secondCompletedIsAConflict},
	{"TheFirstTerminalOutcomeWinsBetweenWebhookAndPoll", firstOutcomeWinsAcrossChannels},
	{"BatchSummaryIsCheckedOnceItsDocumentsAreDone", batchSummaryChecked},
	{"AnEarlyBatchSummaryIsAdoptedWithTheSubmission", earlyBatchSummary},
	{"EventsListsAndReplayRequeuesOnlyWhatDidNotApply", eventsListAndReplay},
	{"LastEventAtAndCountsFollowTheJournal", lastEventAndCounts},
	{"ResubmittingABatchsLastPendingDocumentChecksTheBatch", resubmitChecksTheBatch},
	{"AnEventReadByTwoAppliersIsAppliedOnce", appliedOnceByTwoAppliers},
	{"ADeadActionKeepsTheEventWithItsNote", deadActionKeepsItsNote},
	{"AnEmptyActionIsRefusedWithItsGroup", emptyActionRefused},
	{"AnOrphanQueuedAgainAppliesBeforeALaterEventReadAheadOfIt", orphanBeforeLaterEvent},
}

// applyPending applies every pending journaled event as the daemon's
// applier does (receiver.ApplyPending: each body read by
// receiver.ParseEvent, the typed actions applied by the backend's
// ApplyEvents) and returns how many were processed.
func applyPending(h *harness) int {
	h.t.Helper()
	n, err := receiver.ApplyPending(h.ctx, h.b)
	if err != nil {
		h.t.Fatalf("apply pending events: %v", err)
	}
	return n
}

// journal journals e under key as a verified delivery and reports whether
// it was stored.
func (h *harness) journal(key string, e docuparse.Event) bool {
	h.t.Helper()
	body, err := json.Marshal(e)
	h.must(err)
	return h.journalRaw(key, string(body))
}

// journalRaw journals body under key, its type and ids read from it.
func (h *harness) journalRaw(key, body string) bool {
	h.t.Helper()
	var e docuparse.Event
	_ = json.Unmarshal([]byte(body), &e) // a broken body is journaled all the same
	ok, err := h.b.JournalEvent(h.ctx, store.IncomingEvent{DedupeKey: key, DeliveryID: "dlv-" + key, Type: e.Event,
		DocumentID: e.DocumentID, BatchID: e.BatchID, Body: []byte(body)})
	if err != nil {
		h.t.Fatalf("journal %s: %v", key, err)
	}
	return ok
}

// eventCounts returns the journal's events by status.
func (h *harness) eventCounts() map[string]int {
	h.t.Helper()
	c, err := h.b.EventCounts(h.ctx)
	h.must(err)
	return c
}

// Moved from internal/store TestJournalEventsStoresEachKeyOnceWithinAndAcrossGroups.
func journalEachKeyOnce(h *harness) {
	ev := func(k string) store.IncomingEvent {
		return store.IncomingEvent{DedupeKey: k, Type: docuparse.EventDocumentCompleted, DocumentID: "doc_" + k, Body: []byte(`{"k":"` + k + `"}`)}
	}
	got, err := h.b.JournalEvents(h.ctx, []store.IncomingEvent{ev("a"), ev("b"), ev("a")})
	if err != nil || fmt.Sprint(got) != "[true true false]" {
		h.t.Fatalf("first group = %v, %v", got, err)
	}
	got, err = h.b.JournalEvents(h.ctx, []store.IncomingEvent{ev("c"), ev("a")})
	if err != nil || fmt.Sprint(got) != "[true false]" {
		h.t.Fatalf("second group = %v, %v", got, err)
	}
	many := make([]store.IncomingEvent, 450) // larger than any group the receiver forms
	for i := range many {
		many[i] = ev(fmt.Sprintf("m%d", i%300))
	}
	got, err = h.b.JournalEvents(h.ctx, many)
	h.must(err)
	n := 0
	for _, ok := range got {
		if ok {
			n++
		}
	}
	if n != 300 {
		h.t.Fatalf("%d of 450 stored, want the 300 distinct keys", n)
	}
	if c := h.eventCounts(); c[store.EventPending] != 303 {
		h.t.Fatalf("journal = %v, want 303 pending", c)
	}
}

// Moved from internal/store TestJournalEventsFailedGroupStoresNothing: a
// group that fails part-way stores none of it, and the journal goes on.
func journalFailedGroup(h *harness) {
	ok := store.IncomingEvent{DedupeKey: "a", Type: docuparse.EventDocumentCompleted, DocumentID: "doc_a", Body: []byte(`{}`)}
	broken := store.IncomingEvent{DedupeKey: "b", Type: docuparse.EventDocumentCompleted, DocumentID: "doc_b"} // no body
	if _, err := h.b.JournalEvents(h.ctx, []store.IncomingEvent{ok, broken}); err == nil {
		h.t.Fatal("a group with a delivery without a body was journaled")
	}
	if c := h.eventCounts(); len(c) != 0 {
		h.t.Fatalf("journal after the failed group = %v; want empty", c)
	}
	if got, err := h.b.JournalEvents(h.ctx, []store.IncomingEvent{ok}); err != nil || !got[0] {
		h.t.Fatalf("journal after a failed group: %v, %v", got, err)
	}
}

// Moved from internal/store TestEventBeforeSubmissionIsAdoptedWhenTheSubmissionIsRecorded.
func eventBeforeSubmission(h *harness) {
	a := h.queued(1)
	batch := h.batch(store.ModeSingle, a)
	failedEv := docuparse.Event{Event: docuparse.EventDocumentFailed, DocumentID: "doc_a", Error: &docuparse.Error{Code: "EXTRACTION_FAILED", Message: "no"}}
	if !h.journal("k1", failedEv) {
		h.t.Fatal("first delivery should be stored")
	}
	if h.journal("k1", failedEv) {
		h.t.Fatal("a repeated delivery must not be stored twice")
	}
	if n := applyPending(h); n != 1 {
		h.t.Fatalf("applied %d, want 1", n)
	}
	if c := h.eventCounts(); c[store.EventOrphan] != 1 {
		h.t.Fatalf("events = %v, want one orphan", c)
	}
	if n := applyPending(h); n != 0 {
		h.t.Fatalf("an orphan was applied again: %d", n)
	}
	if n := h.announcedPending(); n != 1 {
		h.t.Fatalf("OnJournaled announced %d pending events, want the one stored", n)
	}
	// Recording the answer queues the orphan again in its transaction and
	// announces it (the daemon wakes the applier); the next pass applies it.
	h.must(h.b.RecordSubmitted(h.ctx, batch.ID, "", nil, []store.Submitted{{DocID: a, DocumentID: "doc_a"}}))
	if n := h.announcedPending(); n != 2 {
		h.t.Fatalf("OnJournaled announced %d pending events, want the orphan queued again too", n)
	}
	if n := applyPending(h); n != 1 {
		h.t.Fatalf("applied %d after the answer, want the adopted orphan", n)
	}
	if d := h.get(a); d.State != store.StateFailed || d.ErrorCode != "EXTRACTION_FAILED" || d.ResultVia != store.ViaWebhook {
		h.t.Fatalf("doc = %+v, want failed by the early event", d)
	}
	if c := h.eventCounts(); c[store.EventApplied] != 1 || c[store.EventOrphan] != 0 {
		h.t.Fatalf("events = %v", c)
	}
}

// Moved from internal/store TestUnknownAndBrokenEventsAreKeptAsDead, with
// deliveries the receiver journals as dead already.
func deadEvents(h *harness) {
	for i, body := range []string{`{"event":"document.exploded","document_id":"d"}`, `{not json`,
		`{"event":"document.completed"}`, `{"event":"batch.completed","batch_id":"b"}`} {
		h.journalRaw(fmt.Sprint(i), body)
	}
	ok, err := h.b.JournalEvent(h.ctx, store.IncomingEvent{DedupeKey: "dead", Body: []byte(`x`), Dead: true, Note: "unparseable"})
	if err != nil || !ok {
		h.t.Fatalf("journal a dead delivery: %v, %v", ok, err)
	}
	if n := applyPending(h); n != 4 {
		h.t.Fatalf("applied %d, want the 4 pending (the dead one is never applied)", n)
	}
	if c := h.eventCounts(); fmt.Sprint(c) != fmt.Sprint(map[string]int{store.EventDead: 5}) {
		h.t.Fatalf("events = %v, want 5 dead", c)
	}
	dead, _ := h.b.Events(h.ctx, store.EventDead, 10)
	if len(dead) != 5 || dead[4].Note != "unparseable" || string(dead[4].Body) != "x" {
		h.t.Fatalf("dead events: %+v", dead)
	}
	for _, e := range dead[:4] {
		if e.Note == "" {
			h.t.Errorf("dead event %d has no note saying why", e.ID)
		}
	}
}

// Moved from internal/store TestEveryAppliedEventReportsItsStatus.
func everyEventReportsItsStatus(h *harness) {
	a := h.queued(1)
	batch := h.batch(store.ModeSingle, a)
	h.journal("early", docuparse.Event{Event: docuparse.EventDocumentCompleted, DocumentID: "doc_a"})
	h.journal("odd", docuparse.Event{Event: "document.exploded"})
	applyPending(h)
	// The orphan is queued again when the submission is recorded, and
	// applied by the next pass.
	h.must(h.b.RecordSubmitted(h.ctx, batch.ID, "", nil, []store.Submitted{{DocID: a, DocumentID: "doc_a"}}))
	applyPending(h)
	got := map[string]int{}
	for _, st := range h.eventStatuses() {
		got[st]++
	}
	if fmt.Sprint(got) != fmt.Sprint(map[string]int{store.EventApplied: 1, store.EventDead: 1, store.EventOrphan: 1}) {
		h.t.Fatalf("statuses reported = %v", got)
	}
}

// Moved from internal/store TestASecondCompletedEventWithOtherDataIsAConflictNotADuplicate:
// a document's identity is the meaning of its outcome, not the bytes that
// carried it.
func secondCompletedIsAConflict(h *harness) {
	id := h.submitted(1)
	doc := docID(id)
	first := `{"event":"document.completed","document_id":"` + doc + `","timestamp":"2026-01-02T03:04:05Z",` +
		`"data":{"vendor":"ACME","total":"100.00","line_items":[{"amount":"100.00"}]}}`
	same := "{ \"data\" : {\"line_items\":[{\"amount\":\"100.00\"}], \"total\":\"100.00\",\"vendor\":\"ACME\"},\n" +
		" \"timestamp\":\"2026-01-02T03:04:05Z\", \"document_id\":\"" + doc + "\", \"event\":\"document.completed\" }"
	other := `{"event":"document.completed","document_id":"` + doc + `","timestamp":"2026-01-02T03:04:05Z",` +
		`"data":{"vendor":"ATTACKER CORP","total":"900.00","line_items":[{"amount":"900.00"}]}}`
	for i, body := range []string{first, same, other} {
		h.journalRaw(fmt.Sprint("k", i), body)
		applyPending(h)
	}
	wantStatuses(h, 0, store.EventApplied, store.EventDuplicate, store.EventConflict)
	d := h.get(id)
	if d.State != store.StateCompleted || string(d.Result) != `{"vendor":"ACME","total":"100.00","line_items":[{"amount":"100.00"}]}` ||
		d.APITimestamp != "2026-01-02T03:04:05Z" {
		h.t.Fatalf("document: %s %s, want the first result kept", d.State, d.Result)
	}
	poll := func(data string) string {
		got, err := h.b.ApplyResult(h.ctx, store.Result{DocumentID: doc, Status: docuparse.StatusCompleted, Data: json.RawMessage(data), Via: store.ViaPoll})
		h.must(err)
		return got
	}
	if got := poll(`{"total": "100.00", "line_items": [{"amount": "100.00"}], "vendor": "ACME"}`); got != store.Duplicate {
		h.t.Errorf("the same result polled: %s, want duplicate", got)
	}
	if got := poll(`{"vendor":"ACME","total":"100.01","line_items":[{"amount":"100.00"}]}`); got != store.Conflict {
		h.t.Errorf("another result polled: %s, want conflict", got)
	}
	// The same holds for a failed document: another error is a conflict.
	fdoc := docID(h.submitted(2))
	for i, body := range []string{
		`{"event":"document.failed","document_id":"` + fdoc + `","error":{"code":"UNREADABLE","message":"scan too faint"}}`,
		`{"error":{"message":"scan too faint","code":"UNREADABLE"},"document_id":"` + fdoc + `","event":"document.failed"}`,
		`{"event":"document.failed","document_id":"` + fdoc + `","error":{"code":"CORRUPT_PDF","message":"broken"}}`,
	} {
		h.journalRaw(fmt.Sprint("f", i), body)
		applyPending(h)
	}
	wantStatuses(h, 3, store.EventApplied, store.EventDuplicate, store.EventConflict)
}

// wantStatuses checks the statuses of the journal's events from the
// from-th on, oldest first.
func wantStatuses(h *harness, from int, want ...string) {
	h.t.Helper()
	evs, err := h.b.Events(h.ctx, "", 100)
	h.must(err)
	if len(evs) < from+len(want) {
		h.t.Fatalf("%d events, want at least %d", len(evs), from+len(want))
	}
	for i, w := range want {
		if e := evs[from+i]; e.Status != w {
			h.t.Errorf("event %d (%s): %s, want %s", from+i, e.Type, e.Status, w)
		}
	}
}

// A poll's result and a webhook's for one document: whichever is applied
// first wins; the other changes nothing (duplicate when it agrees, conflict
// when it does not).
func firstOutcomeWinsAcrossChannels(h *harness) {
	a, c := h.submitted(1), h.submitted(2)
	h.apply(completed(a)) // polled first
	h.journal("ka", docuparse.Event{Event: docuparse.EventDocumentCompleted, DocumentID: docID(a), Data: json.RawMessage(`{"total":"1.00"}`)})
	h.journal("kc", docuparse.Event{Event: docuparse.EventDocumentFailed, DocumentID: docID(c), Error: &docuparse.Error{Code: "X"}})
	applyPending(h)
	wantStatuses(h, 0, store.EventDuplicate, store.EventApplied)
	if got, err := h.b.ApplyResult(h.ctx, completed(c)); err != nil || got != store.Conflict {
		h.t.Fatalf("a poll contradicting the webhook = %q, %v; want conflict", got, err)
	}
	if d := h.get(c); d.State != store.StateFailed || d.ResultVia != store.ViaWebhook || d.ErrorCode != "X" {
		h.t.Fatalf("document = %+v, want failed by the webhook", d)
	}
	if got := fmt.Sprint(h.path(a)); got != "[queued submitting submitted completed]" {
		h.t.Fatalf("transitions = %s: a document enters its outcome once", got)
	}
}

// Moved from internal/store TestBatchSummaryIsCheckedOnceItsDocumentsAreDone.
func batchSummaryChecked(h *harness) {
	for i, tc := range []struct {
		name    string
		summary docuparse.Summary
		want    string
	}{
		{"agrees", docuparse.Summary{Total: 2, Succeeded: 1, Failed: 1}, store.CheckMatch},
		{"disagrees", docuparse.Summary{Total: 2, Succeeded: 2}, store.CheckMismatch + ": API says total 2, succeeded 2, failed 0; daemon has total 2, succeeded 1, failed 1"},
	} {
		a, c := h.queued(2*i+1), h.queued(2*i+2)
		apiBatch := "batch_" + tc.name
		h.submit(h.batch(store.ModeBatch, a, c), apiBatch, a, c)
		// batch.completed first: nothing to check against yet.
		summary := tc.summary
		h.journal("k-"+tc.name, docuparse.Event{Event: docuparse.EventBatchCompleted, BatchID: apiBatch, Summary: &summary})
		applyPending(h)
		if checks, _ := h.b.BatchChecks(h.ctx, false); len(checks) != i {
			h.t.Fatalf("%s: checked before the documents were done: %+v", tc.name, checks)
		}
		h.apply(completed(a))
		h.apply(failed(c))
		checks, err := h.b.BatchChecks(h.ctx, false)
		if err != nil || len(checks) == 0 {
			h.t.Fatalf("%s: checks = %+v, %v", tc.name, checks, err)
		}
		if last := checks[len(checks)-1]; last.Check != tc.want || last.APIBatchID != apiBatch || !last.CheckedAt.Equal(start) {
			h.t.Fatalf("%s: check = %+v; want %q", tc.name, last, tc.want)
		}
		// A repeat of the summary changes nothing.
		h.journal("k2-"+tc.name, docuparse.Event{Event: docuparse.EventBatchCompleted, BatchID: apiBatch, Summary: &summary})
		applyPending(h)
	}
	mism, err := h.b.BatchChecks(h.ctx, true)
	if err != nil || len(mism) != 1 || mism[0].APIBatchID != "batch_disagrees" {
		h.t.Fatalf("mismatches = %+v, %v", mism, err)
	}
	wantStatuses(h, 0, store.EventApplied, store.EventDuplicate, store.EventApplied, store.EventDuplicate)
}

// A batch.completed that arrives before the submit answer is an orphan,
// queued again in the transaction that records the answer and applied by
// the next pass.
func earlyBatchSummary(h *harness) {
	a := h.queued(1)
	b := h.batch(store.ModeBatch, a)
	h.journal("sum", docuparse.Event{Event: docuparse.EventBatchCompleted, BatchID: "batch_1", Summary: &docuparse.Summary{Total: 1, Succeeded: 1}})
	h.journal("doc", docuparse.Event{Event: docuparse.EventDocumentCompleted, DocumentID: docID(a), Data: json.RawMessage(`{}`)})
	applyPending(h)
	if c := h.eventCounts(); c[store.EventOrphan] != 2 {
		h.t.Fatalf("events = %v, want 2 orphans", c)
	}
	h.submit(b, "batch_1", a)
	applyPending(h)
	wantStatuses(h, 0, store.EventApplied, store.EventApplied)
	h.wantState(a, store.StateCompleted)
	checks, _ := h.b.BatchChecks(h.ctx, false)
	if len(checks) != 1 || checks[0].Check != store.CheckMatch {
		h.t.Fatalf("checks = %+v, want a match", checks)
	}
}

func eventsListAndReplay(h *harness) {
	a := h.submitted(1)
	h.journal("applied", docuparse.Event{Event: docuparse.EventDocumentCompleted, DocumentID: docID(a), Data: json.RawMessage(`{}`)})
	h.journal("conflict", docuparse.Event{Event: docuparse.EventDocumentFailed, DocumentID: docID(a)})
	h.journal("orphan", docuparse.Event{Event: docuparse.EventDocumentCompleted, DocumentID: "doc_ghost"})
	h.journal("dead", docuparse.Event{Event: "document.exploded"})
	applyPending(h)
	all, err := h.b.Events(h.ctx, "", 10)
	h.must(err)
	if len(all) != 4 || all[0].DeliveryID != "dlv-applied" || all[0].Type != docuparse.EventDocumentCompleted ||
		all[0].DocumentID != docID(a) || !all[0].ReceivedAt.Equal(start) {
		h.t.Fatalf("events = %+v", all)
	}
	if last2, _ := h.b.Events(h.ctx, "", 2); len(last2) != 2 || last2[0].ID != all[2].ID || last2[1].ID != all[3].ID {
		h.t.Fatalf("the newest 2 events = %+v, want the last two oldest first", last2)
	}
	if orphans, _ := h.b.Events(h.ctx, store.EventOrphan, 10); len(orphans) != 1 || orphans[0].DocumentID != "doc_ghost" {
		h.t.Fatalf("orphans = %+v", orphans)
	}
	ids := []int64{all[0].ID, all[1].ID, all[2].ID, all[3].ID, 9999}
	st, err := h.b.EventStatuses(h.ctx, ids)
	h.must(err)
	want := map[int64]string{all[0].ID: store.EventApplied, all[1].ID: store.EventConflict, all[2].ID: store.EventOrphan, all[3].ID: store.EventDead}
	if fmt.Sprint(st) != fmt.Sprint(want) {
		h.t.Fatalf("statuses = %v, want %v", st, want)
	}
	if st, err := h.b.EventStatuses(h.ctx, nil); err != nil || len(st) != 0 {
		h.t.Fatalf("statuses of nothing = %v, %v", st, err)
	}
	// Replay puts back what did not apply, never what did.
	if n, err := h.b.ReplayEvents(h.ctx, ids); err != nil || n != 3 {
		h.t.Fatalf("replayed %d, %v; want 3", n, err)
	}
	if n, _ := h.b.ReplayEvents(h.ctx, nil); n != 0 {
		h.t.Fatalf("replayed %d of nothing", n)
	}
	if c := h.eventCounts(); c[store.EventPending] != 3 || c[store.EventApplied] != 1 {
		h.t.Fatalf("after replay: %v", c)
	}
	// Applying again changes no terminal outcome.
	if n := applyPending(h); n != 3 {
		h.t.Fatalf("applied %d replayed events, want 3", n)
	}
	st, _ = h.b.EventStatuses(h.ctx, ids)
	if fmt.Sprint(st) != fmt.Sprint(want) {
		h.t.Fatalf("statuses after replay = %v, want %v again", st, want)
	}
	h.wantState(a, store.StateCompleted)
}

func lastEventAndCounts(h *harness) {
	if at, err := h.b.LastEventAt(h.ctx); err != nil || !at.IsZero() {
		h.t.Fatalf("LastEventAt of an empty journal = %v, %v", at, err)
	}
	h.journal("a", docuparse.Event{Event: docuparse.EventDocumentCompleted, DocumentID: "doc_x"})
	h.clock.Advance(time.Minute)
	h.journal("b", docuparse.Event{Event: docuparse.EventDocumentCompleted, DocumentID: "doc_y"})
	if at, err := h.b.LastEventAt(h.ctx); err != nil || !at.Equal(start.Add(time.Minute)) {
		h.t.Fatalf("LastEventAt = %v, %v", at, err)
	}
	if c := h.eventCounts(); fmt.Sprint(c) != fmt.Sprint(map[string]int{store.EventPending: 2}) {
		h.t.Fatalf("counts = %v", c)
	}
	st, err := h.b.Status(h.ctx)
	h.must(err)
	if st.Events[store.EventPending] != 2 || !st.LastEvent.Equal(start.Add(time.Minute)) {
		h.t.Fatalf("status events %v, last %v", st.Events, st.LastEvent)
	}
	applyPending(h)
	keys := make([]string, 0)
	for k := range h.eventCounts() {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if fmt.Sprint(keys) != "[orphan]" {
		h.t.Fatalf("statuses after applying = %v, want orphans only", keys)
	}
}

// Moved from internal/store TestResubmittingABatchsLastPendingDocumentChecksTheBatch.
func resubmitChecksTheBatch(h *harness) {
	id := h.docIn(1, "submitted")
	body := `{"event":"batch.completed","batch_id":"batch_1","timestamp":"2026-11-28T10:00:00Z","summary":{"total":1,"succeeded":1,"failed":0}}`
	h.journalRaw("k1", body)
	applyPending(h)
	if checks, _ := h.b.BatchChecks(h.ctx, false); len(checks) != 0 {
		h.t.Fatalf("checked before its document was done: %+v", checks)
	}
	if _, err := h.b.Retry(h.ctx, id, store.RetryOptions{}); err != nil {
		h.t.Fatal(err)
	}
	checks, err := h.b.BatchChecks(h.ctx, false)
	if err != nil || len(checks) != 1 || !strings.HasPrefix(checks[0].Check, store.CheckMismatch) {
		h.t.Fatalf("batch checks = %+v, %v; want a mismatch (the API counted it, the daemon resubmitted it)", checks, err)
	}
}

// pendingActions reads the pending events and what each means, as the
// applier does.
func (h *harness) pendingActions() []store.EventAction {
	h.t.Helper()
	evs, err := h.b.PendingEvents(h.ctx, 1000)
	h.must(err)
	actions := make([]store.EventAction, len(evs))
	for i, e := range evs {
		actions[i] = receiver.ParseEvent(e.Body).Action(e.ID)
	}
	return actions
}

// Moved from internal/store: two appliers that read the same pending event
// (two passes racing, or two daemons sharing one database) apply it once:
// the second finds it no longer pending and changes nothing — not the
// event's status, not the document — and reports no transition or status.
func appliedOnceByTwoAppliers(h *harness) {
	a := h.submitted(1)
	h.journal("k1", docuparse.Event{Event: docuparse.EventDocumentCompleted, DocumentID: docID(a), Data: json.RawMessage(`{"total":"1"}`)})
	actions := h.pendingActions()
	if len(actions) != 1 {
		h.t.Fatalf("pending = %d, want one event", len(actions))
	}
	for i, want := range []int{1, 0} {
		if n, err := h.b.ApplyEvents(h.ctx, actions); err != nil || n != want {
			h.t.Fatalf("ApplyEvents #%d = %d, %v; want %d", i+1, n, err, want)
		}
	}
	if c := h.eventCounts(); fmt.Sprint(c) != fmt.Sprint(map[string]int{store.EventApplied: 1}) {
		h.t.Fatalf("events = %v, want the one event applied (not turned into a duplicate)", c)
	}
	completions := 0
	for _, tr := range h.transitions() {
		if tr.To == store.StateCompleted {
			completions++
		}
	}
	if st := h.eventStatuses(); fmt.Sprint(st) != "[applied]" || completions != 1 {
		h.t.Fatalf("reported statuses %v and %d completions, want [applied] and 1", st, completions)
	}
}

// Moved from internal/store: a dead action keeps its event, dead, with the
// note saying why, and changes nothing else.
func deadActionKeepsItsNote(h *harness) {
	h.journal("k1", docuparse.Event{Event: docuparse.EventDocumentCompleted})
	actions := h.pendingActions()
	if len(actions) != 1 || actions[0].Dead != "no document_id" {
		h.t.Fatalf("actions = %+v, want one dead for its missing document_id", actions)
	}
	if n, err := h.b.ApplyEvents(h.ctx, actions); err != nil || n != 1 {
		h.t.Fatalf("ApplyEvents = %d, %v", n, err)
	}
	evs, err := h.b.Events(h.ctx, store.EventDead, 10)
	if err != nil || len(evs) != 1 || evs[0].Note != "no document_id" {
		h.t.Fatalf("dead events = %+v, %v; want the event with its note", evs, err)
	}
}

// Moved from internal/store: an action that says nothing is refused, and
// nothing of its group is applied.
func emptyActionRefused(h *harness) {
	h.journal("k1", docuparse.Event{Event: "document.exploded"})
	h.journal("k2", docuparse.Event{Event: "document.exploded"})
	actions := h.pendingActions()
	if len(actions) != 2 {
		h.t.Fatalf("pending = %d, want 2", len(actions))
	}
	actions[1] = store.EventAction{EventID: actions[1].EventID}
	if _, err := h.b.ApplyEvents(h.ctx, actions); err == nil {
		h.t.Fatal("an action with nothing to apply was accepted")
	}
	if c := h.eventCounts(); c[store.EventPending] != 2 {
		h.t.Fatalf("events = %v, want both still pending", c)
	}
}

// Events apply in arrival order, whichever pass reads them. An orphan is
// queued again when its document's answer is recorded; a later event for
// the same document, read by an applier pass just before that, is not
// applied ahead of it: ApplyEvents applies nothing while an event older
// than its group is pending, and the applier reads again. Otherwise the
// later outcome would win over the first one to arrive.
func orphanBeforeLaterEvent(h *harness) {
	a := h.queued(1)
	batch := h.batch(store.ModeSingle, a)
	h.journal("k1", docuparse.Event{Event: docuparse.EventDocumentCompleted, DocumentID: "doc_a", Data: json.RawMessage(`{"total":"1"}`)})
	applyPending(h) // before the answer: an orphan
	h.journal("k2", docuparse.Event{Event: docuparse.EventDocumentFailed, DocumentID: "doc_a",
		Error: &docuparse.Error{Code: "EXTRACTION_FAILED", Message: "later, contradicting"}})
	read := h.pendingActions() // a pass reads the later event…
	if len(read) != 1 {
		h.t.Fatalf("pending = %d, want the later event alone", len(read))
	}
	// …the answer is recorded meanwhile, queuing the orphan again…
	h.must(h.b.RecordSubmitted(h.ctx, batch.ID, "", nil, []store.Submitted{{DocID: a, DocumentID: "doc_a"}}))
	// …and the pass applies what it read: nothing, an older event waits.
	n, err := h.b.ApplyEvents(h.ctx, read)
	h.must(err)
	if n != 0 {
		h.t.Fatalf("ApplyEvents applied %d ahead of an older pending event, want 0", n)
	}
	applyPending(h)
	if d := h.get(a); d.State != store.StateCompleted {
		h.t.Fatalf("document = %s, want completed: the first outcome to arrive wins", d.State)
	}
	if c := h.eventCounts(); c[store.EventApplied] != 1 || c[store.EventConflict] != 1 {
		h.t.Fatalf("events = %v, want the first applied and the later one a conflict", c)
	}
}
