package main

import (
	"context"
	"fmt"

	"github.com/docuparse/docuparse-ingest/internal/config"
	"github.com/docuparse/docuparse-ingest/internal/daemon"
	"github.com/docuparse/docuparse-ingest/reconcile"
)

// runReconcile runs one reconciliation pass now: polls overdue documents
// and verifies batches, as the daemon does every reconcile.poll_interval.
// Results it applies are exported by the running daemon.
func (m *Main) runReconcile(ctx context.Context, args []string) error {
	fs := m.newFlags("reconcile")
	path := fs.String("config", config.DefaultPath, "configuration file")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := config.Load(*path, m.Getenv)
	if err != nil {
		return err
	}
	st, err := m.openState(ctx, *path)
	if err != nil {
		return err
	}
	defer st.Close()
	client, err := daemon.NewClient(cfg, newLogger(m.Stderr, cfg.Log), nil)
	if err != nil {
		return err
	}
	grace := cfg.Reconcile.WebhookGrace.D()
	if !cfg.Receiver.Enabled {
		grace = 0
	}
	p := reconcile.New(reconcile.Config{Store: st, Client: client, WebhookGrace: grace,
		PollInterval: cfg.Reconcile.PollInterval.D(), Logger: newLogger(m.Stderr, cfg.Log)})
	pass, err := p.RunOnce(ctx)
	fmt.Fprintf(m.Stdout, "polled %d document(s): %d completed, %d failed, %d still processing, %d error(s)\n",
		pass.Polled+pass.Errors, pass.Completed, pass.Failed, pass.Processing, pass.Errors)
	fmt.Fprintf(m.Stdout, "verified %d batch(es) with the API: %d mismatch(es), %d error(s)\n", pass.Verified, pass.Mismatches, pass.VerifyErrors)
	fmt.Fprintf(m.Stdout, "%d API call(s)\n", pass.Calls())
	return err
}
