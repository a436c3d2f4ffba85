package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/binrun"
	"github.com/docuparse/docuparse-ingest/internal/safetext"
	"github.com/docuparse/docuparse-ingest/internal/samples"
)

// The tree mode: a folder of -files documents in thousands of subfolders,
// there when the daemon starts.
//
//	go run ./cmd/docuparse-bench tree -files 1000000 -per-dir 500 -dir /tmp/tree-bench
//
// It writes the tree once (samples.WriteTree, seed 1; kept and reused in
// -dir), times `find TREE -type f` (a warm-up run, then the median of 3:
// the cache is warm for find and the daemon alike), then, for each binary
// (this tree and, with -baseline, a git revision), starts a fresh
// simulator and `run` with the tree as one recursive folder source at the
// default settle and measures from the process's start:
//
//   - first batch: until the simulator has created its first batch
//     (GET /_sim/stats, batches_created >= 1, polled every 20 ms);
//   - scan: until the daemon logs "source listed" (the end of its first
//     full listing: every folder watched and listed, every file looked at),
//     whose "files" must be -files; the line's own "took" is shown too;
//   - memory: VmRSS sampled every 100 ms, and VmHWM when the scan is done.
//
// The daemon is stopped once both are in: uploading a million files is
// not what this measures.

// treeOptions are the flags of the tree mode.
type treeOptions struct {
	Files    int
	PerDir   int
	Dir      string
	Baseline string
	Timeout  time.Duration
}

// scanTreeSeed is the seed of the generated tree.
const scanTreeSeed = 1

// parseTree parses the tree mode's flags.
func parseTree(args []string, stderr io.Writer) (treeOptions, error) {
	fs := flag.NewFlagSet("docuparse-bench tree", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o treeOptions
	fs.IntVar(&o.Files, "files", 1_000_000, "documents in the tree")
	fs.IntVar(&o.PerDir, "per-dir", 500, "documents per subfolder")
	fs.StringVar(&o.Dir, "dir", "", "work folder, kept: the tree is written once and reused; default: a temporary folder, removed at the end")
	fs.StringVar(&o.Baseline, "baseline", "", "also measure docuparse-ingest built from this git revision")
	fs.DurationVar(&o.Timeout, "timeout", 10*time.Minute, "longest one daemon run may take before the command gives up")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	var err error
	switch {
	case fs.NArg() > 0:
		err = fmt.Errorf("unexpected arguments %q", fs.Args())
	case o.Files <= 0 || o.PerDir <= 0 || o.Timeout <= 0:
		err = fmt.Errorf("-files, -per-dir and -timeout must be positive")
	}
	if err != nil {
		fmt.Fprintln(stderr, "docuparse-bench tree:", safetext.Visible(err.Error()))
	}
	return o, err
}

// treeResult is one daemon's run on the tree.
type treeResult struct {
	Name       string
	FirstBatch time.Duration // process start to the simulator's first batch
	Scan       time.Duration // process start to "source listed"
	ScanTook   time.Duration // the "took" of that line (from the source's Start)
	Listed     int           // its "files"
	MaxRSS     int64         // the highest VmRSS sampled, bytes
	HWM        int64         // VmHWM once the scan was done, bytes
}

// benchTree builds the binaries and the tree, times find, and measures
// each binary once.
func benchTree(ctx context.Context, o treeOptions, stdout, stderr io.Writer) error {
	dir, done, err := workDir(o.Dir)
	if err != nil {
		return err
	}
	defer done()
	bins, simBin, err := buildBinaries(ctx, o.Baseline, dir)
	if err != nil {
		return err
	}
	tree, err := ensureTree(dir, o.Files, o.PerDir, stderr)
	if err != nil {
		return err
	}
	fmt.Fprintln(stderr, "timing find…")
	find, err := timeFind(ctx, tree, o.Files)
	if err != nil {
		return err
	}
	var results []treeResult
	for i, b := range bins {
		fmt.Fprintf(stderr, "docuparse-ingest (%s)…\n", safetext.Visible(b.Name))
		r, err := measureTreeDaemon(ctx, o, b, simBin, tree, filepath.Join(dir, fmt.Sprint("daemon-", i)))
		if err != nil {
			return fmt.Errorf("%s: %w", b.Name, err)
		}
		results = append(results, r)
	}
	treeMarkdown(stdout, o, find, results)
	return nil
}

// ensureTree returns dir/tree, written by samples.WriteTree unless a
// marker says a complete tree of this shape is there already.
func ensureTree(dir string, files, perDir int, stderr io.Writer) (string, error) {
	tree := filepath.Join(dir, "tree")
	marker := filepath.Join(dir, "tree.complete")
	shape := fmt.Sprintf("files=%d per-dir=%d seed=%d\n", files, perDir, scanTreeSeed)
	if b, err := os.ReadFile(marker); err == nil && string(b) == shape {
		fmt.Fprintln(stderr, "reusing the tree in", safetext.Visible(tree))
		return tree, nil
	}
	_ = os.Remove(marker)
	if err := os.RemoveAll(tree); err != nil {
		return "", err
	}
	fmt.Fprintf(stderr, "writing %d files, %d a folder…\n", files, perDir)
	start := time.Now()
	if err := samples.WriteTree(tree, files, perDir, scanTreeSeed); err != nil {
		return "", err
	}
	fmt.Fprintf(stderr, "written in %s\n", time.Since(start).Round(time.Millisecond))
	return tree, os.WriteFile(marker, []byte(shape), 0o644)
}

// timeFind runs `find tree -type f` once to warm the cache, then three
// times, and returns the median; every run must list want files.
func timeFind(ctx context.Context, tree string, want int) (time.Duration, error) {
	var times []float64
	for i := range 4 {
		start := time.Now()
		cmd := exec.CommandContext(ctx, "find", tree, "-type", "f")
		var lines newlineCount
		cmd.Stdout = &lines
		if err := cmd.Run(); err != nil {
			return 0, fmt.Errorf("find: %w", err)
		}
		took := time.Since(start)
		if int(lines) != want {
			return 0, fmt.Errorf("find listed %d files, want %d", lines, want)
		}
		if i > 0 {
			times = append(times, took.Seconds())
		}
	}
	return time.Duration(binrun.Median(times) * float64(time.Second)), nil
}

// newlineCount counts the lines written to it.
type newlineCount int

func (c *newlineCount) Write(p []byte) (int, error) {
	*c += newlineCount(bytes.Count(p, []byte{'\n'}))
	return len(p), nil
}

// treeDaemonConfig is the measured daemon's configuration: the tree as one
// recursive folder source with the default settle and rescan.
func treeDaemonConfig(dir, tree, apiURL, receiver, admin string) string {
	return strings.Replace(daemonConfig(dir, tree, apiURL, receiver, admin, 8),
		`settle = "50ms"`, `recursive = true`, 1)
}

// treeMarkdown prints find's time and one row per daemon.
func treeMarkdown(w io.Writer, o treeOptions, find time.Duration, rs []treeResult) {
	fmt.Fprintf(w, "%d files in %d folders; `find -type f`: %.2f s (median of 3, warm cache).\n\n",
		o.Files, samples.TreeDirs(o.Files, o.PerDir), find.Seconds())
	fmt.Fprintln(w, treeHeader)
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|")
	for _, r := range rs {
		fmt.Fprintf(w, "| %s | %d | %.2f | %.2f | %.2f | %.2f | %.0f MiB | %.0f MiB |\n", safetext.Visible(r.Name), r.Listed,
			r.FirstBatch.Seconds(), r.Scan.Seconds(), r.ScanTook.Seconds(), find.Seconds()/r.Scan.Seconds(),
			float64(r.MaxRSS)/(1<<20), float64(r.HWM)/(1<<20))
	}
}

// treeHeader heads the table treeMarkdown prints; the test reads rows by it.
const treeHeader = "| run | files listed | first batch s | scan s | scan s (own log) | find / scan | max VmRSS sampled | VmHWM |"

// runTree is the tree mode: parse, measure, print.
func runTree(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, err := parseTree(args, stderr)
	if err != nil {
		return 2
	}
	if err := benchTree(ctx, o, stdout, stderr); err != nil {
		fmt.Fprintln(stderr, "docuparse-bench tree:", safetext.Visible(err.Error()))
		return 1
	}
	return 0
}
