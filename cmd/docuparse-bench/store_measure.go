package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/binrun"
)

// storeResult is what the store mode measured of one store.
type storeResult struct {
	Docs         int
	BuildSeconds float64 // writing the files and recording them (0: built by an earlier invocation)
	ReadySeconds float64 // from `run`'s start until /readyz answered 200
	StatusSecs   float64 // `status`, median of 3
	ListedSecs   float64 // from `run`'s start until the first listing was taken in
	RSSReady     int64   // VmRSS when ready
	RSSListed    int64   // VmRSS once the first listing was taken in
	HWM          int64   // VmHWM then
	Reread       int     // files whose access time moved
	DBBytes      int64   // state.db + state.db-wal
	Prune        pruneResult
}

// storeConfig is the measured daemon's configuration: the folder as a
// source (a rescan interval longer than the measurement, so the one full
// listing is the start's), the simulator as the API, webhooks and /readyz.
func storeConfig(dir, inbox, apiURL, receiver, admin string) string {
	return fmt.Sprintf(`state_dir  = %q
output_dir = %q
[api]
base_url = %q
[receiver]
listen = %q
[admin]
listen = %q
[report]
timezone = "UTC"
[log]
format = "json"
[[source]]
name   = %q
path   = %q
settle = "100ms"
rescan = "1h"
`, filepath.Join(dir, "state"), filepath.Join(dir, "out"), apiURL, receiver, admin, storeSource, inbox)
}

// measureStore builds (unless dir holds one already, from an earlier
// invocation with the same -dir; a folder written already is kept) and
// measures a store of n documents.
func measureStore(ctx context.Context, o storeOptions, bin, simBin, dir string, n int) (storeResult, error) {
	r := storeResult{Docs: n}
	inbox, statePath := filepath.Join(dir, "inbox"), filepath.Join(dir, "state", "state.db")
	built := filepath.Join(dir, "built")
	if _, err := os.Stat(built); err != nil {
		for _, sub := range []string{"state", "out"} {
			if err := os.RemoveAll(filepath.Join(dir, sub)); err != nil {
				return r, err
			}
		}
		start := time.Now()
		if err := buildStore(ctx, statePath, inbox, n, o.PerDir, o.Days); err != nil {
			return r, err
		}
		r.BuildSeconds = time.Since(start).Seconds()
		if err := os.WriteFile(built, nil, 0o640); err != nil {
			return r, err
		}
	}
	if err := restartDaemon(ctx, o, bin, simBin, dir, inbox, &r); err != nil {
		return r, err
	}
	var err error
	if r.Reread, err = countReread(inbox); err != nil {
		return r, err
	}
	if r.DBBytes, err = fileSizes(statePath, statePath+"-wal"); err != nil {
		return r, err
	}
	if o.Prune {
		r.Prune, err = measurePrune(ctx, statePath)
	}
	return r, err
}

// restartDaemon starts bin on the store in dir and measures it until its
// first listing has been taken in; then it stops it.
func restartDaemon(ctx context.Context, o storeOptions, bin, simBin, dir, inbox string, r *storeResult) error {
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	receiver, admin, err := daemonAddrs()
	if err != nil {
		return err
	}
	s, err := startSim(ctx, simBin, "http://"+receiver+"/webhooks/docuparse", 4, filepath.Join(dir, "sim.log"))
	if err != nil {
		return err
	}
	defer s.stop()
	env := []string{"DOCUPARSE_API_KEY=" + apiKey, "DOCUPARSE_WEBHOOK_SECRET=" + webhookSecret}
	start := time.Now()
	d, err := binrun.StartDaemon(ctx, bin, dir, storeConfig(dir, inbox, s.baseURL, receiver, admin), env, admin)
	if err != nil {
		return err
	}
	defer d.Stop()
	if err := waitReady(ctx, d, admin); err != nil {
		return fmt.Errorf("%w (log: %s)", err, d.Log.Name())
	}
	r.ReadySeconds = time.Since(start).Seconds()
	if r.RSSReady, err = binrun.ProcStatus(d.Pid(), "VmRSS"); err != nil {
		return err
	}
	if r.StatusSecs, err = timeStatus(ctx, bin, filepath.Join(dir, "config.toml"), env); err != nil {
		return err
	}
	if err := waitListed(ctx, d); err != nil {
		return fmt.Errorf("%w (log: %s)", err, d.Log.Name())
	}
	r.ListedSecs = time.Since(start).Seconds()
	if r.RSSListed, err = binrun.ProcStatus(d.Pid(), "VmRSS"); err != nil {
		return err
	}
	r.HWM, err = binrun.ProcStatus(d.Pid(), "VmHWM")
	return err
}

// waitReady asks admin's /readyz until it answers 200.
func waitReady(ctx context.Context, d *binrun.Daemon, admin string) error {
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		resp, err := http.Get("http://" + admin + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if exited(d.Pid()) {
			return errors.New("the daemon exited")
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("not ready: %w", ctx.Err())
		case <-tick.C:
		}
	}
}

// waitListed waits until the daemon's log says its source was listed and
// then until the daemon has been idle (under 2 % of a CPU) for a second:
// every listed file was settled and taken in (or found known).
func waitListed(ctx context.Context, d *binrun.Daemon) error {
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	listed, idle := false, 0
	var last time.Duration
	for idle < 2 {
		select {
		case <-ctx.Done():
			return fmt.Errorf("first listing not taken in: %w", ctx.Err())
		case <-tick.C:
		}
		if exited(d.Pid()) {
			return errors.New("the daemon exited")
		}
		if !listed {
			b, err := os.ReadFile(d.Log.Name())
			if err != nil {
				return err
			}
			listed = strings.Contains(string(b), `"msg":"source listed"`)
		}
		cpu, _, err := cpuTime(d.Pid())
		if err != nil {
			return err
		}
		if listed && cpu-last < 10*time.Millisecond {
			idle++
		} else {
			idle = 0
		}
		last = cpu
	}
	return nil
}

// timeStatus runs `status` three times and returns the median wall time.
func timeStatus(ctx context.Context, bin, cfg string, env []string) (float64, error) {
	var secs []float64
	for range 3 {
		cmd := exec.CommandContext(ctx, bin, "status", "--config", cfg)
		cmd.Env = append(os.Environ(), env...)
		start := time.Now()
		out, err := cmd.CombinedOutput()
		if err != nil {
			return 0, fmt.Errorf("status: %w: %s", err, out)
		}
		secs = append(secs, time.Since(start).Seconds())
	}
	return binrun.Median(secs), nil
}

// countReread counts the files under inbox whose access time is later
// than their modification time: buildStore set every atime an hour
// before, so only a read since moved it.
func countReread(inbox string) (int, error) {
	n := 0
	err := filepath.WalkDir(inbox, func(p string, e fs.DirEntry, err error) error {
		if err != nil || !e.Type().IsRegular() {
			return err
		}
		fi, err := e.Info()
		if err != nil {
			return err
		}
		st, ok := fi.Sys().(*syscall.Stat_t)
		if ok && time.Unix(st.Atim.Unix()).After(fi.ModTime()) {
			n++
		}
		return nil
	})
	return n, err
}

// fileSizes sums the sizes of the files at paths that exist.
func fileSizes(paths ...string) (int64, error) {
	var total int64
	for _, p := range paths {
		fi, err := os.Stat(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return 0, err
		}
		total += fi.Size()
	}
	return total, nil
}
