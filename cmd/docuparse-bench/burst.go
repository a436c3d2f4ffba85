package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/safetext"
)

// burstOptions are the flags of the burst mode.
type burstOptions struct {
	Senders  int
	Events   int
	Runs     int
	Baseline string
	Dir      string
	Timeout  time.Duration
	Log      io.Writer // progress lines
}

// parseBurst parses the burst mode's flags.
func parseBurst(args []string, stderr io.Writer) (burstOptions, error) {
	fs := flag.NewFlagSet("docuparse-bench burst", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o burstOptions
	fs.IntVar(&o.Senders, "senders", 128, "concurrent senders, each posting its next delivery once the last is answered")
	fs.IntVar(&o.Events, "events", 20000, "documents the daemon submits (one document.completed each), and as many unknown ids")
	fs.IntVar(&o.Runs, "runs", 1, "runs of each binary; the table shows medians")
	fs.StringVar(&o.Baseline, "baseline", "", "also measure docuparse-ingest built from this git revision")
	fs.StringVar(&o.Dir, "dir", "", "work folder (kept); default: a temporary folder, removed at the end")
	fs.DurationVar(&o.Timeout, "timeout", 10*time.Minute, "longest one binary's run may take before the command gives up")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	var err error
	switch {
	case fs.NArg() > 0:
		err = fmt.Errorf("unexpected arguments %q", fs.Args())
	case o.Senders <= 0 || o.Senders > 1024 || o.Events < burstRounds || o.Runs <= 0 || o.Timeout <= 0:
		err = fmt.Errorf("-senders must be 1 to 1024, -events at least %d, -runs and -timeout positive", burstRounds)
	}
	if err != nil {
		fmt.Fprintln(stderr, "docuparse-bench burst:", safetext.Visible(err.Error()))
	}
	return o, err
}

// burstResult is one binary's run: the burst of events for documents it
// submitted and the burst of unknown ids, each beside the ceiling.
type burstResult struct {
	Name           string
	Known, Unknown pair
	Exported       int            // distinct documents in the CSV rows, each in exactly one
	RSS            []int64        // VmRSS after each of the daemon's slices, both bursts (bytes)
	HWM            int64          // VmHWM at the end
	Events         map[string]int // docuparse_webhook_events by status at the end
	Status         string         // `status` at the end
}

// benchBurst builds the binaries, writes the inbox and measures each
// binary o.Runs times.
func benchBurst(ctx context.Context, o burstOptions, stdout, stderr io.Writer) error {
	dir, done, err := workDir(o.Dir)
	if err != nil {
		return err
	}
	defer done()
	bins, simBin, err := buildBinaries(ctx, o.Baseline, dir)
	if err != nil {
		return err
	}
	inbox := filepath.Join(dir, "inbox")
	if err := writeInbox(inbox, o.Events); err != nil {
		return err
	}
	o.Log = stderr
	runs := make([][]burstResult, o.Runs)
	for k := range o.Runs {
		for i, b := range bins {
			fmt.Fprintf(stderr, "run %d of %d: docuparse-ingest (%s)…\n", k+1, o.Runs, safetext.Visible(b.Name))
			runDir := filepath.Join(dir, fmt.Sprint("run-", k+1), fmt.Sprint("daemon-", i))
			r, err := measureBurst(ctx, o, b, simBin, inbox, runDir, k)
			if err != nil {
				return fmt.Errorf("%s: %w", b.Name, err)
			}
			runs[k] = append(runs[k], r)
		}
	}
	burstMarkdown(stdout, o, runs)
	return nil
}

// runBurst runs the burst mode, or its hidden ceiling child (args[0]).
func runBurst(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if args[0] == "ceiling" {
		if err := ceilingMain(ctx, args[1:], stderr); err != nil {
			fmt.Fprintln(stderr, "docuparse-bench: ceiling:", safetext.Visible(err.Error()))
			return 1
		}
		return 0
	}
	o, err := parseBurst(args[1:], stderr)
	if err != nil {
		return 2
	}
	if err := benchBurst(ctx, o, stdout, stderr); err != nil {
		fmt.Fprintln(stderr, "docuparse-bench:", safetext.Visible(err.Error()))
		return 1
	}
	return 0
}
