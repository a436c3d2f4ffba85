package receiver

import (
	"context"

	"github.com/docuparse/docuparse-ingest/internal/store"
)

// What the receiver needs from the state store. *store.Store implements
// both (checked in internal/store/storetest); a second backend does too.

// Journal is what the webhook handler needs: each verified delivery
// stored durably before it is answered 200, several in one transaction
// when they arrive together (group commit), a repeat of a recent one not
// stored again.
type Journal interface {
	JournalEvent(ctx context.Context, e store.IncomingEvent) (bool, error)
	JournalEvents(ctx context.Context, evs []store.IncomingEvent) ([]bool, error)
}

// EventStore is what the applier needs: the journaled events still
// pending, oldest first, and what each means (read by ParseEvent) applied
// in one transaction with the event's new status. ApplyEvents must claim
// each event (pending → its status) inside that transaction, so that two
// appliers never apply one event twice, and apply nothing (returning 0)
// when an event older than the group is pending again, so that events
// apply in arrival order.
type EventStore interface {
	PendingEvents(ctx context.Context, limit int) ([]store.PendingEvent, error)
	ApplyEvents(ctx context.Context, actions []store.EventAction) (int, error)
}
