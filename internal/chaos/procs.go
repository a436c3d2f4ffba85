package chaos

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/sim"
)

// Secrets the suite gives both processes.
const (
	apiKey        = "dex_chaos_suite_key"
	webhookSecret = "whsec_chaos_suite_secret_0123456789"
)

// modulePath is the import path the binaries are built from, so that the
// build works from any folder inside the module.
const modulePath = "github.com/docuparse/docuparse-ingest/cmd/"

// Build builds docuparse-ingest and docuparse-sim into dir with the go
// tool found on PATH.
func Build(ctx context.Context, dir string) error {
	for _, name := range []string{"docuparse-ingest", "docuparse-sim"} {
		cmd := exec.CommandContext(ctx, "go", "build", "-o", filepath.Join(dir, name), modulePath+name)
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("go build %s: %w\n%s", name, err, out)
		}
	}
	return nil
}

func secretEnv() []string {
	return append(os.Environ(), "DOCUPARSE_API_KEY="+apiKey, "DOCUPARSE_WEBHOOK_SECRET="+webhookSecret)
}

// simProc is the docuparse-sim process of a run: one for the whole run,
// because its memory is the record the invariant is checked against.
type simProc struct {
	cmd  *exec.Cmd
	root string // http://127.0.0.1:port
	api  string // root + /api/v1
	done chan struct{}
	// final is the record read just before stop.
	final *sim.Stats
}

// startSim starts the simulator sending webhooks to webhookURL, its log
// appended to logPath, and returns once it serves.
func startSim(bin, logPath, webhookURL string, seed int64) (*simProc, error) {
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	cmd := exec.Command(bin, "--listen", "127.0.0.1:0", "--webhook-url", webhookURL,
		"--processing-delay", "200ms", "--time-scale", "0.002", "--delivery-timeout", "2s",
		"--seed", fmt.Sprint(seed))
	cmd.Env = secretEnv()
	cmd.Stderr = logf
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &simProc{cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(s.done) }()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		_ = cmd.Process.Kill()
		return nil, fmt.Errorf("docuparse-sim printed no base URL: %w", err)
	}
	s.api = strings.TrimSpace(line)
	s.root = strings.TrimSuffix(s.api, "/api/v1")
	return s, nil
}

// setFaults replaces every fault knob of the simulator.
func (s *simProc) setFaults(f sim.Faults) error {
	body, err := json.Marshal(f)
	if err != nil {
		return err
	}
	resp, err := http.Post(s.root+"/_sim/faults", "application/json", bytes.NewReader(body))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("POST /_sim/faults: %s", resp.Status)
	}
	return nil
}

// stats reads the simulator's record.
func (s *simProc) stats() (sim.Stats, error) {
	var st sim.Stats
	resp, err := http.Get(s.root + "/_sim/stats")
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	return st, json.NewDecoder(resp.Body).Decode(&st)
}

// stop reads the simulator's record into final, then ends it (SIGTERM,
// then SIGKILL after 10 s).
func (s *simProc) stop() {
	if st, err := s.stats(); err == nil && s.final == nil {
		s.final = &st
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}

// daemon is one docuparse-ingest process.
type daemon struct {
	cmd      *exec.Cmd
	done     chan struct{}
	err      error
	expected bool // the suite ended it; guarded by supervisor.mu
}

// supervisor keeps the daemon under test running: it starts it, kills it
// (-9 or SIGTERM) when the scenario says, and restarts it when it exits by
// itself (counted), as systemd would.
type supervisor struct {
	bin, cfgPath, logPath string
	logf                  func(string, ...any)

	// ops serialises restarts and shutdown, so that a daemon still
	// draining after SIGTERM is never joined by its successor.
	ops sync.Mutex

	mu         sync.Mutex
	cur        *daemon
	keep       bool // restart after an unexpected exit
	starts     int
	unexpected int
	hung       int // SIGTERMs that did not end the daemon in time
}

// startLocked starts a daemon; mu must be held.
func (s *supervisor) startLocked() error {
	logf, err := os.OpenFile(s.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.Command(s.bin, "run", "--config", s.cfgPath, "--drain-timeout", "20s")
	cmd.Env = secretEnv()
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return err
	}
	d := &daemon{cmd: cmd, done: make(chan struct{})}
	s.cur, s.starts = d, s.starts+1
	go s.watch(d)
	return nil
}

// watch waits for d to exit and restarts it (after a pause) when nobody
// asked it to stop.
func (s *supervisor) watch(d *daemon) {
	d.err = d.cmd.Wait()
	close(d.done)
	s.mu.Lock()
	defer s.mu.Unlock()
	if d.expected || !s.keep || s.cur != d {
		return
	}
	s.unexpected++
	s.logf("daemon exited by itself (%v); restarting it in 1s", d.err)
	s.cur = nil
	time.AfterFunc(time.Second, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.keep && s.cur == nil {
			if err := s.startLocked(); err != nil {
				s.logf("restart: %v", err)
			}
		}
	})
}

// ensure starts the daemon if none runs.
func (s *supervisor) ensure() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keep = true
	if s.cur != nil {
		return nil
	}
	return s.startLocked()
}

// startOnce starts a daemon that is not restarted when it exits.
func (s *supervisor) startOnce() (*daemon, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.startLocked(); err != nil {
		return nil, err
	}
	return s.cur, nil
}

// end stops the running daemon with sig and waits up to wait for it to
// exit (then kills it). It reports false when the daemon outlived wait.
func (s *supervisor) end(sig syscall.Signal, wait time.Duration) bool {
	s.mu.Lock()
	d := s.cur
	s.cur = nil
	if d != nil {
		d.expected = true
	}
	s.mu.Unlock()
	if d == nil {
		return true
	}
	_ = d.cmd.Process.Signal(sig)
	select {
	case <-d.done:
		return true
	case <-time.After(wait):
		_ = d.cmd.Process.Kill()
		<-d.done
		s.mu.Lock()
		s.hung++
		s.mu.Unlock()
		return false
	}
}

// restart ends the daemon with sig, waits pause, and starts it again.
func (s *supervisor) restart(sig syscall.Signal, pause time.Duration) error {
	s.ops.Lock()
	defer s.ops.Unlock()
	s.end(sig, 60*time.Second)
	time.Sleep(pause) // the scenario's downtime, not synchronisation
	return s.ensure()
}

// overlap sends the daemon SIGTERM and starts its successor at once,
// without waiting for the drain, as a supervisor with a short stop timeout
// would: for a while two daemons share the state directory.
func (s *supervisor) overlap() error {
	s.ops.Lock()
	defer s.ops.Unlock()
	s.mu.Lock()
	old := s.cur
	if old != nil {
		old.expected = true
		_ = old.cmd.Process.Signal(syscall.SIGTERM)
	}
	s.cur = nil
	s.keep = true
	err := s.startLocked()
	s.mu.Unlock()
	if old != nil {
		select {
		case <-old.done:
		case <-time.After(60 * time.Second):
			_ = old.cmd.Process.Kill()
			<-old.done
		}
	}
	return err
}

// shutdown stops the daemon for good with SIGTERM.
func (s *supervisor) shutdown() {
	s.ops.Lock()
	defer s.ops.Unlock()
	s.mu.Lock()
	s.keep = false
	s.mu.Unlock()
	s.end(syscall.SIGTERM, 60*time.Second)
}
