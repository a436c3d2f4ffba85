package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/binrun"
)

// pass is one steady-state listing of the daemon's bucket source.
type pass struct {
	Seconds        float64 // docuparse_bucket_listing_duration_seconds
	Requests       int     // increase of docuparse_bucket_list_requests_total
	ServerRequests int     // list requests the S3 server counted meanwhile
	Objects        int     // docuparse_bucket_objects
}

// daemonResult is what one binary's daemon measured.
type daemonResult struct {
	Name   string
	First  pass   // the listing at start (not counted as steady state)
	Passes []pass // the steady-state listings after it
	HWM    int64  // the daemon's peak resident memory, bytes
	Queued float64
}

// measureDaemon runs bin on a copy of the seeded store and records its
// first listing and then passes steady-state listings.
func measureDaemon(ctx context.Context, bin binary, seedDB, dir string, srv *s3Server, apiURL string, passes int, poll time.Duration) (daemonResult, error) {
	res := daemonResult{Name: bin.Name}
	if err := os.MkdirAll(filepath.Join(dir, "state"), 0o750); err != nil {
		return res, err
	}
	if err := copyFile(seedDB, filepath.Join(dir, "state", "state.db")); err != nil {
		return res, err
	}
	before, err := srv.counts()
	if err != nil {
		return res, err
	}
	d, err := startDaemon(ctx, bin.Path, dir, srv.bucketURL(), apiURL, poll)
	if err != nil {
		return res, err
	}
	defer d.Stop()
	var seen float64 // list requests the daemon reported so far
	lastServer := before.List
	for i := 0; i <= passes; i++ {
		if err := waitListing(ctx, d, seen, 10*time.Minute); err != nil {
			return res, fmt.Errorf("%w (log: %s)", err, d.Log.Name())
		}
		c, err := srv.counts() // at once: the next listing is a poll away
		if err != nil {
			return res, err
		}
		// The listing's series are set one after another: read them again
		// now that all are.
		m, docs, err := d.metrics()
		if err != nil {
			return res, err
		}
		p := pass{Seconds: m["listing_duration_seconds"], Requests: int(m["list_requests_total"] - seen),
			ServerRequests: int(c.List - lastServer), Objects: int(m["objects"])}
		seen, lastServer, res.Queued = m["list_requests_total"], c.List, docs["queued"]
		if m["listing_errors_total"] > 0 {
			return res, fmt.Errorf("a listing failed (log: %s)", d.Log.Name())
		}
		if i == 0 {
			res.First = p
		} else {
			res.Passes = append(res.Passes, p)
		}
	}
	res.HWM, err = binrun.PeakRSS(d.Cmd.Process.Pid)
	return res, err
}

// waitListing scrapes the daemon's /metrics until a listing has ended
// since the one that brought list_requests_total to seen.
func waitListing(ctx context.Context, d *daemonRun, seen float64, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		m, _, err := d.metrics()
		if err == nil && m["list_requests_total"] > seen {
			return nil
		}
		if d.Cmd.ProcessState != nil {
			return fmt.Errorf("the daemon exited")
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second): // each scrape counts the documents in the store
		}
	}
	return fmt.Errorf("no listing ended within %s", limit)
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
