package receiver

// DefaultMaxInFlight is how many verified deliveries are journaled at once
// unless HandlerConfig.MaxInFlight says otherwise.
const DefaultMaxInFlight = 256

// slots bounds the verified deliveries in flight. A delivery that finds
// every slot taken is refused at once (503, Retry-After: 1; the API
// retries it), never queued: goroutines waiting on the journal and the
// bodies they hold do not grow past the bound. Only a request whose
// signature was verified takes a slot, so no outsider can hold one.
type slots chan struct{}

// take takes a slot if one is free and reports whether it did.
func (s slots) take() bool {
	select {
	case s <- struct{}{}:
		return true
	default:
		return false
	}
}

// give gives back a slot taken before.
func (s slots) give() { <-s }
