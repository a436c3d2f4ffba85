package daemon

import (
	"context"

	"github.com/docuparse/docuparse-ingest/internal/health"
	"github.com/docuparse/docuparse-ingest/internal/mirror"
)

// buildMirror builds the mirror of the outputs into output_url's bucket,
// when it is set. It is woken by each document exported (transition) and
// each report written, and sweeps on its own ticker too.
func (d *Daemon) buildMirror(ctx context.Context) (service, error) {
	cfg := d.cfg
	if cfg.OutputURL == "" {
		return nil, nil
	}
	m, err := mirror.New(ctx, mirror.Config{
		Store:      d.store,
		Layout:     cfg.Layout(),
		URL:        cfg.OutputURL,
		Health:     d.health,
		OnPending:  d.metrics.MirrorPending,
		OnUploaded: d.metrics.MirrorUploaded,
		Logger:     d.log.With("component", "mirror"),
	})
	if err != nil {
		return nil, err
	}
	d.metrics.Problem(health.Mirror, false) // the series exists from the start
	d.mirror = m
	return part{m}, nil
}
