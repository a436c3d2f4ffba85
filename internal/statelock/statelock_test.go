package statelock_test

import (
	"bufio"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/docuparse/docuparse-ingest/internal/statelock"
)

const helperEnv = "STATELOCK_TEST_HOLD_DIR"

// TestMain turns the test binary into a lock holder when asked: it takes
// the lock, says so on stdout and holds it until killed or stdin closes.
func TestMain(m *testing.M) {
	if dir := os.Getenv(helperEnv); dir != "" {
		l, err := statelock.Acquire(dir)
		if err != nil {
			os.Stdout.WriteString("error: " + err.Error() + "\n")
			os.Exit(3)
		}
		os.Stdout.WriteString("locked\n")
		_, _ = io.Copy(io.Discard, os.Stdin)
		_ = l.Release()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestSecondAcquireInSameProcessIsRefused(t *testing.T) {
	dir := t.TempDir()
	first, err := statelock.Acquire(dir)
	if err != nil {
		t.Fatal(err)
	}
	_, err = statelock.Acquire(dir) // a second open file description
	var le *statelock.LockedError
	if !errors.As(err, &le) || !errors.Is(err, statelock.ErrLocked) {
		t.Fatalf("second Acquire: got %v, want a LockedError", err)
	}
	if le.Dir != dir || le.PID != os.Getpid() {
		t.Errorf("LockedError = %+v, want dir %s and pid %d", le, dir, os.Getpid())
	}
	for _, want := range []string{dir, "pid " + itoa(os.Getpid()), "state_dir"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message %q does not name %q", err, want)
		}
	}
	if err := first.Release(); err != nil {
		t.Fatal(err)
	}
	if err := first.Release(); err != nil {
		t.Fatalf("second Release: %v", err)
	}
	again, err := statelock.Acquire(dir)
	if err != nil {
		t.Fatalf("Acquire after Release: %v", err)
	}
	_ = again.Release()
}

func TestLockHeldByAnotherProcessIsReleasedWhenItIsKilled(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+dir)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if line != "locked\n" {
		t.Fatalf("helper: %q, %v", line, err)
	}

	_, err = statelock.Acquire(dir)
	var le *statelock.LockedError
	if !errors.As(err, &le) {
		t.Fatalf("Acquire beside the holder: got %v, want a LockedError", err)
	}
	if le.PID != cmd.Process.Pid {
		t.Errorf("LockedError names pid %d, the holder is %d", le.PID, cmd.Process.Pid)
	}

	// kill -9: no chance to release; the kernel drops the lock with the
	// process, and the PID left in the file does not block the next one.
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	l, err := statelock.Acquire(dir)
	if err != nil {
		t.Fatalf("Acquire after the holder died: %v", err)
	}
	defer l.Release()
	b, err := os.ReadFile(filepath.Join(dir, statelock.FileName))
	if err != nil || strings.TrimSpace(string(b)) != itoa(os.Getpid()) {
		t.Errorf("lock file holds %q (%v), want this pid %d", b, err, os.Getpid())
	}
}

func TestAcquireRefusesASymlinkedLockFile(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(t.TempDir(), "elsewhere")
	if err := os.WriteFile(target, []byte("keep\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, filepath.Join(dir, statelock.FileName)); err != nil {
		t.Fatal(err)
	}
	if l, err := statelock.Acquire(dir); err == nil {
		l.Release()
		t.Fatal("Acquire followed a symbolic link")
	}
	if b, _ := os.ReadFile(target); string(b) != "keep\n" {
		t.Errorf("the link's target was written: %q", b)
	}
}

func TestAcquireOnMissingDirectoryIsAnError(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "missing")
	if _, err := statelock.Acquire(dir); err == nil || errors.Is(err, statelock.ErrLocked) {
		t.Fatalf("got %v, want an error that is not ErrLocked", err)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
