package ingest

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// Roots maps source names to their folders. Files are opened through an
// os.Root on their source's folder, so a symlink dropped in the inbox (or a
// folder swapped for one) cannot make the daemon read, hash or upload a
// file from outside it — the service's credentials, say.
type Roots struct {
	mu sync.RWMutex
	m  map[string]string
}

// NewRoots returns Roots for the given source name → folder map.
func NewRoots(m map[string]string) *Roots {
	r := &Roots{}
	r.Set(m)
	return r
}

// Set replaces the map (a reload).
func (r *Roots) Set(m map[string]string) {
	r.mu.Lock()
	r.m = m
	r.mu.Unlock()
}

// rootOf returns the folder a file must stay within: its source's, or, for
// a source no longer configured, the file's own directory.
func (r *Roots) rootOf(source, path string) string {
	if r != nil {
		r.mu.RLock()
		root, ok := r.m[source]
		r.mu.RUnlock()
		if ok {
			if rel, err := filepath.Rel(root, path); err == nil && filepath.IsLocal(rel) {
				return root
			}
		}
	}
	return filepath.Dir(path)
}

// openUnchanged opens the file at path within its source's folder and
// checks that it is still a regular file with the given size and
// modification time (at the store's microsecond precision). A mismatch
// returns errChanged, so content that changed after it was hashed is never
// uploaded under the old hash. It never blocks on a FIFO put in the file's
// place (O_NONBLOCK; the type is checked on the open descriptor).
func (r *Roots) openUnchanged(source, path string, size int64, mtime time.Time) (*os.File, error) {
	rootDir := r.rootOf(source, path)
	rel, err := filepath.Rel(rootDir, path)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	root, err := os.OpenRoot(rootDir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	f, err := root.OpenFile(rel, os.O_RDONLY|syscall.O_NONBLOCK, 0)
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
