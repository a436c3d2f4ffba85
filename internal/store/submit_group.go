package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
)

// A submit answer's statements, each run once for the answer: its
// documents as the batch holds them, the documents already holding the ids
// it gives, and its documents marked submitted (ids as JSON arrays through
// json_each). They replaced three statements per document.
const (
	qAnswerMembers = `SELECT id, path, source, state FROM documents
		WHERE batch_id = ? AND id IN (SELECT value FROM json_each(?))`
	qAnswerHolders = `SELECT id, path, document_id FROM documents
		WHERE document_id IN (SELECT value FROM json_each(?))`
	qMarkAnswered = `UPDATE documents SET state = 'submitted', outcome = NULL, document_id = j.value ->> 1,
		submitted_at = ?, updated_at = ? FROM json_each(?) j WHERE documents.id = j.value ->> 0`
)

// answerMember is a document of a submit answer as its batch holds it.
type answerMember struct {
	path, source string
	state        State
}

// idHolder is the document holding an API id.
type idHolder struct {
	id   int64
	path string
}

// recordAnswerTx records each document of a submit answer as submitted
// under its API id, or as failed when another document holds that id (see
// RecordSubmission), in order, as recordOneTx did one document at a time.
// It returns the transitions, the conflicts and the ids taken.
func (s *Store) recordAnswerTx(ctx context.Context, tx *sql.Tx, batchID int64, subs []Submitted) ([]Transition, []IDConflict, []string, error) {
	members, holders, err := s.answerStateTx(ctx, tx, batchID, subs)
	if err != nil {
		return nil, nil, nil, err
	}
	heldBy := make(map[int64]string, len(holders))
	for id, h := range holders {
		heldBy[h.id] = id
	}
	var (
		trs       []Transition
		conflicts []IDConflict
		taken     []string
		marks     [][2]any
		reordered bool // a document gives up an id another takes: mark one by one, in order
	)
	for _, sub := range subs {
		m, ok := members[sub.DocID]
		if !ok {
			return nil, nil, nil, fmt.Errorf("document %d is not in batch %d", sub.DocID, batchID)
		}
		// A file marked vanished after the request went out was uploaded
		// all the same: the API's answer is the truth.
		if m.state != StateSubmitting && m.state != StateVanished {
			continue
		}
		if h, held := holders[sub.DocumentID]; held && h.id != sub.DocID {
			c := IDConflict{DocID: sub.DocID, Path: m.path, DocumentID: sub.DocumentID, HolderID: h.id, HolderPath: h.path}
			tr, err := s.failIDConflictTx(ctx, tx, c, m.source, m.state)
			if err != nil {
				return nil, nil, nil, err
			}
			members[sub.DocID] = answerMember{m.path, m.source, StateFailed}
			trs, conflicts = append(trs, tr...), append(conflicts, c)
			continue
		}
		if old, ok := heldBy[sub.DocID]; ok && old != sub.DocumentID {
			delete(holders, old)
			reordered = true
		}
		holders[sub.DocumentID], heldBy[sub.DocID] = idHolder{sub.DocID, m.path}, sub.DocumentID
		members[sub.DocID] = answerMember{m.path, m.source, StateSubmitted}
		marks = append(marks, [2]any{sub.DocID, sub.DocumentID})
		trs = append(trs, Transition{DocID: sub.DocID, Source: m.source, Path: m.path, From: m.state, To: StateSubmitted, DocumentID: sub.DocumentID})
		taken = append(taken, sub.DocumentID)
	}
	return trs, conflicts, taken, s.markAnsweredTx(ctx, tx, marks, reordered)
}

// answerStateTx reads, with one query each, the answer's documents in the
// batch and the documents holding the ids it gives.
func (s *Store) answerStateTx(ctx context.Context, tx *sql.Tx, batchID int64, subs []Submitted) (map[int64]answerMember, map[string]idHolder, error) {
	ids, docIDs := make([]int64, len(subs)), make([]string, len(subs))
	for i, sub := range subs {
		ids[i], docIDs[i] = sub.DocID, sub.DocumentID
	}
	idList, err := json.Marshal(ids)
	if err != nil {
		return nil, nil, err
	}
	docIDList, err := json.Marshal(docIDs)
	if err != nil {
		return nil, nil, err
	}
	members := make(map[int64]answerMember, len(subs))
	err = s.eachRowTx(ctx, tx, func(sc rowScanner) error {
		var id int64
		var m answerMember
		err := sc.Scan(&id, &m.path, &m.source, &m.state)
		members[id] = m
		return err
	}, qAnswerMembers, batchID, string(idList))
	if err != nil {
		return nil, nil, err
	}
	holders := make(map[string]idHolder, len(subs))
	err = s.eachRowTx(ctx, tx, func(sc rowScanner) error {
		var h idHolder
		var docID string
		err := sc.Scan(&h.id, &h.path, &docID)
		holders[docID] = h
		return err
	}, qAnswerHolders, string(docIDList))
	return members, holders, err
}

// markAnsweredTx marks the documents of marks (id, API id) submitted: with
// one statement, or one per document in the answer's order when a
// document gives up an id another takes (the ids are unique, and one
// statement would update its rows in no set order).
func (s *Store) markAnsweredTx(ctx context.Context, tx *sql.Tx, marks [][2]any, ordered bool) error {
	now := s.now()
	if ordered {
		for _, m := range marks {
			if _, err := s.execTx(ctx, tx, qMarkSubmitted, m[1], now, now, m[0]); err != nil {
				return fmt.Errorf("record %s: %w", m[1], err)
			}
		}
		return nil
	}
	if len(marks) == 0 {
		return nil
	}
	list, err := json.Marshal(marks)
	if err != nil {
		return err
	}
	_, err = s.execTx(ctx, tx, qMarkAnswered, now, now, string(list))
	return err
}
