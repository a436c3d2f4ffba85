package daemon

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/apiclient"
	"github.com/docuparse/docuparse-ingest/internal/export"
	"github.com/docuparse/docuparse-ingest/internal/health"
	"github.com/docuparse/docuparse-ingest/internal/lifecycle"
)

// DefaultAPIUnreachableAfter is how long every API request may fail (no
// connection, a timeout, a 5xx) before the API is reported unreachable.
const DefaultAPIUnreachableAfter = 30 * time.Second

// healthInterval is how often the API's reachability is judged without a
// /readyz probe, so that `status` shows it too.
const healthInterval = 5 * time.Second

// buildHealth builds the problem tracker, writing its file in state_dir,
// and the service that judges the API's reachability.
func (d *Daemon) buildHealth() service {
	d.health = health.New(health.Options{Dir: d.cfg.StateDir, Logger: d.log.With("component", "health"),
		OnChange: d.metrics.Problem})
	for _, what := range []string{health.APIUnreachable, health.APIKey, health.Export} {
		d.metrics.Problem(what, false) // every series exists from the start
	}
	return healthService{d}
}

// observeAPI judges each API request attempt: 401/403 starts the api_key
// problem and any other answer below 500 (but 429) ends it; an answer ends
// a run of failures, and a failure starts one if none was running.
func (d *Daemon) observeAPI(ri apiclient.RequestInfo) {
	code := ri.StatusCode
	switch {
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		d.health.Set(health.APIKey, fmt.Sprintf("the API answered HTTP %d to %s", code, ri.Endpoint))
	case code >= 200 && code < 500 && code != http.StatusTooManyRequests:
		d.health.Clear(health.APIKey)
	}
	d.apiMu.Lock()
	answered := code > 0 && code < 500
	if answered {
		d.apiFailingSince = time.Time{}
	} else if d.apiFailingSince.IsZero() {
		d.apiFailingSince = time.Now()
	}
	d.apiMu.Unlock()
	if answered {
		d.health.Clear(health.APIUnreachable)
	}
}

// judgeAPI starts the api_unreachable problem once every request has
// failed for longer than Options.APIUnreachableAfter.
func (d *Daemon) judgeAPI() {
	d.apiMu.Lock()
	since := d.apiFailingSince
	d.apiMu.Unlock()
	if !since.IsZero() && time.Since(since) > d.opts.APIUnreachableAfter {
		d.health.Set(health.APIUnreachable, "every API request has failed (no connection, a timeout or HTTP 5xx) since "+
			since.UTC().Format(time.RFC3339))
	}
}

// apiHealthy is the "api" readiness check: the API unreachable for longer
// than Options.APIUnreachableAfter.
func (d *Daemon) apiHealthy(ctx context.Context) error {
	d.judgeAPI()
	return d.health.Check(health.APIUnreachable)(ctx)
}

// exportPass records an export pass for metrics and the export problem:
// a failed pass starts it, and so do documents held from export (an
// output folder not writable, not a folder, an unsafe path; see
// export.Exporter) or a CSV file held (Exporter.Held); a pass with none
// of these ends it.
func (d *Daemon) exportPass(n int, err error) {
	ctx := context.Background()
	if err != nil && !errors.Is(err, export.ErrHeld) {
		err = fmt.Errorf("export failed; will retry: %w", err)
	} else {
		err = d.exporter.Held(ctx)
	}
	if err == nil {
		if held, herr := d.store.ExportHeld(ctx, 1); herr == nil && len(held) > 0 {
			err = fmt.Errorf("documents held from export, tried again with backoff; the oldest, %s: %s", held[0].FileName, held[0].ExportError)
		}
	}
	d.metrics.ExportPass(time.Now(), n, err != nil)
	if err != nil {
		d.health.Set(health.Export, err.Error())
		return
	}
	d.health.Clear(health.Export)
}

// startHealth judges the API's reachability every healthInterval.
func (d *Daemon) startHealth(ctx context.Context) {
	d.healthGroup.Go(ctx, func(ctx context.Context) {
		lifecycle.Every(ctx, healthInterval, func(context.Context) { d.judgeAPI() })
	})
}
