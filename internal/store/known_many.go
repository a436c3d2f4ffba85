package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// KnownFile is one file (or bucket object) as Known compares it.
type KnownFile struct {
	Path    string
	Size    int64
	ModTime time.Time
	FileID  FileID
}

// knownChunk bounds the paths one KnownMany query asks about (a listing
// page is at most 1,000 objects; SQLite and PostgreSQL take far more
// parameters than that).
const knownChunk = 1000

// KnownMany is Known for many files of one source: known[i] answers for
// files[i], with one query per 1,000 files instead of one per file. A
// bucket source asks it once per listed page, so a steady-state listing of
// a large prefix costs the store a query per page.
func (s *Store) KnownMany(ctx context.Context, source string, files []KnownFile) ([]bool, error) {
	known := make([]bool, len(files))
	for start := 0; start < len(files); start += knownChunk {
		chunk := files[start:min(start+knownChunk, len(files))]
		latest, err := s.latestByPath(ctx, source, chunk)
		if err != nil {
			return nil, err
		}
		for i, f := range chunk {
			r, ok := latest[f.Path]
			known[start+i] = ok && r.size == f.Size && r.mtime == formatTime(f.ModTime) && r.id.Same(f.FileID)
		}
	}
	return known, nil
}

// recorded is what the store holds of a path's latest document.
type recorded struct {
	size  int64
	mtime string
	id    FileID
}

// latestByPath returns, for each path of files that has a document not
// vanished, its latest document's size, mtime and identity (as Known).
func (s *Store) latestByPath(ctx context.Context, source string, files []KnownFile) (map[string]recorded, error) {
	args := make([]any, 0, len(files)+1)
	args = append(args, source)
	for _, f := range files {
		args = append(args, f.Path)
	}
	rows, err := s.r.QueryContext(ctx, `SELECT path, size_bytes, mtime, dev, inode, ctime, version FROM documents
		WHERE source = ? AND path IN (`+placeholders(len(files))+`) AND state <> 'vanished' ORDER BY id`, args...)
	if err != nil {
		return nil, fmt.Errorf("look up %d paths: %w", len(files), err)
	}
	defer rows.Close()
	out := make(map[string]recorded, len(files))
	for rows.Next() {
		var (
			p              string
			r              recorded
			dev, inode     sql.NullInt64
			ctime, version sql.NullString
		)
		if err := rows.Scan(&p, &r.size, &r.mtime, &dev, &inode, &ctime, &version); err != nil {
			return nil, fmt.Errorf("look up %d paths: %w", len(files), err)
		}
		r.id = scanFileID(dev, inode, ctime, version)
		out[p] = r // ordered by id: the latest wins
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("look up %d paths: %w", len(files), err)
	}
	return out, nil
}
