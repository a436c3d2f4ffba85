package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/binrun"
	"github.com/docuparse/docuparse-ingest/internal/sim"
)

// options are the command's flags.
type options struct {
	Sizes    []int
	Baseline string
	Passes   int
	Poll     time.Duration
}

// binary is a docuparse-ingest build under measurement.
type binary = binrun.Binary

// sizeResult is everything measured at one prefix size.
type sizeResult struct {
	Objects int
	List    listResult
	Daemons []daemonResult
}

// bench builds the binaries, starts the simulator, and measures each size.
func bench(ctx context.Context, o options, stdout, stderr io.Writer) error {
	dir, err := os.MkdirTemp("", "docuparse-bench-bucket-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	for _, kv := range s3Env(dir) {
		k, v, _ := cutEnv(kv)
		os.Setenv(k, v) // this process seeds the store through the same chain
	}
	bins, err := binrun.BuildAll(ctx, o.Baseline, dir)
	if err != nil {
		return err
	}
	apiURL, stopSim, err := startSim(ctx)
	if err != nil {
		return err
	}
	defer stopSim()
	var results []sizeResult
	for _, n := range o.Sizes {
		fmt.Fprintf(stderr, "measuring %d objects…\n", n)
		r, err := measureSize(ctx, o, n, bins, filepath.Join(dir, fmt.Sprint(n)), apiURL)
		if err != nil {
			return err
		}
		results = append(results, r)
	}
	markdown(stdout, o, results)
	return nil
}

// measureSize starts a server with n objects, seeds a store, runs the
// baseline and then each binary's daemon.
func measureSize(ctx context.Context, o options, n int, bins []binary, dir, apiURL string) (sizeResult, error) {
	res := sizeResult{Objects: n}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return res, err
	}
	srv, err := startS3(ctx, n)
	if err != nil {
		return res, err
	}
	defer srv.stop()
	seedDB := filepath.Join(dir, "seed.db")
	if got, err := seed(ctx, srv.bucketURL(), seedDB, sourceName); err != nil || got != n {
		return res, fmt.Errorf("seed: %d of %d objects: %v", got, n, err)
	}
	if res.List, err = runListOnly(ctx, srv.bucketURL(), o.Passes); err != nil {
		return res, err
	}
	for i, b := range bins {
		r, err := measureDaemon(ctx, b, seedDB, filepath.Join(dir, fmt.Sprint("daemon-", i)), srv, apiURL, o.Passes, o.Poll)
		if err != nil {
			return res, fmt.Errorf("%s: %w", b.Name, err)
		}
		res.Daemons = append(res.Daemons, r)
	}
	return res, nil
}

// startSim runs the API simulator in this process on loopback.
func startSim(ctx context.Context) (string, func(), error) {
	s, err := sim.New(sim.Config{APIKey: apiKey, WebhookSecret: []byte(webhookSecret)})
	if err != nil {
		return "", nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	ctx, cancel := context.WithCancel(ctx)
	s.Start(ctx)
	return "http://" + ln.Addr().String() + "/api/v1", func() { s.Stop(); cancel(); _ = srv.Close() }, nil
}

func cutEnv(kv string) (string, string, bool) {
	for i := range len(kv) {
		if kv[i] == '=' {
			return kv[:i], kv[i+1:], true
		}
	}
	return kv, "", false
}
