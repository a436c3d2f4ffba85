package main

import (
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/health"
	"github.com/docuparse/docuparse-ingest/internal/safetext"
	"github.com/docuparse/docuparse-ingest/internal/store"
)

// readProblems returns the daemon's current problems, as it last wrote
// them beside the store (see internal/health); never nil, so that --json
// shows an empty list.
func readProblems(st *store.Store) ([]health.Problem, error) {
	snap, err := health.Read(filepath.Dir(st.Path()))
	if err != nil {
		return nil, err
	}
	if snap.Problems == nil {
		return []health.Problem{}, nil
	}
	return snap.Problems, nil
}

// printProblems prints each current problem with since when, why, and the
// fix; "problems: none" when there is none.
func printProblems(w io.Writer, ps []health.Problem) {
	if len(ps) == 0 {
		fmt.Fprintln(w, "problems: none")
		return
	}
	fmt.Fprintf(w, "problems: %d\n", len(ps))
	for _, p := range ps {
		fmt.Fprintf(w, "  %s since %s (%s ago): %s\n", safetext.Visible(p.What), p.Since.Local().Format(time.RFC3339),
			time.Since(p.Since).Round(time.Second), safetext.Visible(p.Detail))
		fmt.Fprintf(w, "    fix: %s\n", safetext.Visible(p.Fix))
	}
}
