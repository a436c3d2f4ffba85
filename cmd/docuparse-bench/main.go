// Command docuparse-bench measures docuparse-ingest as a user sees it: the
// built binary doing its whole job against the project's API simulator
// (cmd/docuparse-sim, built too, a process of its own, fresh for every
// measured run), beside a naive baseline measured in the same invocation.
//
//	go run ./cmd/docuparse-bench e2e -files 20000
//	go run ./cmd/docuparse-bench e2e -files 20000 -runs 3 -baseline main
//
// e2e writes -files generated PDF/CSV documents (internal/samples) into an
// inbox of a few subfolders, then, for each run, measures:
//
//   - naive: a non-durable client, a process of its own (this program's
//     hidden naive mode): it lists the inbox, reads every file into memory,
//     uploads them in batches of 100 with POST /batches, receives the
//     simulator's signed webhooks on its own listener (HMAC checked) and
//     appends a CSV line per document to a file it never fsyncs;
//   - each docuparse-ingest binary (this tree and, with -baseline, a git
//     revision): `run` with a real configuration (a folder source on the
//     inbox, batch_upload = true, webhooks on, a short settle), durable as
//     always (SQLite synchronous=FULL).
//
// Each is timed from its process's start until every file has its CSV
// line, read from outside: the daemon's /metrics
// (docuparse_documents{state="exported"}) and then the rows of its
// documents-*.csv files, which must count every file. It prints a Markdown
// table: documents per second, the ratio to the naive client, peak RSS
// (VmHWM) and CPU seconds (utime + stime) per 1,000 documents, each the
// median of -runs runs.
//
//	go run ./cmd/docuparse-bench burst -events 20000 -runs 3 -baseline main
//
// burst measures the running daemon absorbing a webhook burst: once the
// daemon has submitted -events files to a simulator that holds its
// webhooks (--hold-webhooks), -senders goroutines post the simulator's
// own signed events for them, then as many for unknown ids, to the
// daemon's receiver and to a bare HMAC handler (this program's hidden
// ceiling mode, a process of its own) in alternating slices; see
// burst.go and docs/benchmarks.md.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/binrun"
	"github.com/docuparse/docuparse-ingest/internal/safetext"
)

func main() { binrun.Main(run) }

// usageLine is printed for a missing or unknown mode.
const usageLine = `usage: docuparse-bench e2e [-files N] [-runs K] [-baseline REV] [-concurrency C] [-webhook-workers W] [-dir DIR] [-timeout D]
       docuparse-bench burst [-senders 128] [-events N] [-runs K] [-baseline REV] [-dir DIR] [-timeout D]
       docuparse-bench store [-docs N] [-baseline-docs N] [-per-dir N] [-days D] [-prune=false] [-dir DIR] [-timeout D]
       docuparse-bench tree [-files N] [-per-dir P] [-baseline REV] [-dir DIR] [-timeout D]`

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, usageLine)
		return 2
	}
	switch args[0] {
	case "naive":
		if err := naiveMain(ctx, args[1:], stdout, stderr); err != nil {
			fmt.Fprintln(stderr, "docuparse-bench: naive:", safetext.Visible(err.Error()))
			return 1
		}
		return 0
	case "burst", "ceiling":
		return runBurst(ctx, args, stdout, stderr)
	case "tree":
		return runTree(ctx, args[1:], stdout, stderr)
	case "e2e":
	case "store":
		return storeMain(ctx, args[1:], stdout, stderr)
	default:
		fmt.Fprintln(stderr, usageLine)
		return 2
	}
	o, err := parseE2E(args[1:], stderr)
	if err != nil {
		return 2
	}
	if err := benchE2E(ctx, o, stdout, stderr); err != nil {
		fmt.Fprintln(stderr, "docuparse-bench:", safetext.Visible(err.Error()))
		return 1
	}
	return 0
}

// e2eOptions are the flags of the e2e mode.
type e2eOptions struct {
	Files          int
	Runs           int
	Baseline       string
	Concurrency    int
	WebhookWorkers int
	Dir            string
	Timeout        time.Duration
}

// parseE2E parses the e2e mode's flags.
func parseE2E(args []string, stderr io.Writer) (e2eOptions, error) {
	fs := flag.NewFlagSet("docuparse-bench e2e", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o e2eOptions
	fs.IntVar(&o.Files, "files", 20000, "generated documents in the inbox at start")
	fs.IntVar(&o.Runs, "runs", 1, "runs of each side; the table shows medians")
	fs.StringVar(&o.Baseline, "baseline", "", "also measure docuparse-ingest built from this git revision")
	fs.IntVar(&o.Concurrency, "concurrency", 8, "uploads in flight at once, for the daemon (api.concurrency) and the naive client alike")
	fs.IntVar(&o.WebhookWorkers, "webhook-workers", 16, "the simulator's concurrent webhook deliveries")
	fs.StringVar(&o.Dir, "dir", "", "work folder (kept); default: a temporary folder, removed at the end")
	fs.DurationVar(&o.Timeout, "timeout", 10*time.Minute, "longest a side may take before the command gives up")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	switch {
	case fs.NArg() > 0:
		err := fmt.Errorf("unexpected arguments %q", fs.Args())
		fmt.Fprintln(stderr, "docuparse-bench e2e:", safetext.Visible(err.Error()))
		return o, err
	case o.Files <= 0 || o.Runs <= 0 || o.Concurrency <= 0 || o.Concurrency > 64 || o.WebhookWorkers <= 0 || o.Timeout <= 0:
		err := fmt.Errorf("-files, -runs, -webhook-workers and -timeout must be positive, -concurrency 1 to 64")
		fmt.Fprintln(stderr, "docuparse-bench e2e:", safetext.Visible(err.Error()))
		return o, err
	}
	return o, nil
}
