package main

import (
	"bufio"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/e2e"
	"github.com/docuparse/docuparse-ingest/internal/samples"
	"github.com/docuparse/docuparse-ingest/internal/sim"
)

var binPath string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "docuparse-ingest-bin")
	if err != nil {
		panic(err)
	}
	binPath = filepath.Join(dir, "docuparse-ingest")
	// The daemon under test is built with the race detector when the tests
	// run with it (go test -race, as CI does), and without it otherwise: a
	// -race build of the daemon took most of a plain `go test ./...`.
	build := exec.Command("go", "build", "-o", binPath, ".")
	if raceTest {
		build = exec.Command("go", "build", "-race", "-o", binPath, ".")
	}
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		os.RemoveAll(dir)
		panic("build the binary under test: " + err.Error())
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// proc is the real binary running `run`, its JSON log read line by line.
type proc struct {
	raced    atomic.Bool // the -race binary printed a race report
	cmd      *exec.Cmd
	lines    chan map[string]any
	receiver chan string
	exited   chan error
}

func startBinary(t *testing.T, cfgPath string, extraEnv ...string) *proc {
	t.Helper()
	cmd := exec.Command(binPath, "run", "--config", cfgPath)
	cmd.Env = append(os.Environ(), "DOCUPARSE_API_KEY="+e2e.APIKey, "DOCUPARSE_WEBHOOK_SECRET="+e2e.WebhookSecret)
	cmd.Env = append(cmd.Env, extraEnv...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, lines: make(chan map[string]any, 4096), receiver: make(chan string, 1), exited: make(chan error, 1)}
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var m map[string]any
			if json.Unmarshal(sc.Bytes(), &m) != nil {
				if strings.Contains(sc.Text(), "WARNING: DATA RACE") {
					p.raced.Store(true)
				}
				t.Logf("non-JSON log line: %s", sc.Text())
				continue
			}
			if m["msg"] == "webhook receiver listening" {
				p.receiver <- m["addr"].(string)
			}
			select {
			case p.lines <- m:
			default:
			}
		}
		_, _ = io.Copy(io.Discard, stderr)
		p.exited <- cmd.Wait()
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		if p.raced.Load() {
			t.Error("the daemon under test reported a data race (see the log above)")
		}
	})
	return p
}

func (p *proc) receiverAddr(t *testing.T) string {
	t.Helper()
	select {
	case a := <-p.receiver:
		return a
	case err := <-p.exited:
		t.Fatalf("daemon exited before listening: %v", err)
	case <-time.After(60 * time.Second):
		t.Fatal("daemon did not start listening")
	}
	return ""
}

// waitLog waits for log lines until cond(line) has been true n times.
func (p *proc) waitLog(t *testing.T, n int, cond func(map[string]any) bool) {
	t.Helper()
	deadline := time.After(60 * time.Second)
	for seen := 0; seen < n; {
		select {
		case m := <-p.lines:
			if cond(m) {
				seen++
			}
		case err := <-p.exited:
			t.Fatalf("daemon exited: %v", err)
		case <-deadline:
			t.Fatalf("saw only %d of %d log lines", seen, n)
		}
	}
}

func TestKillNineMidRunThenRestartLosesAndDuplicatesNothing(t *testing.T) {
	r := newLifecycleRig(t, sim.Config{ProcessingDelay: 200 * time.Millisecond, TimeScale: 0.0005, Seed: 11})
	p := r.start(t)
	files := e2e.DropAll(t, r.inbox, r.staging, samples.Generate(120, 5))
	p.waitLog(t, 30, func(m map[string]any) bool { return m["msg"] == "document submitted" })
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-p.exited

	p2 := r.start(t)
	r.waitDone(t, p2, len(files))
	if err := p2.signalAndWait(t, syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM exit: %v", err)
	}
	e2e.CheckOutputs(t, filepath.Join(r.dir, "out"), files, r.sim.Server)
}
