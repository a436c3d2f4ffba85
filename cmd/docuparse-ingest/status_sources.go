package main

import (
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/safetext"
	"github.com/docuparse/docuparse-ingest/internal/sourcestate"
	"github.com/docuparse/docuparse-ingest/internal/store"
)

// readListings adds to out's sources what the daemon last wrote of each
// bucket source's listings beside the store (see internal/sourcestate).
func readListings(st *store.Store, out *statusJSON) error {
	snap, err := sourcestate.Read(filepath.Dir(st.Path()))
	if err != nil {
		return err
	}
	for name, l := range snap.Sources {
		src, ok := out.Sources[name]
		if !ok {
			src = statusSource{Total: newStatusTally(store.Tally{}), Today: newStatusTally(store.Tally{})}
		}
		src.Listing = &l
		out.Sources[name] = src
	}
	return nil
}

// printListings prints, for each bucket source, its last successful
// listing and the objects it found, and whether listings fail now (since
// when, how often, why); nothing when there is no bucket source.
func printListings(w io.Writer, out statusJSON, now time.Time, loc *time.Location) {
	var names []string
	for name, src := range out.Sources {
		if src.Listing != nil {
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		return
	}
	sort.Strings(names)
	fmt.Fprintln(w, "bucket sources:")
	for _, name := range names {
		l := out.Sources[name].Listing
		last := "never"
		if l.LastSuccess != nil {
			last = fmt.Sprintf("%s (%s ago), %d objects", l.LastSuccess.In(loc).Format(time.RFC3339), now.Sub(*l.LastSuccess).Round(time.Second), l.Objects)
		}
		fmt.Fprintf(w, "  %s %s: last listed %s; listing errors: %d\n", safetext.Visible(name), safetext.Visible(l.Bucket), last, l.Errors)
		if l.Error != "" && l.FailingSince != nil {
			fmt.Fprintf(w, "    FAILING since %s (%s ago), retried with backoff: %s\n", l.FailingSince.In(loc).Format(time.RFC3339),
				now.Sub(*l.FailingSince).Round(time.Second), safetext.Visible(l.Error))
		}
	}
}
