package main

import (
	"bufio"
	"context"
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

// subfolders is how many folders the generated files are spread over.
const subfolders = 16

// result is one measured run of one side.
type result struct {
	Name    string
	Docs    int     // documents with their CSV line or row
	Seconds float64 // from the process's start until the last one
	usage
	SimCPU time.Duration // the simulator's CPU time meanwhile
}

// benchE2E builds the binaries, writes the inbox, and measures every side
// o.Runs times.
func benchE2E(ctx context.Context, o e2eOptions, stdout, stderr io.Writer) error {
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
	if err := writeInbox(inbox, o.Files); err != nil {
		return err
	}
	runs := make([][]result, o.Runs) // per run: naive first, then each binary
	for k := range o.Runs {
		fmt.Fprintf(stderr, "run %d of %d: naive client…\n", k+1, o.Runs)
		runDir := filepath.Join(dir, fmt.Sprint("run-", k+1))
		r, err := measureNaive(ctx, o, simBin, inbox, filepath.Join(runDir, "naive"), o.Files)
		if err != nil {
			return fmt.Errorf("naive client: %w", err)
		}
		runs[k] = append(runs[k], r)
		for i, b := range bins {
			fmt.Fprintf(stderr, "run %d of %d: docuparse-ingest (%s)…\n", k+1, o.Runs, safetext.Visible(b.Name))
			r, err := measureDaemon(ctx, o, b, simBin, inbox, filepath.Join(runDir, fmt.Sprint("daemon-", i)), o.Files)
			if err != nil {
				return fmt.Errorf("%s: %w", b.Name, err)
			}
			runs[k] = append(runs[k], r)
		}
	}
	markdown(stdout, o.Files, runs)
	return nil
}

// writeInbox writes n generated documents (internal/samples, seed 1) into
// subfolders of inbox, each name prefixed with its index so all are
// distinct.
func writeInbox(inbox string, n int) error {
	for i := range subfolders {
		if err := os.MkdirAll(filepath.Join(inbox, fmt.Sprintf("d%02d", i)), 0o755); err != nil {
			return err
		}
	}
	files := samples.Generate(n, 1)
	if len(files) != n {
		return fmt.Errorf("generated %d of %d files", len(files), n)
	}
	for i, f := range files {
		p := filepath.Join(inbox, fmt.Sprintf("d%02d", i%subfolders), fmt.Sprintf("%06d-%s", i, f.Name))
		if err := os.WriteFile(p, f.Content, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// measureNaive runs the naive client (this program's naive mode) against
// a fresh simulator, timed from its start until it says every file has
// its line; then it reads the process's usage and counts the lines.
func measureNaive(ctx context.Context, o e2eOptions, simBin, inbox, dir string, want int) (result, error) {
	res := result{Name: "naive client: in memory, nothing fsynced"}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout) // kills the processes
	defer cancel()
	listen, err := binrun.FreeAddr()
	if err != nil {
		return res, err
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return res, err
	}
	s, err := startSim(ctx, simBin, "http://"+listen+"/webhooks", o.WebhookWorkers, filepath.Join(dir, "sim.log"))
	if err != nil {
		return res, err
	}
	defer s.stop()
	self, err := os.Executable()
	if err != nil {
		return res, err
	}
	out := filepath.Join(dir, "naive.csv")
	cmd := exec.CommandContext(ctx, self, "naive", "-inbox", inbox, "-api", s.baseURL, "-listen", listen,
		"-out", out, "-concurrency", fmt.Sprint(o.Concurrency))
	logf, err := os.Create(filepath.Join(dir, "naive.log"))
	if err != nil {
		return res, err
	}
	defer logf.Close()
	cmd.Stderr = logf
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return res, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return res, err
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return res, err
	}
	defer binrun.Terminate(cmd, 10*time.Second) // after stdin closes, it exits by itself
	defer stdin.Close()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		if ctx.Err() != nil {
			err = ctx.Err() // it was killed at the deadline
		}
		return res, fmt.Errorf("no answer (log: %s): %w", logf.Name(), err)
	}
	res.Seconds = time.Since(start).Seconds()
	if res.usage, err = readUsage(cmd.Process.Pid); err != nil {
		return res, err
	}
	if res.SimCPU, _, err = cpuTime(s.cmd.Process.Pid); err != nil {
		return res, err
	}
	if got := strings.TrimSpace(line); got != fmt.Sprint("done ", want) {
		return res, fmt.Errorf("the naive client said %q, want %q", got, fmt.Sprint("done ", want))
	}
	if res.Docs, err = csvRows(out); err != nil {
		return res, err
	}
	if res.Docs != want {
		return res, fmt.Errorf("%d lines in %s, want %d", res.Docs, out, want)
	}
	return res, nil
}

// workDir returns dir, or, when dir is empty, a new temporary folder; done
// removes what workDir made (nothing for a folder it was given, which is
// kept).
func workDir(dir string) (work string, done func(), err error) {
	if dir != "" {
		return dir, func() {}, nil
	}
	tmp, err := os.MkdirTemp("", "docuparse-bench-")
	if err != nil {
		return "", nil, err
	}
	return tmp, func() { os.RemoveAll(tmp) }, nil
}

// buildBinaries builds, into dir, docuparse-ingest from this tree (and
// first, when baseline is set, from that git revision) and docuparse-sim.
func buildBinaries(ctx context.Context, baseline, dir string) ([]binrun.Binary, string, error) {
	bins, err := binrun.BuildAll(ctx, baseline, dir)
	if err != nil {
		return nil, "", err
	}
	simBin := filepath.Join(dir, "docuparse-sim")
	if err := binrun.BuildCommand(ctx, ".", "./cmd/docuparse-sim", simBin); err != nil {
		return nil, "", err
	}
	return bins, simBin, nil
}
