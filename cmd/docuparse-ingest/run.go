package main

import (
	"context"
	"io"
	"log/slog"

	"github.com/docuparse/docuparse-ingest/internal/config"
	"github.com/docuparse/docuparse-ingest/internal/daemon"
)

func (m *Main) runDaemon(ctx context.Context, args []string) error {
	fs := m.newFlags("run")
	path := fs.String("config", config.DefaultPath, "configuration file")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := config.Load(*path, m.Getenv)
	if err != nil {
		return err
	}
	log := newLogger(m.Stderr, cfg.Log)
	d, err := daemon.New(ctx, cfg, daemon.Options{Logger: log})
	if err != nil {
		return err
	}
	if err := d.Start(ctx); err != nil {
		d.Stop()
		return err
	}
	<-ctx.Done()
	log.Info("shutting down")
	d.Stop()
	log.Info("stopped")
	return nil
}

func newLogger(w io.Writer, c config.Log) *slog.Logger {
	opts := &slog.HandlerOptions{Level: c.SlogLevel()}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
