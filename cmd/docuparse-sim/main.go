// Command docuparse-sim serves a local DocuParse API (internal/sim) for
// demos, tests and staging: every endpoint of the contract, signed webhooks
// with retries, and optional seeded faults.
//
//	DOCUPARSE_API_KEY=dex_local DOCUPARSE_WEBHOOK_SECRET=whsec_local_0123456789 \
//	  docuparse-sim --webhook-url http://127.0.0.1:8080/webhooks/docuparse
//
// It prints the base URL to use as api.base_url, logs with log/slog to
// stderr, and stops cleanly on SIGINT or SIGTERM. GET /_sim/stats serves
// its counters, GET/POST /_sim/faults reads and changes the fault knobs
// while it runs, and with --hold-webhooks GET /_sim/held-events serves the
// event bodies it kept instead of delivering them. This file only parses flags
// and wires the simulator.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/sim"
)

// parse parses args; what the flag set printed into out goes to stdout
// for --help (help is then true) and to stderr after a flag error.
func parse(fs *flag.FlagSet, args []string, out *bytes.Buffer, stdout, stderr io.Writer) (help bool, err error) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			_, _ = stdout.Write(out.Bytes())
			return true, nil
		}
		_, _ = stderr.Write(out.Bytes())
		return false, err
	}
	if fs.NArg() > 0 {
		return false, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	return false, nil
}

// simUsage heads --help; %s is the address it will listen on.
const simUsage = `Usage: docuparse-sim [flags]

Serves a local DocuParse API. Configure docuparse-ingest with
  [api]
  base_url = "http://%s/api/v1"
and start the simulator with the daemon's receiver as its webhook URL:
  --webhook-url http://127.0.0.1:8080/webhooks/docuparse
(receiver.listen and receiver.path). It prints the base URL when it starts.

Environment: DOCUPARSE_API_KEY (required; the daemon must use the same key),
DOCUPARSE_WEBHOOK_SECRET (required with --webhook-url; the daemon must use the same secret).

Flags:
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "docuparse-sim:", err)
		os.Exit(2)
	}
}

// run parses args, serves until ctx ends, and returns nil after a clean stop.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("docuparse-sim", flag.ContinueOnError)
	var flagOut bytes.Buffer // help goes to stdout, a flag error's usage to stderr
	fs.SetOutput(&flagOut)
	var (
		cfg     sim.Config
		listen  = fs.String("listen", "127.0.0.1:8081", "address to serve the API on")
		verbose = fs.Bool("verbose", false, "log at debug level (every webhook attempt)")
	)
	fs.StringVar(&cfg.WebhookURL, "webhook-url", "", "where to POST webhook events (empty: no webhooks)")
	fs.DurationVar(&cfg.ProcessingDelay, "processing-delay", time.Second, "time each document takes to process")
	fs.Float64Var(&cfg.FailureRate, "failure-rate", 0, "share 0..1 of good documents that fail extraction anyway")
	fs.Float64Var(&cfg.TimeScale, "time-scale", 1, "multiplier of the webhook retry schedule (1m, 5m, 30m, 2h, 6h, 24h)")
	fs.DurationVar(&cfg.DeliveryTimeout, "delivery-timeout", 10*time.Second, "timeout of one webhook delivery")
	fs.IntVar(&cfg.WebhookWorkers, "webhook-workers", 4, "concurrent webhook deliveries")
	fs.BoolVar(&cfg.HoldWebhooks, "hold-webhooks", false, "deliver no webhook; keep each event's body for GET /_sim/held-events (a load generator posts them)")
	fs.Float64Var(&cfg.WebhookDropRate, "webhook-drop-rate", 0, "fault: share of events never delivered")
	fs.Float64Var(&cfg.WebhookDuplicateRate, "webhook-duplicate-rate", 0, "fault: share of events delivered twice")
	fs.DurationVar(&cfg.WebhookReorder, "webhook-reorder", 0, "fault: random extra delay up to this before an event's first delivery")
	fs.Float64Var(&cfg.Rate429, "rate-429", 0, "fault: share of API requests answered 429")
	fs.Float64Var(&cfg.Rate503, "rate-503", 0, "fault: share of API requests answered 503")
	fs.IntVar(&cfg.RetryAfterSeconds, "retry-after", 1, "Retry-After seconds of injected 429/503")
	fs.Float64Var(&cfg.DropConnectionRate, "drop-connection-rate", 0, "fault: share of submits whose connection is closed after the documents are created")
	fs.DurationVar(&cfg.SubmitDelay, "submit-delay", 0, "fault: hold every submit this long before creating anything (a slow API)")
	fs.Int64Var(&cfg.UploadRate, "upload-rate", 0, "fault: read every submit's body at this many bytes per second (0: unpaced)")
	fs.Float64Var(&cfg.UploadStallRate, "upload-stall-rate", 0, "fault: share of submits that stop reading their body for --upload-stall")
	fs.Int64Var(&cfg.UploadStallAfter, "upload-stall-after", 0, "fault: bytes of the body read before a stalled submit stops")
	fs.DurationVar(&cfg.UploadStall, "upload-stall", time.Minute, "fault: how long a stalled submit stops reading")
	fs.Int64Var(&cfg.Seed, "seed", 1, "seed of the fault generator")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), simUsage, *listen)
		fs.PrintDefaults()
	}
	if help, err := parse(fs, args, &flagOut, stdout, stderr); help || err != nil {
		return err
	}

	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	cfg.Logger = log
	cfg.APIKey = getenv("DOCUPARSE_API_KEY")
	if cfg.APIKey == "" {
		return errors.New("DOCUPARSE_API_KEY is not set")
	}
	if s := getenv("DOCUPARSE_WEBHOOK_SECRET"); s != "" {
		cfg.WebhookSecret = []byte(s)
	}
	if cfg.WebhookURL != "" && len(cfg.WebhookSecret) == 0 {
		return errors.New("--webhook-url needs DOCUPARSE_WEBHOOK_SECRET")
	}

	s, err := sim.New(cfg)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("listen %s: %w", *listen, err)
	}
	base := "http://" + ln.Addr().String() + "/api/v1"
	fmt.Fprintln(stdout, base)
	log.Info("docuparse-sim serving", "base_url", base, "webhooks", cfg.WebhookURL != "",
		"processing_delay", cfg.ProcessingDelay, "failure_rate", cfg.FailureRate, "time_scale", cfg.TimeScale)

	s.Start(ctx)
	err = s.Serve(ctx, ln)
	s.Stop()
	st := s.Stats()
	log.Info("docuparse-sim stopped", "documents_created", st.DocumentsCreated,
		"webhooks_acknowledged", st.WebhooksAcknowledged, "webhooks_pending", st.WebhooksPending)
	return err
}
