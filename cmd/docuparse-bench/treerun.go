package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/binrun"
)

// treePollEvery is the resolution of the first batch's and the scan's
// times.
const treePollEvery = 20 * time.Millisecond

// measureTreeDaemon runs bin on a fresh state in dir, on the tree, against
// a fresh simulator, until its first batch and the end of its first
// listing are both seen; then it stops the daemon.
func measureTreeDaemon(ctx context.Context, o treeOptions, bin binrun.Binary, simBin, tree, dir string) (treeResult, error) {
	res := treeResult{Name: "docuparse-ingest run (" + bin.Name + ")"}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout) // kills the processes
	defer cancel()
	receiver, admin, err := daemonAddrs()
	if err != nil {
		return res, err
	}
	if err := os.RemoveAll(dir); err != nil { // a fresh state: nothing known yet
		return res, err
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return res, err
	}
	s, err := startSim(ctx, simBin, "http://"+receiver+"/webhooks/docuparse", 16, filepath.Join(dir, "sim.log"))
	if err != nil {
		return res, err
	}
	defer s.stop()
	start := time.Now()
	d, err := binrun.StartDaemon(ctx, bin.Path, dir, treeDaemonConfig(dir, tree, s.baseURL, receiver, admin),
		[]string{"DOCUPARSE_API_KEY=" + apiKey, "DOCUPARSE_WEBHOOK_SECRET=" + webhookSecret}, admin)
	if err != nil {
		return res, err
	}
	defer d.Stop()
	if err := watchTreeRun(ctx, d, s.baseURL, start, &res); err != nil {
		return res, fmt.Errorf("%w (log: %s)", err, d.Log.Name())
	}
	if res.HWM, err = binrun.PeakRSS(d.Pid()); err != nil {
		return res, err
	}
	if res.Listed != o.Files {
		return res, fmt.Errorf("the daemon listed %d files, want %d (log: %s)", res.Listed, o.Files, d.Log.Name())
	}
	return res, nil
}

// watchTreeRun polls until the simulator has a batch and the daemon's log
// says its first listing is done, sampling VmRSS meanwhile.
func watchTreeRun(ctx context.Context, d *binrun.Daemon, simURL string, start time.Time, res *treeResult) error {
	logf, err := os.Open(d.Log.Name())
	if err != nil {
		return err
	}
	defer logf.Close()
	lines := bufio.NewReader(logf)
	var partial string
	tick := time.NewTicker(treePollEvery)
	defer tick.Stop()
	for n := 0; res.FirstBatch == 0 || res.Scan == 0; n++ {
		if n%5 == 0 {
			res.MaxRSS = max(res.MaxRSS, currentRSS(d.Pid()))
		}
		if res.FirstBatch == 0 && simHasBatch(simURL) {
			res.FirstBatch = time.Since(start)
		}
		for res.Scan == 0 {
			line, err := lines.ReadString('\n')
			if err != nil { // a line still being written: read on next time
				partial += line
				break
			}
			line, partial = partial+line, ""
			if ok, perr := parseListed(line, res); perr != nil {
				return perr
			} else if ok {
				res.Scan = time.Since(start)
			}
		}
		if exited(d.Pid()) {
			return errors.New("the daemon exited")
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
	res.MaxRSS = max(res.MaxRSS, currentRSS(d.Pid()))
	return nil
}

// simHasBatch asks the simulator whether it has created a batch.
func simHasBatch(simURL string) bool {
	base, _, _ := strings.Cut(simURL, "/api/v1")
	resp, err := http.Get(base + "/_sim/stats")
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	var st struct {
		BatchesCreated int `json:"batches_created"`
	}
	return json.NewDecoder(resp.Body).Decode(&st) == nil && st.BatchesCreated > 0
}

// parseListed reads one JSON log line: if it is the folder source's
// "source listed", it fills res.Listed and res.ScanTook and reports true.
func parseListed(line string, res *treeResult) (bool, error) {
	var m struct {
		Msg   string          `json:"msg"`
		Files int             `json:"files"`
		Took  json.RawMessage `json:"took"`
	}
	if json.Unmarshal([]byte(line), &m) != nil || m.Msg != "source listed" {
		return false, nil
	}
	res.Listed = m.Files
	took, err := parseLogDuration(m.Took)
	if err != nil {
		return false, fmt.Errorf("source listed: took: %w", err)
	}
	res.ScanTook = took
	return true, nil
}

// parseLogDuration reads a duration as slog writes it: a string ("1.5s")
// or a number of nanoseconds.
func parseLogDuration(raw json.RawMessage) (time.Duration, error) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return time.ParseDuration(s)
	}
	var ns float64
	if err := json.Unmarshal(raw, &ns); err != nil {
		return 0, err
	}
	return time.Duration(ns), nil
}

// currentRSS returns pid's VmRSS in bytes, 0 if it cannot be read.
func currentRSS(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for l := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb * 1024
		}
	}
	return 0
}
