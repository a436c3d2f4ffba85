package binrun

import (
	"context"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Main is the main function of the measurement and fault-injection tools:
// it runs run with the command line and standard streams under a context
// cancelled by SIGINT or SIGTERM, and exits with the code run returns.
func Main(run func(ctx context.Context, args []string, stdout, stderr io.Writer) int) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
