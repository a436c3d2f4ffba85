package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
)

// applyGroupTx applies a group of events in order (see ApplyEvents): the
// events still pending are claimed, each applied, and their statuses
// recorded, with one statement each for the claim and the statuses; each
// batch whose documents took an outcome is then checked against its
// summary once, with the group's outcomes all in, rather than after each
// document. It returns the transitions and the statuses the events took.
func (s *Store) applyGroupTx(ctx context.Context, tx *sql.Tx, actions []EventAction) ([]Transition, []string, error) {
	claimed, err := s.claimEventsTx(ctx, tx, actions)
	if err != nil {
		return nil, nil, err
	}
	var (
		trs      []Transition
		statuses []string
		done     []eventDone
		checks   = map[int64]bool{}
	)
	for _, a := range actions {
		if !claimed[a.EventID] {
			continue // no longer pending, or twice in actions
		}
		delete(claimed, a.EventID)
		tr, status, err := s.applyEventTx(ctx, tx, a, checks)
		if err != nil {
			return nil, nil, fmt.Errorf("event %d: %w", a.EventID, err)
		}
		if tr != nil {
			trs = append(trs, *tr)
		}
		statuses = append(statuses, status)
		done = append(done, eventDone{a.EventID, status, a.Dead})
	}
	if err := s.eventsDoneTx(ctx, tx, done); err != nil {
		return nil, nil, err
	}
	batches := make([]int64, 0, len(checks))
	for id := range checks {
		batches = append(batches, id)
	}
	slices.Sort(batches)
	for _, id := range batches {
		if err := s.checkBatchTx(ctx, tx, id); err != nil {
			return nil, nil, err
		}
	}
	return trs, statuses, nil
}

// claimEventsTx claims, with one statement, the events of actions still
// pending, and returns their ids. On SQLite the one writer's transaction
// holds them; an event no longer pending (another applier took it) is
// left out, so it is never applied twice.
func (s *Store) claimEventsTx(ctx context.Context, tx *sql.Tx, actions []EventAction) (map[int64]bool, error) {
	ids := make([]int64, len(actions))
	for i, a := range actions {
		ids[i] = a.EventID
	}
	list, err := json.Marshal(ids)
	if err != nil {
		return nil, err
	}
	claimed := make(map[int64]bool, len(actions))
	err = s.eachRowTx(ctx, tx, func(sc rowScanner) error {
		var id int64
		err := sc.Scan(&id)
		claimed[id] = true
		return err
	}, qClaimEvents, s.now(), string(list))
	return claimed, err
}

// eventDone is the status an applied event takes, and its note (why a
// dead event cannot be applied; "" for none).
type eventDone struct {
	id           int64
	status, note string
}

// eventsDoneTx records the status of each event of a group with one
// statement.
func (s *Store) eventsDoneTx(ctx context.Context, tx *sql.Tx, done []eventDone) error {
	if len(done) == 0 {
		return nil
	}
	rows := make([][3]any, len(done))
	for i, d := range done {
		rows[i] = [3]any{d.id, d.status, nil}
		if d.note != "" {
			rows[i][2] = d.note
		}
	}
	list, err := json.Marshal(rows)
	if err != nil {
		return err
	}
	_, err = s.execTx(ctx, tx, qEventsDone, s.now(), string(list))
	return err
}
