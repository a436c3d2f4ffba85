package export

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
)

// ErrHeld is wrapped by the error of a CSV file that is not the daemon's to
// append to (see Held): the documents of its day are held (store.HoldExport)
// and the others go on.
var ErrHeld = errors.New("rows held")

// hold records that the rows for the output file rel are held because of
// cause, logs it at ERROR the first time (with how to recover), and returns
// the error that holds the documents of the file's day.
func (e *Exporter) hold(rel string, cause error) error {
	e.mu.Lock()
	_, seen := e.held[rel]
	e.held[rel] = cause
	e.mu.Unlock()
	if !seen {
		e.cfg.Logger.Error("export held: the daemon never cuts or appends to a CSV file it has no record of or that was changed outside it; "+
			"the rows due for it wait. Move the file aside (the daemon then starts it anew), or restore state.db and out/ from the same backup",
			"file", filepath.Join(e.cfg.Layout.Root, rel), "reason", cause)
	}
	return fmt.Errorf("%w for %s: %w", ErrHeld, rel, cause)
}

// release forgets a hold on rel once its rows were appended.
func (e *Exporter) release(rel string) {
	e.mu.Lock()
	_, was := e.held[rel]
	delete(e.held, rel)
	e.mu.Unlock()
	if was {
		e.cfg.Logger.Info("export resumed", "file", filepath.Join(e.cfg.Layout.Root, rel))
	}
}

// Held returns an error naming each output file whose rows are held, or nil
// (the admin listener's readiness check).
func (e *Exporter) Held(context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.held) == 0 {
		return nil
	}
	names := make([]string, 0, len(e.held))
	for rel := range e.held {
		names = append(names, rel)
	}
	sort.Strings(names)
	return fmt.Errorf("rows held for %s: changed outside the daemon or unknown to the state database", strings.Join(names, ", "))
}
