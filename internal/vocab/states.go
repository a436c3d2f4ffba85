package vocab

// State is a document's state in the store. The state machine, and which
// transitions it allows, is the store's (docs/ARCHITECTURE.md).
type State string

// Document states.
const (
	// StateQueued: taken in, waiting to be put in a batch.
	StateQueued State = "queued"
	// StateSubmitting: in a batch whose upload is intended or under way;
	// the API may have it.
	StateSubmitting State = "submitting"
	// StateSubmitted: the API answered with its document id; waiting for
	// the outcome by webhook or poll.
	StateSubmitted State = "submitted"
	// StateCompleted: the API extracted it; waiting for export.
	StateCompleted State = "completed"
	// StateFailed: the API (or the daemon) gave it up; waiting for export.
	StateFailed State = "failed"
	// StateRejected: refused locally or by the API (an error code says
	// why); waiting for export.
	StateRejected State = "rejected"
	// StateDuplicate: the same content as an earlier document, never
	// uploaded; waiting for export.
	StateDuplicate State = "duplicate"
	// StateVanished: the file went away before it could be read or sent.
	StateVanished State = "vanished"
	// StateExported: its outcome is in the outputs; nothing more happens.
	StateExported State = "exported"
)

// States lists every state in pipeline order, for reports and metrics.
var States = []State{StateQueued, StateSubmitting, StateSubmitted, StateCompleted,
	StateFailed, StateRejected, StateDuplicate, StateVanished, StateExported}

// Statuses of an event in the webhook journal.
const (
	// EventPending: journaled, not applied yet.
	EventPending = "pending"
	// EventOrphan: names a document or batch not recorded yet; applied
	// when it is.
	EventOrphan = "orphan"
	// EventApplied: changed a document's state.
	EventApplied = "applied"
	// EventDuplicate: the same outcome was already recorded; changed
	// nothing.
	EventDuplicate = "duplicate"
	// EventConflict: contradicts the first terminal outcome; kept, not
	// applied.
	EventConflict = "conflict"
	// EventDead: an unknown type or an unparseable body; kept for the
	// operator.
	EventDead = "dead"
)

// EventStatuses lists every journal event status.
var EventStatuses = []string{EventPending, EventOrphan, EventApplied, EventDuplicate, EventConflict, EventDead}

// Result channels: how a terminal API outcome reached the daemon (the
// result_via of the outputs).
const (
	// ViaWebhook: a signed webhook delivery.
	ViaWebhook = "webhook"
	// ViaPoll: the poller's GET /documents/{id}.
	ViaPoll = "poll"
)
