package ingest

import (
	"fmt"
	"os"
	"time"
)

// openUnchanged opens path and checks that it is still a regular file with
// the given size and modification time (compared at the store's microsecond
// precision). A mismatch returns errChanged, so content that changed after
// it was hashed is never uploaded under the old hash.
func openUnchanged(path string, size int64, mtime time.Time) (*os.File, error) {
	// Check before opening: opening a FIFO put in the file's place would
	// block until something writes to it.
	if fi, err := os.Stat(path); err != nil {
		return nil, err
	} else if !fi.Mode().IsRegular() {
		return nil, errChanged
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("stat %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() || fi.Size() != size || !sameTime(fi.ModTime(), mtime) {
		f.Close()
		return nil, errChanged
	}
	return f, nil
}

func sameTime(a, b time.Time) bool {
	return a.Truncate(time.Microsecond).Equal(b.Truncate(time.Microsecond))
}
