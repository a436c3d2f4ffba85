package store

import "context"

// recentWindow is how many of the latest journaled events' dedupe keys the
// journal remembers, about 6.6 MB of them. It is a count, not a span of
// time: the API retries an event for about a day, so below ~65,000 events
// a day every retry falls inside it; at a higher rate the window covers
// less (a minute at the receiver benchmark's 20,000 a second) and a later
// retry is stored again and applied as a duplicate.
const recentWindow = 1 << 16

// recentKeys is the journal's memory of the dedupe keys it stored last,
// oldest first in a ring. It lets JournalEvents tell a repeat without a
// unique index: inserting into an index of random SHA-256 keys dirtied
// one page per delivery, which made it the largest cost of the receiver's
// hot path (docs/benchmarks.md). It is an optimisation, never the
// guarantee: a repeat older than the window is journaled again, and the
// state machine finds it a duplicate when it is applied (the first
// terminal outcome wins), exactly as for a repeat with different bytes.
//
// It is not safe for concurrent use; JournalEvents holds journalMu.
type recentKeys struct {
	set  map[string]struct{}
	ring []string
	next int // where the next key goes once the ring is full
}

func newRecentKeys(capacity int) *recentKeys {
	return &recentKeys{set: make(map[string]struct{}, capacity), ring: make([]string, 0, capacity)}
}

func (r *recentKeys) contains(k string) bool {
	_, ok := r.set[k]
	return ok
}

// add remembers k, forgetting the oldest key when the window is full. A
// key it holds already is not added twice (the journal may hold an old
// repeat), so the set and the ring always hold the same keys.
func (r *recentKeys) add(k string) {
	if r.contains(k) {
		return
	}
	if len(r.ring) < cap(r.ring) {
		r.ring = append(r.ring, k)
		r.set[k] = struct{}{}
		return
	}
	delete(r.set, r.ring[r.next])
	r.ring[r.next] = k
	r.set[k] = struct{}{}
	r.next = (r.next + 1) % len(r.ring)
}

// loadRecentKeys fills the window from the journal's latest events, so a
// restart forgets nothing the window held. The caller holds journalMu.
func (s *Store) loadRecentKeys(ctx context.Context, capacity int) error {
	rows, err := s.r.QueryContext(ctx, `SELECT dedupe_key FROM events ORDER BY id DESC LIMIT ?`, capacity)
	if err != nil {
		return err
	}
	defer rows.Close()
	var keys []string
	for rows.Next() {
		var k []byte
		if err := rows.Scan(&k); err != nil {
			return err
		}
		keys = append(keys, string(k))
	}
	if err := rows.Err(); err != nil {
		return err
	}
	s.recent = newRecentKeys(capacity)
	for i := len(keys) - 1; i >= 0; i-- {
		s.recent.add(keys[i])
	}
	return nil
}
