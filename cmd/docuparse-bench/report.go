package main

import (
	"fmt"
	"io"

	"github.com/docuparse/docuparse-ingest/internal/binrun"
	"github.com/docuparse/docuparse-ingest/internal/safetext"
)

// tableHeader heads the table markdown prints; the test reads rows by it.
const tableHeader = "| files | run | docs/s | ratio to naive | seconds | peak RSS (VmHWM) | CPU s per 1,000 docs | of it system | simulator CPU s per 1,000 docs |"

// markdown prints one row per side: the median over runs of its
// documents per second, of its ratio to the naive client's rate in the
// same run (paired), of its seconds, peak RSS, CPU per 1,000 documents
// (and the share of it spent in the kernel) and the simulator's CPU per
// 1,000 documents meanwhile.
// runs[k] holds run k's results, the naive client first.
func markdown(w io.Writer, files int, runs [][]result) {
	fmt.Fprintf(w, "Median of %d run(s), %d files.\n\n", len(runs), files)
	fmt.Fprintln(w, tableHeader)
	fmt.Fprintln(w, "|---:|---|---:|---:|---:|---:|---:|---:|---:|")
	for side := range runs[0] {
		var rate, ratio, secs, hwm, cpu, sys, simCPU []float64
		for _, run := range runs {
			r := run[side]
			rate = append(rate, float64(r.Docs)/r.Seconds)
			ratio = append(ratio, run[0].Seconds/r.Seconds*float64(r.Docs)/float64(run[0].Docs))
			secs = append(secs, r.Seconds)
			hwm = append(hwm, float64(r.HWM))
			cpu = append(cpu, r.CPU.Seconds()*1000/float64(r.Docs))
			sys = append(sys, 100*r.Sys.Seconds()/max(r.CPU.Seconds(), 1e-9))
			simCPU = append(simCPU, r.SimCPU.Seconds()*1000/float64(r.Docs))
		}
		fmt.Fprintf(w, "| %d | %s | %.0f | %.2f | %.2f | %.0f MiB | %.2f | %.0f %% | %.2f |\n", files, safetext.Visible(runs[0][side].Name),
			binrun.Median(rate), binrun.Median(ratio), binrun.Median(secs), binrun.Median(hwm)/(1<<20), binrun.Median(cpu), binrun.Median(sys), binrun.Median(simCPU))
	}
}
