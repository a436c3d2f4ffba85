package store

import (
	"context"
	"database/sql"
	"encoding/json"
)

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
	rows, err := s.queryTx(ctx, tx, qClaimEvents, s.now(), string(list))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	claimed := make(map[int64]bool, len(actions))
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		claimed[id] = true
	}
	return claimed, rows.Err()
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
