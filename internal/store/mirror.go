package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// MirrorObject is one object of the output mirror (internal/mirror): an
// output file, and the bytes intended for its key in output_url's bucket.
type MirrorObject struct {
	Key       string // below the bucket URL's prefix, e.g. "results/2026-11-28/doc_x.json"
	Kind      string // result | csv | report
	LocalPath string // relative to output_dir, with "/"
	Size      int64
	SHA256    string // hex
	// Mirrored is when the bucket was known to hold the bytes; zero while
	// the object is only intended.
	Mirrored time.Time
	Conflict string // why the key holds other bytes; "" when it does not
}

// IntendMirror records o as intended, before any byte of it is uploaded:
// the intention the uploader resumes after a crash. A key already recorded
// (intended, mirrored or in conflict) is left as it is; the answer says
// whether o was recorded.
func (s *Store) IntendMirror(ctx context.Context, o MirrorObject) (bool, error) {
	var n int64
	err := s.tx(ctx, func(tx *sql.Tx) error {
		r, err := tx.ExecContext(ctx, `INSERT INTO mirror (object_key, kind, local_rel_path, size, sha256, intended_at)
			VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (object_key) DO NOTHING`, o.Key, o.Kind, o.LocalPath, o.Size, o.SHA256, s.now())
		if err != nil {
			return err
		}
		n, err = r.RowsAffected()
		return err
	})
	if err != nil {
		return false, fmt.Errorf("record mirror of %s: %w", o.Key, err)
	}
	return n > 0, nil
}

// MirrorKnown returns which of keys the mirror has a row for, in any state.
func (s *Store) MirrorKnown(ctx context.Context, keys []string) (map[string]bool, error) {
	known := make(map[string]bool, len(keys))
	for len(keys) > 0 {
		part := keys[:min(len(keys), 500)]
		keys = keys[len(part):]
		args := make([]any, len(part))
		for i, k := range part {
			args[i] = k
		}
		rows, err := s.r.QueryContext(ctx, `SELECT object_key FROM mirror WHERE object_key IN (?`+
			strings.Repeat(", ?", len(part)-1)+`)`, args...)
		if err != nil {
			return nil, fmt.Errorf("mirror keys: %w", err)
		}
		for rows.Next() {
			var k string
			if err := rows.Scan(&k); err != nil {
				rows.Close()
				return nil, fmt.Errorf("mirror keys: %w", err)
			}
			known[k] = true
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("mirror keys: %w", err)
		}
	}
	return known, nil
}

const mirrorColumns = `object_key, kind, local_rel_path, size, sha256, mirrored_at, conflict`

func scanMirror(rows *sql.Rows) (MirrorObject, error) {
	var o MirrorObject
	var at, conflict sql.NullString
	err := rows.Scan(&o.Key, &o.Kind, &o.LocalPath, &o.Size, &o.SHA256, &at, &conflict)
	o.Mirrored, o.Conflict = parseTime(at), conflict.String
	return o, err
}

func (s *Store) mirrorRows(ctx context.Context, query string, args ...any) ([]MirrorObject, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+mirrorColumns+` FROM mirror `+query, args...)
	if err != nil {
		return nil, fmt.Errorf("mirror: %w", err)
	}
	defer rows.Close()
	var out []MirrorObject
	for rows.Next() {
		o, err := scanMirror(rows)
		if err != nil {
			return nil, fmt.Errorf("mirror: %w", err)
		}
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("mirror: %w", err)
	}
	return out, nil
}

// MirrorPending returns up to limit objects intended and not yet known
// mirrored (nor in conflict), oldest intention first.
func (s *Store) MirrorPending(ctx context.Context, limit int) ([]MirrorObject, error) {
	return s.mirrorRows(ctx, `WHERE mirrored_at IS NULL AND conflict IS NULL ORDER BY intended_at, object_key LIMIT ?`, limit)
}

// MirrorVersions returns every object recorded for one local file (a
// report rewritten has several), oldest first.
func (s *Store) MirrorVersions(ctx context.Context, localPath string) ([]MirrorObject, error) {
	return s.mirrorRows(ctx, `WHERE local_rel_path = ? ORDER BY intended_at, object_key`, localPath)
}

// MirrorPendingCount returns how many objects wait to be mirrored.
func (s *Store) MirrorPendingCount(ctx context.Context) (int, error) {
	var n int
	err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM mirror WHERE mirrored_at IS NULL AND conflict IS NULL`).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("mirror backlog: %w", err)
	}
	return n, nil
}

// MirrorDone records that the bucket holds key's intended bytes.
func (s *Store) MirrorDone(ctx context.Context, key string) error {
	return s.mirrorSet(ctx, `UPDATE mirror SET mirrored_at = ? WHERE object_key = ? AND mirrored_at IS NULL`, s.now(), key)
}

// MirrorConflict records that key holds other bytes than intended.
func (s *Store) MirrorConflict(ctx context.Context, key, why string) error {
	return s.mirrorSet(ctx, `UPDATE mirror SET conflict = ? WHERE object_key = ? AND mirrored_at IS NULL`, why, key)
}

// MirrorDrop forgets an intention that was not uploaded (its local file
// changed before its upload): the file is found and intended again.
func (s *Store) MirrorDrop(ctx context.Context, key string) error {
	return s.mirrorSet(ctx, `DELETE FROM mirror WHERE object_key = ? AND mirrored_at IS NULL`, key)
}

func (s *Store) mirrorSet(ctx context.Context, query string, args ...any) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, query, args...)
		return err
	})
	if err != nil {
		return fmt.Errorf("mirror: %w", err)
	}
	return nil
}

// ExportPendingBetween returns how many documents that ended in [from, to)
// (their completed_at) are not exported yet: held, waiting for an
// original's id, or not reached by the exporter. While there are any, the
// CSV files of that day may still grow.
func (s *Store) ExportPendingBetween(ctx context.Context, from, to time.Time) (int, error) {
	var n int
	err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM documents
		WHERE state IN ('completed', 'failed', 'rejected', 'duplicate') AND completed_at >= ? AND completed_at < ?`,
		formatTime(from), formatTime(to)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("documents awaiting export: %w", err)
	}
	return n, nil
}
