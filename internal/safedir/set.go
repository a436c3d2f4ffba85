package safedir

import (
	"errors"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sync"
)

// Set holds the pins of the daemon's folders, one per path, shared by every
// part that acts in them (the folder watcher, intake, the uploads, the
// after-actions), so all of them refuse a replaced folder together.
type Set struct {
	log  *slog.Logger
	mu   sync.Mutex
	dirs map[string]*Dir
}

// NewSet returns an empty Set logging to log.
func NewSet(log *slog.Logger) *Set {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Set{log: log, dirs: map[string]*Dir{}}
}

// Pin returns the pin of the folder at path, pinning it now if it is not
// pinned yet.
func (s *Set) Pin(path string) (*Dir, error) {
	path = filepath.Clean(path)
	s.mu.Lock()
	defer s.mu.Unlock()
	if d, ok := s.dirs[path]; ok {
		return d, nil
	}
	d, err := Open(path, s.log)
	if err != nil {
		return nil, err
	}
	s.dirs[path] = d
	return d, nil
}

// PinCreate is Pin for a folder the daemon may create (move_to): a missing
// folder is created first, with mode perm, on the operator's path.
func (s *Set) PinCreate(path string, perm os.FileMode) (*Dir, error) {
	s.mu.Lock()
	_, ok := s.dirs[filepath.Clean(path)]
	s.mu.Unlock()
	if !ok {
		if err := os.MkdirAll(path, perm); err != nil {
			return nil, err
		}
	}
	return s.Pin(path)
}

// Repin accepts, for every pinned folder that was replaced, the real folder
// now at its path (a reload: the operator has looked). Folders still
// missing or still a symbolic link stay refused; their errors are joined.
func (s *Set) Repin() error {
	s.mu.Lock()
	dirs := slices.Collect(maps.Values(s.dirs))
	s.mu.Unlock()
	var errs []error
	for _, d := range dirs {
		if _, err := d.Repin(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Retain releases the pin of every folder whose path is not in paths (a
// reload removed or renamed its source, or its move_to): its descriptor is
// closed, not kept for the life of the process. An operation still holding
// a released pin gets ErrReplaced, and is tried again through the new
// configuration; a folder pinned again later gets a fresh pin.
func (s *Set) Retain(paths []string) {
	keep := make(map[string]bool, len(paths))
	for _, p := range paths {
		keep[filepath.Clean(p)] = true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for p, d := range s.dirs {
		if !keep[p] {
			d.Close()
			delete(s.dirs, p)
			s.log.Info("folder no longer configured; its pin is released", "path", p)
		}
	}
}

// Paths returns the paths of the pinned folders, sorted.
func (s *Set) Paths() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Sorted(maps.Keys(s.dirs))
}

// Close releases every pin.
func (s *Set) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for p, d := range s.dirs {
		d.Close()
		delete(s.dirs, p)
	}
}
