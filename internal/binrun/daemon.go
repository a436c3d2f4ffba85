package binrun

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// Daemon is one `docuparse-ingest run` process started by StartDaemon.
type Daemon struct {
	Cmd *exec.Cmd
	Log *os.File // its standard output and error: dir/daemon.log
}

// StartDaemon writes cfg to dir/config.toml, runs `bin run` on it with env
// added to this process's environment and its output in dir/daemon.log,
// and waits up to 30 s until something listens on listen (one of its
// listeners). On failure the error names the log.
func StartDaemon(ctx context.Context, bin, dir, cfg string, env []string, listen string) (*Daemon, error) {
	cfgPath := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		return nil, err
	}
	logf, err := os.Create(filepath.Join(dir, "daemon.log"))
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, bin, "run", "--config", cfgPath)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	d := &Daemon{Cmd: cmd, Log: logf}
	if err := WaitListeningFor(listen, 30*time.Second); err != nil {
		d.Stop()
		return nil, fmt.Errorf("%w (log: %s)", err, logf.Name())
	}
	return d, nil
}

// Pid is the daemon's process id.
func (d *Daemon) Pid() int { return d.Cmd.Process.Pid }

// Stop sends SIGTERM and waits (SIGKILL after 30 s), then closes the log.
func (d *Daemon) Stop() {
	Terminate(d.Cmd, 30*time.Second)
	d.Log.Close()
}

// Terminate sends cmd's process SIGTERM and waits for it to exit, killing
// it after limit.
func Terminate(cmd *exec.Cmd, limit time.Duration) {
	_ = cmd.Process.Signal(syscall.SIGTERM)
	WaitOrKill(cmd, limit)
}

// WaitOrKill waits for cmd's process to exit (the caller has asked it to),
// killing it after limit.
func WaitOrKill(cmd *exec.Cmd, limit time.Duration) {
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(limit):
		_ = cmd.Process.Kill()
		<-done
	}
}
