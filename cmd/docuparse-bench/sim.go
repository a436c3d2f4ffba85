package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/binrun"
)

// Credentials the simulator, the daemon and the naive client share.
const (
	apiKey        = "dex_bench_e2e"
	webhookSecret = "whsec_bench_e2e_0123456789abcdef"
)

// simProc is one docuparse-sim process.
type simProc struct {
	cmd     *exec.Cmd
	log     *os.File
	baseURL string // its api.base_url
}

// startSim runs the simulator built at bin with no processing delay,
// webhooks signed with webhookSecret posted to hook by workers concurrent
// deliveries, and extra flags, its log in logPath, and returns once it
// has printed its base URL.
func startSim(ctx context.Context, bin, hook string, workers int, logPath string, extra ...string) (*simProc, error) {
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, bin, append([]string{"--listen", "127.0.0.1:0", "--processing-delay", "0",
		"--webhook-url", hook, "--webhook-workers", fmt.Sprint(workers)}, extra...)...)
	cmd.Env = append(os.Environ(), "DOCUPARSE_API_KEY="+apiKey, "DOCUPARSE_WEBHOOK_SECRET="+webhookSecret)
	cmd.Stderr = logf
	out, err := cmd.StdoutPipe()
	if err != nil {
		logf.Close()
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start %s: %w", filepath.Base(bin), err)
	}
	s := &simProc{cmd: cmd, log: logf}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		s.stop()
		return nil, fmt.Errorf("the simulator did not start (log: %s): %w", logPath, err)
	}
	s.baseURL = strings.TrimSpace(line)
	return s, nil
}

// stop sends SIGTERM and waits (SIGKILL after 10 s), then closes the log.
func (s *simProc) stop() {
	binrun.Terminate(s.cmd, 10*time.Second)
	s.log.Close()
}
