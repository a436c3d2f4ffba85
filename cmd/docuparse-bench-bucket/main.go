// Command docuparse-bench-bucket measures one listing pass with change
// detection of a bucket source over a large prefix, as a user sees it: the
// built docuparse-ingest doing its whole job (`run`, against the project's
// API simulator), its bucket source on an S3-compatible server (gofakes3,
// in a process of its own that counts the requests it serves) holding
// -objects objects, every one already taken in (the store seeded as a
// first pass leaves it). It prints, as Markdown, the seconds and list
// requests per steady-state pass (from the daemon's /metrics; the server's
// own count must agree) and the daemon's peak memory (VmHWM), beside a
// baseline in the same invocation: the same prefix listed page by page
// with no change detection, by a process of its own.
//
//	go run ./cmd/docuparse-bench-bucket -objects 100000
//	go run ./cmd/docuparse-bench-bucket -objects 100000 -baseline fb48d99~1
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/binrun"
)

func main() { binrun.Main(run) }

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && (args[0] == "serve-s3" || args[0] == "list-only") {
		if err := child(ctx, args[0], args[1:], stdout, stderr); err != nil {
			fmt.Fprintln(stderr, "docuparse-bench-bucket:", args[0]+":", err)
			return 1
		}
		return 0
	}
	fs := flag.NewFlagSet("docuparse-bench-bucket", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	sizes := fs.String("objects", "100000", "objects under the prefix; a comma-separated list measures each size")
	fs.StringVar(&o.Baseline, "baseline", "", "also measure docuparse-ingest built from this git revision, first")
	fs.IntVar(&o.Passes, "passes", 3, "steady-state passes measured after the first listing")
	fs.DurationVar(&o.Poll, "poll", 3*time.Second, "the source's poll_interval")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	for _, s := range strings.Split(*sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n <= 0 {
			fmt.Fprintf(stderr, "docuparse-bench-bucket: -objects %q: want positive numbers\n", *sizes)
			return 2
		}
		o.Sizes = append(o.Sizes, n)
	}
	if err := bench(ctx, o, stdout, stderr); err != nil {
		fmt.Fprintln(stderr, "docuparse-bench-bucket:", err)
		return 1
	}
	return 0
}

// child runs one of the processes the driver starts.
func child(ctx context.Context, mode string, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet(mode, flag.ContinueOnError)
	fs.SetOutput(stderr)
	n := fs.Int("objects", 0, "objects to put under the prefix")
	url := fs.String("url", "", "bucket URL to list")
	passes := fs.Int("passes", 3, "listings")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if mode == "serve-s3" {
		return serveS3(*n)
	}
	return listOnly(ctx, *url, *passes, stdout)
}
