package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/docuparse/docuparse-ingest/internal/binrun"
	"github.com/docuparse/docuparse-ingest/internal/safetext"
)

// burstHeader heads the table burstMarkdown prints; the test reads rows by
// it.
const burstHeader = "| events | run | burst | daemon deliveries/s | p50 ms | p99 ms | ceiling deliveries/s | ceiling p99 ms | daemon / ceiling | processed/s (with drain) |"

// burstMarkdown prints, per binary and burst, the medians over runs of
// the daemon's rate and latencies, the ceiling's, and their paired ratio;
// then each binary's memory and what the last run's daemon said of its
// events.
func burstMarkdown(w io.Writer, o burstOptions, runs [][]burstResult) {
	fmt.Fprintf(w, "Median of %d run(s), %d events per burst, %d senders.\n\n", len(runs), o.Events, o.Senders)
	fmt.Fprintln(w, burstHeader)
	fmt.Fprintln(w, "|---:|---|---|---:|---:|---:|---:|---:|---:|---:|")
	for side := range runs[0] {
		for _, b := range []struct {
			label string
			pick  func(burstResult) pair
		}{
			{"(a) submitted documents", func(r burstResult) pair { return r.Known }},
			{"(b) unknown ids", func(r burstResult) pair { return r.Unknown }},
		} {
			var rate, p50, p99, ceil, ceilP99, ratio, processed []float64
			for _, run := range runs {
				p := b.pick(run[side])
				rate, ceil = append(rate, p.Daemon.Rate()), append(ceil, p.Ceiling.Rate())
				ratio = append(ratio, p.Daemon.Rate()/p.Ceiling.Rate())
				p50, p99 = append(p50, ms(p.Daemon.P50)), append(p99, ms(p.Daemon.P99))
				ceilP99, processed = append(ceilP99, ms(p.Ceiling.P99)), append(processed, p.Processed())
			}
			fmt.Fprintf(w, "| %d | %s | %s | %.0f | %.1f | %.1f | %.0f | %.1f | %.2f | %.0f |\n", o.Events, safetext.Visible(runs[0][side].Name), b.label,
				binrun.Median(rate), binrun.Median(p50), binrun.Median(p99), binrun.Median(ceil), binrun.Median(ceilP99), binrun.Median(ratio), binrun.Median(processed))
		}
	}
	fmt.Fprintln(w)
	for side := range runs[0] {
		r := runs[len(runs)-1][side]
		fmt.Fprintf(w, "%s, last run: %d documents with exactly one CSV row; VmRSS after each slice of the daemon's (a) then (b): %s; VmHWM %s; events by status: %s.\n",
			safetext.Visible(r.Name), r.Exported, mbList(r.RSS), binrun.MB(r.HWM), counts(r.Events))
		fmt.Fprintln(w, "\n`status` afterwards:\n\n```")
		for _, line := range strings.Split(strings.TrimRight(r.Status, "\n"), "\n") {
			fmt.Fprintln(w, safetext.Visible(line))
		}
		fmt.Fprintln(w, "```")
	}
}

func ms(d interface{ Seconds() float64 }) float64 { return d.Seconds() * 1000 }

// mbList formats byte counts as mebibytes, one decimal, comma-separated.
func mbList(bs []int64) string {
	parts := make([]string, len(bs))
	for i, b := range bs {
		parts[i] = fmt.Sprintf("%.1f", float64(b)/(1<<20))
	}
	return strings.Join(parts, ", ") + " MB"
}

// counts formats a map of counts in key order.
func counts(m map[string]int) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s %d", safetext.Visible(k), m[k]))
	}
	return strings.Join(parts, ", ")
}
