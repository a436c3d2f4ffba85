package main

import (
	"context"
	"fmt"

	"github.com/docuparse/docuparse-ingest/internal/config"
	"github.com/docuparse/docuparse-ingest/internal/daemon"
	"github.com/docuparse/docuparse-ingest/internal/safetext"
	"github.com/docuparse/docuparse-ingest/internal/store"
	"github.com/docuparse/docuparse-ingest/internal/vocab"
	"github.com/docuparse/docuparse-ingest/reconcile"
)

// runReconcile runs one reconciliation pass now: it polls every pending
// document at once, whatever reconcile.webhook_grace and its backoff say,
// printing what each poll found, names each document not yet submitted
// (nothing to poll), and verifies batches as the daemon does every
// reconcile.poll_interval. Results it applies are exported by the running
// daemon.
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
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	client, err := daemon.NewClient(cfg, newLogger(m.Stderr, cfg.Log), nil)
	if err != nil {
		return err
	}
	p := reconcile.New(reconcile.Config{Store: st, Client: client, WebhookGrace: cfg.PollGrace(),
		PollInterval: cfg.Reconcile.PollInterval.D(), Logger: newLogger(m.Stderr, cfg.Log)})
	pass, err := p.PollAll(ctx, func(d store.Document, found string) {
		fmt.Fprintf(m.Stdout, "polled %d (%s): %s\n", d.ID, safetext.Visible(d.Path), safetext.Visible(found))
	})
	if err == nil {
		err = m.printUnpolled(ctx, st)
	}
	fmt.Fprintf(m.Stdout, "polled %d document(s): %d completed, %d failed, %d still processing, %d error(s)\n",
		pass.Polled+pass.Errors, pass.Completed, pass.Failed, pass.Processing, pass.Errors)
	fmt.Fprintf(m.Stdout, "verified %d batch(es) with the API: %d mismatch(es), %d error(s)\n", pass.Verified, pass.Mismatches, pass.VerifyErrors)
	fmt.Fprintf(m.Stdout, "%d API call(s)\n", pass.Calls())
	return err
}

// printUnpolled names each document still waiting for a result that
// reconcile cannot poll, with the reason: it has no API id yet.
func (m *Main) printUnpolled(ctx context.Context, st *store.Store) error {
	for _, state := range []store.State{store.StateQueued, store.StateSubmitting} {
		docs, err := st.Documents(ctx, state, 0)
		if err != nil {
			return err
		}
		for _, d := range docs {
			fmt.Fprintf(m.Stdout, "not polled %d (%s): %s\n", d.ID, safetext.Visible(d.Path), unpolledReason(d))
		}
	}
	return nil
}

// unpolledReason says why a queued or submitting document is not polled.
func unpolledReason(d store.Document) string {
	switch {
	case d.State == store.StateQueued:
		return "queued, not submitted yet: nothing to poll"
	case d.ErrorCode == vocab.CodeSubmitStuck:
		return fmt.Sprintf("stuck at submission (%s): the API never gave it an id; retry --stuck resubmits it", vocab.CodeSubmitStuck)
	default:
		return "its upload is under way: no API id to poll yet"
	}
}
