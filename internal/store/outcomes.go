package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"time"
)

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
}

// CountOutcomes counts the documents by how they ended (whether exported
// since or not) and what is still in flight, in all and per source; "today"
// is [dayStart, dayEnd): documents whose outcome was recorded then and, in
// flight, those taken in then.
func (s *Store) CountOutcomes(ctx context.Context, dayStart, dayEnd time.Time) (*OutcomeCounts, error) {
	from, to := formatTime(dayStart), formatTime(dayEnd)
	rows, err := s.r.QueryContext(ctx, `SELECT source, state, outcome,
		CASE WHEN state IN ('queued', 'submitting', 'submitted')
		     THEN CASE WHEN discovered_at >= ? AND discovered_at < ? THEN 1 ELSE 0 END
		     ELSE CASE WHEN completed_at >= ? AND completed_at < ? THEN 1 ELSE 0 END END,
		COUNT(*)
		FROM documents GROUP BY 1, 2, 3, 4`, from, to, from, to)
	if err != nil {
		return nil, fmt.Errorf("count outcomes: %w", err)
	}
	defer rows.Close()
	out := &OutcomeCounts{All: DayTallies{Total: newTally(), Today: newTally()}, Sources: map[string]*DayTallies{}}
	for rows.Next() {
		var (
			src          string
			state        State
			outcome      sql.NullString
			today, count int
		)
		if err := rows.Scan(&src, &state, &outcome, &today, &count); err != nil {
			return nil, fmt.Errorf("count outcomes: %w", err)
		}
		if out.Sources[src] == nil {
			out.Sources[src] = &DayTallies{Total: newTally(), Today: newTally()}
		}
		for _, t := range []*DayTallies{&out.All, out.Sources[src]} {
			t.Total.add(state, State(outcome.String), count)
			if today == 1 {
				t.Today.add(state, State(outcome.String), count)
			}
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count outcomes: %w", err)
	}
	return out, nil
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
