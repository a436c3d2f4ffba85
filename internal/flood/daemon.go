package flood

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/binrun"
)

// Secret is the webhook secret the measured daemon is started with; real
// deliveries are signed with it, attacks are not.
const Secret = "whsec_flood_measurement_0123456789"

// daemon is one docuparse-ingest run process under measurement.
type daemon struct {
	cmd  *exec.Cmd
	addr string // the receiver's host:port
	url  string // its webhook URL
	log  *os.File
}

// startDaemon runs bin with a fresh configuration in dir, and waits until
// its receiver accepts connections.
func startDaemon(ctx context.Context, bin, dir string) (*daemon, error) {
	addr, err := binrun.FreeAddr()
	if err != nil {
		return nil, err
	}
	for _, d := range []string{"inbox", "state", "out"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o750); err != nil {
			return nil, err
		}
	}
	cfg := fmt.Sprintf(`state_dir  = %q
output_dir = %q
[api]
base_url = "http://127.0.0.1:9/api/v1"
[receiver]
listen = %q
[admin]
listen = ""
[[source]]
name = "inbox"
path = %q
`, filepath.Join(dir, "state"), filepath.Join(dir, "out"), addr, filepath.Join(dir, "inbox"))
	cfgPath := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		return nil, err
	}
	logf, err := os.Create(filepath.Join(dir, "daemon.log"))
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, bin, "run", "--config", cfgPath)
	cmd.Env = append(os.Environ(), "DOCUPARSE_API_KEY=dex_flood", "DOCUPARSE_WEBHOOK_SECRET="+Secret)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	d := &daemon{cmd: cmd, addr: addr, url: "http://" + addr + "/webhooks/docuparse", log: logf}
	if err := binrun.WaitListeningFor(addr, 30*time.Second); err != nil {
		d.stop()
		return nil, fmt.Errorf("%w (log: %s)", err, logf.Name())
	}
	return d, nil
}

func (d *daemon) pid() int { return d.cmd.Process.Pid }

// stop sends SIGTERM and waits (SIGKILL after 30 s).
func (d *daemon) stop() {
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		_ = d.cmd.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		_ = d.cmd.Process.Kill()
		<-done
	}
	d.log.Close()
}
