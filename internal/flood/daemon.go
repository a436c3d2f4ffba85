package flood

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/docuparse/docuparse-ingest/internal/binrun"
)

// Secret is the webhook secret the measured daemon is started with; real
// deliveries are signed with it, attacks are not.
const Secret = "whsec_flood_measurement_0123456789"

// daemon is one docuparse-ingest run process under measurement.
type daemon struct {
	*binrun.Daemon
	addr string // the receiver's host:port
	url  string // its webhook URL
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
	d, err := binrun.StartDaemon(ctx, bin, dir, cfg, []string{"DOCUPARSE_API_KEY=dex_flood", "DOCUPARSE_WEBHOOK_SECRET=" + Secret}, addr)
	if err != nil {
		return nil, err
	}
	return &daemon{Daemon: d, addr: addr, url: "http://" + addr + "/webhooks/docuparse"}, nil
}
