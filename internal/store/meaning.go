package store

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"errors"
	"reflect"
)

// recordedOutcome is what a document's first terminal outcome said, as
// stored: where it came from, the completed result or the failure.
type recordedOutcome struct {
	via, data, code, message sql.NullString
	pruned                   sql.NullString // when [state] retention dropped the result data
}

// means reports whether r, an outcome of the same kind (to) as the one
// recorded, says the same thing: the same result data for a completed
// document, the same error for a failed one. Meaning, not bytes, decides:
// the same event re-serialised (another key order, other whitespace) or
// read back by a poll is a repeat, while a second document.completed with
// other data contradicts the first and is a conflict.
//
// An outcome the daemon set itself (a document resubmitted by `retry`,
// recorded failed with RESUBMITTED, has no result_via) carries nothing from
// the API to compare with: the same kind of outcome repeats it, as before.
// Nor does a completed document whose result data was pruned ([state]
// retention): a late repeat of its document.completed is a duplicate, not
// a contradiction of data the store no longer has.
func (o recordedOutcome) means(to State, r Result) bool {
	if !o.via.Valid || to == StateCompleted && o.pruned.Valid {
		return true
	}
	if to == StateFailed {
		return o.code.String == r.ErrorCode && o.message.String == r.ErrorMessage
	}
	return sameJSON([]byte(o.data.String), r.Data)
}

// sameJSON reports whether a and b are the same JSON value: objects with
// the same members in any order, numbers compared by their text. Absent,
// empty and null are the same (no data). Text that is not JSON is compared
// byte for byte.
func sameJSON(a, b []byte) bool {
	va, errA := decodeJSON(a)
	vb, errB := decodeJSON(b)
	if errA != nil || errB != nil {
		return bytes.Equal(bytes.TrimSpace(a), bytes.TrimSpace(b))
	}
	return reflect.DeepEqual(va, vb)
}

// decodeJSON decodes one JSON value, keeping numbers as their text; nil
// for no data.
func decodeJSON(b []byte) (any, error) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, errors.New("more than one JSON value")
	}
	return v, nil
}
