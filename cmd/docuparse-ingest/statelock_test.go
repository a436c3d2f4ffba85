package main

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/e2e"
	"github.com/docuparse/docuparse-ingest/internal/sim"
)

// refusedRun starts `run` on cfgPath and returns its stderr once it exits,
// failing the test as soon as it shows that it is running (its webhook
// receiver listens) instead of refusing to start.
func refusedRun(t *testing.T, cfgPath string) (string, error) {
	t.Helper()
	cmd := exec.Command(binPath, "run", "--config", cfgPath)
	cmd.Env = append(os.Environ(), "DOCUPARSE_API_KEY="+e2e.APIKey, "DOCUPARSE_WEBHOOK_SECRET="+e2e.WebhookSecret)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	var text bytes.Buffer
	listening := make(chan struct{}, 1)
	scanned := make(chan struct{})
	go func() {
		defer close(scanned)
		sc := bufio.NewScanner(io.TeeReader(stderr, &text))
		for sc.Scan() {
			if strings.Contains(sc.Text(), "webhook receiver listening") {
				listening <- struct{}{}
			}
		}
	}()
	select {
	case <-scanned:
	case <-listening:
		_ = cmd.Process.Kill()
		<-scanned
		_ = cmd.Wait()
		t.Fatalf("the daemon started (its receiver listens) instead of refusing:\n%s", text.String())
	case <-time.After(60 * time.Second):
		t.Fatalf("the daemon neither exited nor listened:\n%s", text.String())
	}
	return text.String(), cmd.Wait()
}

func TestSecondDaemonOnTheSameStateDirExitsAtOnceNamingTheHolder(t *testing.T) {
	r := newLifecycleRig(t, sim.Config{})
	first := r.start(t)
	// The first daemon's last write at start is the report schedule's
	// first day; after it the daemon is idle until files arrive.
	first.waitLog(t, 1, func(m map[string]any) bool { return m["msg"] == "nightly reports start" })
	stateDir := filepath.Join(r.dir, "state")
	before := listTree(t, r.dir)

	msg, err := refusedRun(t, r.cfgPath)
	if err == nil {
		t.Fatalf("the second daemon exited 0:\n%s", msg)
	}
	for _, want := range []string{stateDir, "pid " + strconv.Itoa(first.cmd.Process.Pid)} {
		if !strings.Contains(msg, want) {
			t.Errorf("refusal does not name %q:\n%s", want, msg)
		}
	}
	if after := listTree(t, r.dir); after != before {
		t.Errorf("the refused daemon changed the state or output directory:\nbefore:\n%s\nafter:\n%s", before, after)
	}

	// The operator commands work beside the running daemon.
	out, err := exec.Command(binPath, "status", "--config", r.cfgPath).CombinedOutput()
	if err != nil {
		t.Fatalf("status beside the daemon: %v\n%s", err, out)
	}

	// kill -9 leaves the lock file behind, not the lock: the next start runs.
	if err := first.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-first.exited
	next := r.start(t)
	if err := next.signalAndWait(t, syscall.SIGTERM); err != nil {
		t.Fatalf("restart after kill -9: %v", err)
	}
}

func TestSecondDemoInTheSameFolderLeavesTheRunningOneAlone(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo")
	cmd := exec.Command(binPath, "demo", "--dir", dir, "--processing-delay", "10ms")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	done := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "Still watching") {
				close(done)
				break
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("the first demo did not finish its samples")
	}
	before := listTree(t, dir)

	_, _, err = run(t, nil, "", "demo", "--once", "--dir", dir, "--processing-delay", "10ms")
	if err == nil || !strings.Contains(err.Error(), "pid "+strconv.Itoa(cmd.Process.Pid)) {
		t.Fatalf("second demo beside a running one: %v, want a refusal naming pid %d", err, cmd.Process.Pid)
	}
	if after := listTree(t, dir); after != before {
		t.Errorf("the refused demo changed the running demo's folder:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	if rows := e2e.ReadCSV(t, filepath.Join(dir, "out"), "documents-*.csv"); len(rows) != 8 {
		t.Fatalf("the running demo's CSV has %d rows, want 8", len(rows))
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("first demo: %v", err)
	}
}

// listTree lists every file under dir with its size and modification time,
// except the daemon's log.
func listTree(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if fi.Name() == "daemon.log" {
			return nil
		}
		b.WriteString(p + " " + strconv.FormatInt(fi.Size(), 10) + " " + fi.ModTime().String() + "\n")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// The state database was lost and the outputs kept: the daemon refuses to
// start, naming the file and how to recover, and the file keeps every byte.
func TestRunRefusesOutputsTheStateDatabaseHasNoRecordOf(t *testing.T) {
	r := newLifecycleRig(t, sim.Config{})
	csvFile := filepath.Join(r.dir, "out", "csv", "documents-2026-11-28.csv")
	if err := os.MkdirAll(filepath.Dir(csvFile), 0o755); err != nil {
		t.Fatal(err)
	}
	rows := "\"document_id\",\"status\"\n\"doc_1\",\"completed\"\n"
	if err := os.WriteFile(csvFile, []byte(rows), 0o644); err != nil {
		t.Fatal(err)
	}
	msg, err := refusedRun(t, r.cfgPath)
	if err == nil {
		t.Fatalf("run exited 0:\n%s", msg)
	}
	for _, want := range []string{csvFile, "backup", "aside"} {
		if !strings.Contains(msg, want) {
			t.Errorf("refusal does not say %q:\n%s", want, msg)
		}
	}
	if b, _ := os.ReadFile(csvFile); string(b) != rows {
		t.Errorf("the file was changed to %q", b)
	}
	// Moved aside, the daemon starts.
	if err := os.Rename(filepath.Dir(csvFile), filepath.Dir(csvFile)+".old"); err != nil {
		t.Fatal(err)
	}
	p := r.start(t)
	if err := p.signalAndWait(t, syscall.SIGTERM); err != nil {
		t.Fatalf("start after moving the outputs aside: %v", err)
	}
}
