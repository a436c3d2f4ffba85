package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/binrun"
	"github.com/docuparse/docuparse-ingest/internal/docuparse"
)

// ceilingMain is the burst's ceiling, a process of its own (this
// program's hidden ceiling mode): a bare net/http handler on -listen that
// reads the body, checks its HMAC against webhookSecret and answers 200 —
// what receiving a signed webhook costs with nothing durable, nothing
// parsed. It serves until ctx ends (SIGTERM).
func ceilingMain(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("ceiling", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "", "address to listen on")
	if err := fs.Parse(args); err != nil {
		return err
	}
	secrets := [][]byte{[]byte(webhookSecret)}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		if !docuparse.Verify(secrets, body, r.Header.Get(docuparse.HeaderSignature)) {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	if err := srv.Serve(ln); err != http.ErrServerClosed {
		return err
	}
	return nil
}

// ceilingProc is one running ceiling process.
type ceilingProc struct {
	cmd *exec.Cmd
	log *os.File
	url string
}

// startCeiling runs this program's ceiling mode on a free loopback port,
// its output in dir/ceiling.log, and waits until it listens.
func startCeiling(ctx context.Context, dir string) (*ceilingProc, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	addr, err := binrun.FreeAddr()
	if err != nil {
		return nil, err
	}
	logf, err := os.Create(filepath.Join(dir, "ceiling.log"))
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, self, "ceiling", "-listen", addr)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	c := &ceilingProc{cmd: cmd, log: logf, url: "http://" + addr + "/webhooks/docuparse"}
	if err := binrun.WaitListeningFor(addr, 30*time.Second); err != nil {
		c.stop()
		return nil, fmt.Errorf("the ceiling did not listen (log: %s): %w", logf.Name(), err)
	}
	return c, nil
}

// stop sends SIGTERM and waits (SIGKILL after 10 s), then closes the log.
func (c *ceilingProc) stop() {
	binrun.Terminate(c.cmd, 10*time.Second)
	c.log.Close()
}
