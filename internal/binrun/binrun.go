// Package binrun owns what the measurement and fault-injection tools
// (cmd/docuparse-flood, cmd/docuparse-bench-bucket, cmd/docuparse-bench,
// internal/chaos) need to run the built daemon as a user does: building
// docuparse-ingest from this tree or from an earlier git revision (the
// baseline measured beside it) and the other commands they run beside it,
// a free loopback address for a listener, and waiting until a process
// listens on it. Only those tools and their tests import it.
package binrun

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// Binary is a built docuparse-ingest and the name it is reported under
// ("this tree", or the revision it was built from).
type Binary struct {
	Name, Path string
}

// Build builds ./cmd/docuparse-ingest of the module in srcDir into out,
// as a release is built (-trimpath, no cgo).
func Build(ctx context.Context, srcDir, out string) error {
	return BuildCommand(ctx, srcDir, "./cmd/docuparse-ingest", out)
}

// BuildCommand builds the command pkg (such as "./cmd/docuparse-sim") of
// the module in srcDir into out, the way Build builds the daemon.
func BuildCommand(ctx context.Context, srcDir, pkg, out string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", out, pkg)
	cmd.Dir = srcDir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build in %s: %v: %s", srcDir, err, b)
	}
	return nil
}

// BuildRevision builds docuparse-ingest from git revision rev (git archive
// into dir, so the working tree is not touched) and returns it named rev.
func BuildRevision(ctx context.Context, rev, dir string) (Binary, error) {
	src := filepath.Join(dir, "src-"+filepath.Base(rev))
	if err := os.MkdirAll(src, 0o755); err != nil {
		return Binary{}, err
	}
	sh := exec.CommandContext(ctx, "sh", "-c", `git archive "$1" | tar -x -C "$2"`, "sh", rev, src)
	if out, err := sh.CombinedOutput(); err != nil {
		return Binary{}, fmt.Errorf("git archive %s: %v: %s", rev, err, out)
	}
	bin := filepath.Join(dir, "docuparse-ingest-"+filepath.Base(rev))
	if err := Build(ctx, src, bin); err != nil {
		return Binary{}, err
	}
	return Binary{Name: rev, Path: bin}, nil
}

// BuildAll builds docuparse-ingest from this tree (the working directory)
// into dir and, when rev is set, from that revision first: the binaries a
// measurement runs side by side, baseline first.
func BuildAll(ctx context.Context, rev, dir string) ([]Binary, error) {
	var bins []Binary
	if rev != "" {
		b, err := BuildRevision(ctx, rev, dir)
		if err != nil {
			return nil, err
		}
		bins = append(bins, b)
	}
	cur := filepath.Join(dir, "docuparse-ingest")
	if err := Build(ctx, ".", cur); err != nil {
		return nil, err
	}
	return append(bins, Binary{Name: "this tree", Path: cur}), nil
}

// FreeAddr returns a loopback address ("127.0.0.1:port") nothing listens
// on right now.
func FreeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// WaitListening waits until addr accepts connections, or ctx ends.
func WaitListening(ctx context.Context, addr string) error {
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case <-ctx.Done():
			return errors.Join(fmt.Errorf("nothing listened on %s", addr), ctx.Err(), err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// WaitListeningFor is WaitListening bounded by limit.
func WaitListeningFor(addr string, limit time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	return WaitListening(ctx, addr)
}
