package ingest

import (
	"time"

	"github.com/docuparse/docuparse-ingest/internal/store"
)

// Candidate is a file that has settled: its size and modification time were
// observed unchanged for the source's settle time. A Candidate says nothing
// about the file's content; hashing, deduplication and recording it in the
// store happen downstream.
type Candidate struct {
	Source  string    // source name from the configuration
	Path    string    // absolute path of the file (the `source` column of documents-*.csv)
	Name    string    // base name of Path (the `file_name` column)
	Size    int64     // size in bytes when it settled; for a symlink, the link's own
	ModTime time.Time // modification time when it settled; for a symlink, the link's own
	// FileID is the file's device, inode and change time when it settled:
	// with size and mtime, what "unchanged" compares.
	store.FileID
}

// emptySince is when an empty file is known to have been empty since: its
// modification time, or its change time when later. A file moved or
// linked into the inbox keeps its old modification time, but the move
// sets its change time: the wait for its content starts there, not years
// ago. A bucket object has no change time.
func (c Candidate) emptySince() time.Time {
	if c.ChangeTime.After(c.ModTime) {
		return c.ChangeTime
	}
	return c.ModTime
}
