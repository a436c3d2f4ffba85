package main

// The store mode: a state database holding many exported documents, and
// the folder they came from, as a daemon that has run for a long time has
// them; what a restart, `status` and the daemon's memory cost with it,
// beside a small store measured by the same binary in the same invocation.
//
//	go run ./cmd/docuparse-bench store -docs 1000000
//
// For each size (-baseline-docs, then -docs) it writes the files (-per-dir
// a subfolder) and records each through the store's own API as the daemon's
// parts do (IntakeMany, CreateBatch, MarkSent, RecordSubmission,
// JournalEvents, ApplyEvents, MarkExported; storeGroup files per group),
// then measures the built binary:
//
//   - restart: from `run`'s start until /readyz answers 200;
//   - status: the wall time of `docuparse-ingest status` (median of 3);
//   - RSS when ready, and once the first full listing has been taken in
//     (the "source listed" log line, then the daemon's CPU idle for a
//     second), and the peak (VmHWM);
//   - re-read files: files whose access time moved (each file's atime was
//     set before its mtime, so relatime moves it on any read);
//   - state.db (+ wal) size, per million documents; then, with the store
//     closed, Prune of every exported document's detail and the size the
//     database then uses (pages not on the free list), per million.

import (
	"context"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/safetext"
)

// storeOptions are the flags of the store mode.
type storeOptions struct {
	Docs, BaselineDocs int
	PerDir             int
	Days               int
	Prune              bool
	Dir                string
	Timeout            time.Duration
}

// parseStore parses the store mode's flags.
func parseStore(args []string, stderr io.Writer) (storeOptions, error) {
	fs := flag.NewFlagSet("docuparse-bench store", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o storeOptions
	fs.IntVar(&o.Docs, "docs", 1000000, "exported documents in the measured store (and files in its folder)")
	fs.IntVar(&o.BaselineDocs, "baseline-docs", 10000, "documents in the baseline store, measured first by the same binary")
	fs.IntVar(&o.PerDir, "per-dir", 1000, "files per subfolder")
	fs.IntVar(&o.Days, "days", 100, "days before today the documents' times are spread over")
	fs.BoolVar(&o.Prune, "prune", true, "also prune a copy of each store and measure its size (minutes at a million documents)")
	fs.StringVar(&o.Dir, "dir", "", "work folder (kept); default: a temporary folder, removed at the end")
	fs.DurationVar(&o.Timeout, "timeout", 10*time.Minute, "longest a daemon may take to be ready and take in its folder")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	var err error
	switch {
	case fs.NArg() > 0:
		err = fmt.Errorf("unexpected arguments %q", fs.Args())
	case o.Docs <= 0 || o.BaselineDocs <= 0 || o.PerDir <= 0 || o.Days <= 0 || o.Timeout <= 0:
		err = fmt.Errorf("-docs, -baseline-docs, -per-dir, -days and -timeout must be positive")
	}
	if err != nil {
		fmt.Fprintln(stderr, "docuparse-bench store:", safetext.Visible(err.Error()))
	}
	return o, err
}

// storeMain runs the store mode.
func storeMain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, err := parseStore(args, stderr)
	if err != nil {
		return 2
	}
	if err := benchStore(ctx, o, stdout, stderr); err != nil {
		fmt.Fprintln(stderr, "docuparse-bench:", safetext.Visible(err.Error()))
		return 1
	}
	return 0
}

// benchStore builds the binaries, then builds and measures the baseline
// store and the large one, and prints the table.
func benchStore(ctx context.Context, o storeOptions, stdout, stderr io.Writer) error {
	dir, done, err := workDir(o.Dir)
	if err != nil {
		return err
	}
	defer done()
	bins, simBin, err := buildBinaries(ctx, "", dir)
	if err != nil {
		return err
	}
	bin := bins[0].Path
	var rows []storeResult
	for _, n := range []int{o.BaselineDocs, o.Docs} {
		sub := filepath.Join(dir, fmt.Sprint("store-", n))
		fmt.Fprintf(stderr, "building a store of %d documents in %s…\n", n, sub)
		r, err := measureStore(ctx, o, bin, simBin, sub, n)
		if err != nil {
			return err
		}
		fmt.Fprintf(stderr, "%+v\n", r)
		rows = append(rows, r)
	}
	storeMarkdown(stdout, rows)
	return nil
}
