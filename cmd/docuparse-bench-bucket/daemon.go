package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/binrun"
)

// Credentials of the benchmark's S3 server (any are accepted) and of the
// simulator.
const (
	apiKey        = "dex_bench_bucket"
	webhookSecret = "whsec_bench_bucket_0123456789abcdef"
	sourceName    = "bench"
)

// s3Env is the environment a client of the benchmark's S3 server needs:
// the AWS SDK's normal chain, pointed at nothing but these variables.
func s3Env(dir string) []string {
	none := filepath.Join(dir, "none")
	return []string{"AWS_ACCESS_KEY_ID=bench", "AWS_SECRET_ACCESS_KEY=bench-secret", "AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE=" + none, "AWS_SHARED_CREDENTIALS_FILE=" + none}
}

// daemonRun is one docuparse-ingest run process with a bucket source.
type daemonRun struct {
	*binrun.Daemon
	admin string // host:port of its admin listener
}

// startDaemon runs bin in dir (whose state/ holds the seeded store) with
// one bucket source on url, listed every poll, against the simulator at
// apiURL, and waits for its admin listener.
func startDaemon(ctx context.Context, bin, dir, url, apiURL string, poll time.Duration) (*daemonRun, error) {
	admin, err := binrun.FreeAddr()
	if err != nil {
		return nil, err
	}
	cfg := fmt.Sprintf(`state_dir  = %q
output_dir = %q
[api]
base_url = %q
[receiver]
listen = "127.0.0.1:0"
[admin]
listen = %q
[log]
format = "json"
[[source]]
name = %q
url  = %q
poll_interval = %q
after = "keep"
`, filepath.Join(dir, "state"), filepath.Join(dir, "out"), apiURL, admin, sourceName, url, poll.String())
	d, err := binrun.StartDaemon(ctx, bin, dir, cfg, append(s3Env(dir), "DOCUPARSE_API_KEY="+apiKey, "DOCUPARSE_WEBHOOK_SECRET="+webhookSecret), admin)
	if err != nil {
		return nil, err
	}
	return &daemonRun{Daemon: d, admin: admin}, nil
}

// metrics returns the source's series of the daemon's /metrics (name
// without the docuparse_bucket_ prefix → value), and the documents by
// state.
func (d *daemonRun) metrics() (bucket map[string]float64, docs map[string]float64, err error) {
	resp, err := http.Get("http://" + d.admin + "/metrics")
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	return parseMetrics(resp.Body)
}

// parseMetrics reads Prometheus text: docuparse_bucket_*{source="bench"}
// and docuparse_documents{state=…}.
func parseMetrics(r io.Reader) (map[string]float64, map[string]float64, error) {
	bucket, docs := map[string]float64{}, map[string]float64{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		name, rest, ok := strings.Cut(line, "{")
		if !ok || strings.HasPrefix(line, "#") {
			continue
		}
		labels, value, ok := strings.Cut(rest, "} ")
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
		if err != nil {
			continue
		}
		switch {
		case strings.HasPrefix(name, "docuparse_bucket_") && labels == `source="`+sourceName+`"`:
			bucket[strings.TrimPrefix(name, "docuparse_bucket_")] = v
		case name == "docuparse_documents":
			docs[strings.TrimSuffix(strings.TrimPrefix(labels, `state="`), `"`)] = v
		}
	}
	return bucket, docs, sc.Err()
}
