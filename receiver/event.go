package receiver

import (
	"encoding/json"

	"github.com/docuparse/docuparse-ingest/internal/docuparse"
	"github.com/docuparse/docuparse-ingest/internal/store"
)

// Why an event is dead: the note it is kept with.
const (
	noteUnparseable = "unparseable: " // followed by the JSON error
	noteUnknownType = "unknown event type"
	noteNoDocument  = "no document_id"
	noteNoSummary   = "no batch_id or summary"
)

// Event is a verified webhook body, read once: what the journal indexes
// and what applying it means. Exactly one of Dead, Result and Summary is
// set.
type Event struct {
	// Type, DocumentID, BatchID and Timestamp are as the body has them,
	// unclipped ("" for a body that is not a JSON event).
	Type, DocumentID, BatchID, Timestamp string

	Dead    string              // why it cannot be applied: its note
	Result  *store.Result       // document.completed or document.failed
	Summary *store.BatchSummary // batch.completed

	parseErr error // the body is not a JSON event
}

// ParseEvent reads a verified webhook body and says what it means: a
// document's terminal outcome, a batch's summary, or a dead event with the
// reason.
func ParseEvent(body []byte) Event {
	var e docuparse.Event
	if err := json.Unmarshal(body, &e); err != nil {
		// Fields decoded before a type error are not the event's.
		return Event{Dead: noteUnparseable + err.Error(), parseErr: err}
	}
	ev := Event{Type: e.Event, DocumentID: e.DocumentID, BatchID: e.BatchID, Timestamp: e.Timestamp}
	switch e.Event {
	case docuparse.EventDocumentCompleted, docuparse.EventDocumentFailed:
		if e.DocumentID == "" {
			ev.Dead = noteNoDocument
			return ev
		}
		r := store.Result{DocumentID: e.DocumentID, Via: store.ViaWebhook, APITimestamp: e.Timestamp}
		if e.Event == docuparse.EventDocumentCompleted {
			r.Status, r.Data = docuparse.StatusCompleted, e.Data
		} else {
			r.Status = docuparse.StatusFailed
			if e.Error != nil {
				r.ErrorCode, r.ErrorMessage = e.Error.Code, e.Error.Message
			}
		}
		ev.Result = &r
	case docuparse.EventBatchCompleted:
		if e.BatchID == "" || e.Summary == nil {
			ev.Dead = noteNoSummary
			return ev
		}
		summary, _ := json.Marshal(e.Summary) // a struct of numbers: cannot fail
		ev.Summary = &store.BatchSummary{APIBatchID: e.BatchID, Summary: string(summary)}
	default:
		ev.Dead = noteUnknownType
	}
	return ev
}

// deadOnArrival reports whether the event is journaled dead at once: its
// body is not a JSON event, or its type is not one the daemon knows. An
// event of a known type missing a field is journaled pending and found
// dead when applied.
func (e Event) deadOnArrival() bool {
	return e.parseErr != nil || e.Dead == noteUnknownType
}

// Action is what applying e, journaled as event id, does to the store.
func (e Event) Action(id int64) store.EventAction {
	return store.EventAction{EventID: id, Dead: e.Dead, Result: e.Result, Summary: e.Summary}
}
