package main

import (
	"fmt"
	"io"

	"github.com/docuparse/docuparse-ingest/internal/binrun"
)

// markdown prints the results as a Markdown table: per size, the
// baseline's listing and each binary's steady-state passes.
func markdown(w io.Writer, o options, rs []sizeResult) {
	fmt.Fprintf(w, "| objects | run | seconds per pass (median of %d) | list requests per pass (daemon / server) | peak RSS |\n", o.Passes)
	fmt.Fprintln(w, "|---:|---|---:|---:|---:|")
	for _, r := range rs {
		fmt.Fprintf(w, "| %d | baseline: paged listing only, no change detection | %.2f | %d / — | %s |\n",
			r.Objects, binrun.Median(r.List.Passes), r.List.Requests, mb(r.List.HWM))
		for _, d := range r.Daemons {
			secs := make([]float64, 0, len(d.Passes))
			reqs, server := d.Passes[0].Requests, d.Passes[0].ServerRequests
			for _, p := range d.Passes {
				secs = append(secs, p.Seconds)
				if p.Requests != reqs || p.ServerRequests != server || p.Objects != r.Objects {
					fmt.Fprintf(w, "| | %s: a pass differs: %+v | | | |\n", d.Name, p)
				}
			}
			fmt.Fprintf(w, "| %d | docuparse-ingest run (%s), all objects known | %.2f | %d / %d | %s |\n",
				r.Objects, d.Name, binrun.Median(secs), reqs, server, mb(d.HWM))
			if d.Queued != 0 {
				fmt.Fprintf(w, "| | %s queued %.0f documents: the seeded state was not taken as known | | | |\n", d.Name, d.Queued)
			}
		}
	}
}
