package vocab

// Reasons a webhook delivery is refused before anything is stored. Each is
// the receiver's reason, the docuparse_webhook_deliveries_total outcome
// label as is, and, after RefusalCounterPrefix, a daily counter name.
const (
	// RefusedBadSignature: a missing or wrong signature, answered 401.
	RefusedBadSignature = "bad_signature"
	// RefusedTooLarge: a body over receiver.max_body, answered 413.
	RefusedTooLarge = "too_large"
	// RefusedBadRequest: not a delivery (a wrong method or content type,
	// or an unreadable body): 405, 415 or 400.
	RefusedBadRequest = "bad_request"
	// RefusedStoreError: verified but not stored: answered 503, the API
	// retries.
	RefusedStoreError = "store_error"
	// RefusedOverloaded: the budget of unverified bodies is spent: 503.
	RefusedOverloaded = "overloaded"
	// RefusedSlowBody: the body did not arrive in time: 408.
	RefusedSlowBody = "slow_body"
	// RefusedBusy: every slot for verified deliveries is taken: 503.
	RefusedBusy = "busy"
	// RefusedStaleTimestamp: verified, but stamped before the replay
	// window: 400.
	RefusedStaleTimestamp = "stale_timestamp"
	// RefusedFutureTimestamp: verified, but stamped too far ahead of this
	// clock: 400.
	RefusedFutureTimestamp = "future_timestamp"
)

// Refusals lists every webhook refusal reason.
var Refusals = []string{RefusedBadSignature, RefusedTooLarge, RefusedBadRequest, RefusedStoreError,
	RefusedOverloaded, RefusedSlowBody, RefusedBusy, RefusedStaleTimestamp, RefusedFutureTimestamp}

// RefusalCounterPrefix begins the daily counter of each refusal reason
// (webhook_bad_signature, …), which the nightly report reads.
const RefusalCounterPrefix = "webhook_"

// RefusalCounter is the daily counter name of a refusal reason.
func RefusalCounter(reason string) string { return RefusalCounterPrefix + reason }
