package store

import "slices"

// Outcomes lists the ways a document ends, in report order. A document
// keeps its outcome (the outcome column) once it is exported.
var Outcomes = []State{StateCompleted, StateFailed, StateRejected, StateDuplicate, StateVanished}

// InFlight lists the states of a document on its way to an outcome.
var InFlight = []State{StateQueued, StateSubmitting, StateSubmitted}

// IsOutcome reports whether entering st ends a document (one of Outcomes).
func IsOutcome(st State) bool { return slices.Contains(Outcomes, st) }

// Tally counts documents by how they ended and, for the others, where they
// are.
type Tally struct {
	// Ended counts documents by outcome, exported or not; every one of
	// Outcomes is present.
	Ended map[State]int
	// InFlight counts documents without an outcome yet, by state; every
	// one of InFlight is present.
	InFlight map[State]int
	// AwaitingExport counts documents that ended (completed, failed,
	// rejected, duplicate) and are not written to the outputs yet. They
	// are counted in Ended as well.
	AwaitingExport int
}

func newTally() Tally {
	t := Tally{Ended: map[State]int{}, InFlight: map[State]int{}}
	for _, o := range Outcomes {
		t.Ended[o] = 0
	}
	for _, s := range InFlight {
		t.InFlight[s] = 0
	}
	return t
}

// DayTallies is a Tally of every document, and one of a day's.
type DayTallies struct {
	Total Tally
	// Today counts the documents that ended in the day and, in flight,
	// those taken in during it.
	Today Tally
}

// OutcomeCounts is how documents ended and what is in flight, in all and
// per source.
type OutcomeCounts struct {
	All     DayTallies
	Sources map[string]*DayTallies

	// For Status: the documents by state, and those with an outcome by
	// it, only the counts above 0.
	byState, byOutcome map[State]int
}

// add counts n documents in state with outcome (empty while in flight).
func (t *Tally) add(state, outcome State, n int) {
	switch {
	case slices.Contains(InFlight, state):
		t.InFlight[state] += n
	case IsOutcome(outcome):
		t.Ended[outcome] += n
		if state != StateExported && state != StateVanished {
			t.AwaitingExport += n
		}
	case IsOutcome(state):
		// Every transition into an outcome records it; a row without one
		// is still counted by its state.
		t.Ended[state] += n
		if state != StateVanished {
			t.AwaitingExport += n
		}
	}
}
