package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/binrun"
)

// scrapeEvery is how often the driver looks at the daemon's progress: the
// resolution of the daemon's time. It reads /metrics that often only once
// the documents CSV files hold a line for every file (see waitExported);
// before, once every scrapeIdle.
const (
	scrapeEvery = 100 * time.Millisecond
	scrapeIdle  = 2 * time.Second
)

// daemonConfig is the measured daemon's configuration: the inbox as a
// folder source with a short settle, batch upload of up to 100 files,
// webhooks to receiver, and /metrics on admin.
func daemonConfig(dir, inbox, apiURL, receiver, admin string, conc int) string {
	return fmt.Sprintf(`state_dir  = %q
output_dir = %q
[api]
base_url     = %q
batch_upload = true
concurrency  = %d
rate_limit   = 0
[batch]
max_files = 100
max_wait  = "50ms"
[receiver]
listen = %q
[admin]
listen = %q
[report]
timezone = "UTC"
[log]
format = "json"
[[source]]
name   = "inbox"
path   = %q
settle = "50ms"
`, filepath.Join(dir, "state"), filepath.Join(dir, "out"), apiURL, conc, receiver, admin, inbox)
}

// measureDaemon runs bin on a fresh state in dir against a fresh
// simulator, timed from the process's start until /metrics counts want
// exported documents; then it reads the process's usage and counts the
// rows of its documents-*.csv files, which must be want.
func measureDaemon(ctx context.Context, o e2eOptions, bin binrun.Binary, simBin, inbox, dir string, want int) (result, error) {
	res := result{Name: "docuparse-ingest run (" + bin.Name + ")"}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout) // kills the processes
	defer cancel()
	receiver, admin, err := daemonAddrs()
	if err != nil {
		return res, err
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return res, err
	}
	s, err := startSim(ctx, simBin, "http://"+receiver+"/webhooks/docuparse", o.WebhookWorkers, filepath.Join(dir, "sim.log"))
	if err != nil {
		return res, err
	}
	defer s.stop()
	cfg := daemonConfig(dir, inbox, s.baseURL, receiver, admin, o.Concurrency)
	start := time.Now()
	d, err := binrun.StartDaemon(ctx, bin.Path, dir, cfg,
		[]string{"DOCUPARSE_API_KEY=" + apiKey, "DOCUPARSE_WEBHOOK_SECRET=" + webhookSecret}, admin)
	if err != nil {
		return res, err
	}
	defer d.Stop()
	if err := waitExported(ctx, d, admin, filepath.Join(dir, "out", "csv"), want); err != nil {
		return res, fmt.Errorf("%w (log: %s)", err, d.Log.Name())
	}
	res.Seconds = time.Since(start).Seconds()
	if res.usage, err = readUsage(d.Pid()); err != nil {
		return res, err
	}
	if res.SimCPU, _, err = cpuTime(s.cmd.Process.Pid); err != nil {
		return res, err
	}
	if res.Docs, err = countRows(filepath.Join(dir, "out", "csv")); err != nil {
		return res, err
	}
	if res.Docs != want {
		return res, fmt.Errorf("%d exported but %d rows in documents-*.csv (log: %s)", want, res.Docs, d.Log.Name())
	}
	return res, nil
}

// waitExported waits until admin's /metrics counts want exported
// documents. Each scrape costs the daemon its store's counts (on 10,000
// documents, a fifth of its CPU at ten scrapes a second), so it scrapes
// every scrapeEvery only once the documents CSV files in csvDir hold
// want rows' worth of lines (their new bytes counted from outside), and
// every scrapeIdle before.
func waitExported(ctx context.Context, d *binrun.Daemon, admin, csvDir string, want int) error {
	lines := lineCounter{seen: map[string]int64{}}
	var scraped time.Time
	return waitSample(ctx, d, admin, exportedSeries, func() bool {
		if lines.rows(csvDir) < want && time.Since(scraped) < scrapeIdle {
			return false
		}
		scraped = time.Now()
		return true
	}, func(n int) bool { return n >= want })
}

// waitSample scrapes admin's /metrics, on every tick that due allows (nil:
// every tick), until series' value satisfies done.
func waitSample(ctx context.Context, d *binrun.Daemon, admin, series string, due func() bool, done func(int) bool) error {
	tick := time.NewTicker(scrapeEvery)
	defer tick.Stop()
	n := 0
	for {
		if due == nil || due() {
			var err error
			n, err = sample(admin, series)
			if err == nil && done(n) {
				return nil
			}
			if err != nil && exited(d.Pid()) {
				return errors.New("the daemon exited")
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s is %d: %w", series, n, ctx.Err())
		case <-tick.C:
		}
	}
}

// lineCounter counts the lines of the documents-*.csv files of a folder,
// reading only the bytes appended since its last look.
type lineCounter struct {
	seen  map[string]int64 // bytes read, by file
	lines int
}

// rows returns an upper bound of the data rows in dir's documents-*.csv
// files (lines less one header per file: a quoted cell may hold a line
// break), or 0 when they cannot be read.
func (c *lineCounter) rows(dir string) int {
	paths, err := filepath.Glob(filepath.Join(dir, "documents-*.csv"))
	if err != nil {
		return 0
	}
	buf := make([]byte, 64<<10)
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			return 0
		}
		for {
			n, err := f.ReadAt(buf, c.seen[p])
			c.seen[p] += int64(n)
			c.lines += bytes.Count(buf[:n], []byte{'\n'})
			if err != nil || n == 0 {
				break
			}
		}
		f.Close()
	}
	return c.lines - len(paths)
}

// exited reports whether pid has ended (a zombie not yet waited for, or
// gone).
func exited(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	i := strings.LastIndexByte(string(b), ')')
	return i < 0 || strings.HasPrefix(strings.TrimSpace(string(b[i+1:])), "Z")
}

// exportedSeries is the sample of exported documents in /metrics.
const exportedSeries = `docuparse_documents{state="exported"}`

// sample reads one series (its name and labels as /metrics writes them)
// from admin's /metrics.
func sample(admin, series string) (int, error) {
	resp, err := http.Get("http://" + admin + "/metrics")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	return parseSample(resp.Body, series)
}

// parseExported finds docuparse_documents{state="exported"} in Prometheus
// text.
func parseExported(r io.Reader) (int, error) { return parseSample(r, exportedSeries) }

// parseSample finds series (its name and labels) in Prometheus text.
func parseSample(r io.Reader, series string) (int, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), series+" "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return int(f), err
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("no %s in /metrics", series)
}

// countRows counts the data rows (header excluded) of every
// documents-*.csv file in dir, parsed as CSV (a quoted field may hold a
// line break).
func countRows(dir string) (int, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "documents-*.csv"))
	if err != nil {
		return 0, err
	}
	n := 0
	for _, p := range paths {
		rows, err := csvRows(p)
		if err != nil {
			return 0, err
		}
		n += max(rows-1, 0)
	}
	return n, nil
}

// csvRows counts the records of the CSV file at path.
func csvRows(path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	n := 0
	for {
		_, err := r.Read()
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return 0, fmt.Errorf("%s: %w", path, err)
		}
		n++
	}
}

// daemonAddrs returns two free loopback addresses for a measured daemon:
// its webhook receiver's and its admin listener's.
func daemonAddrs() (receiver, admin string, err error) {
	if receiver, err = binrun.FreeAddr(); err != nil {
		return "", "", err
	}
	admin, err = binrun.FreeAddr()
	return receiver, admin, err
}
