package main

import (
	"context"
	"fmt"
	"io"

	"github.com/docuparse/docuparse-ingest/internal/config"
	"github.com/docuparse/docuparse-ingest/internal/docuparse"
)

// maxSignBody bounds what webhook sign reads from stdin.
const maxSignBody = 64 << 20

func (m *Main) runWebhook(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return usageError{"webhook: want a subcommand: sign, send, list or replay"}
	}
	if isHelp(args[0]) {
		fmt.Fprint(m.Stdout, webhookUsage)
		return nil
	}
	switch args[0] {
	case "sign":
		return m.runWebhookSign(ctx, args[1:])
	case "send":
		return m.runWebhookSend(ctx, args[1:])
	case "list":
		return m.runWebhookList(ctx, args[1:])
	case "replay":
		return m.runWebhookReplay(ctx, args[1:])
	default:
		return usageError{fmt.Sprintf("webhook: unknown subcommand %q", args[0])}
	}
}

// runWebhookSign prints the X-DocuParse-Signature value for the raw bytes on
// stdin, signed with the first webhook secret.
func (m *Main) runWebhookSign(_ context.Context, args []string) error {
	fs := m.newFlags("webhook sign")
	path := fs.String("config", "", "configuration file whose receiver secret signs (default: $"+config.EnvWebhookSecret+")")
	secretFile := fs.String("secret-file", "", "file holding the webhook secret (default: $"+config.EnvWebhookSecret+")")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := m.optionalConfig(*path)
	if err != nil {
		return err
	}
	secret, err := m.webhookSecret(cfg, *secretFile)
	if err != nil {
		return err
	}
	body, err := io.ReadAll(io.LimitReader(m.Stdin, maxSignBody+1))
	if err != nil {
		return fmt.Errorf("read payload: %w", err)
	}
	if len(body) > maxSignBody {
		return fmt.Errorf("payload larger than %d bytes", maxSignBody)
	}
	fmt.Fprintln(m.Stdout, docuparse.Sign(secret, body))
	return nil
}
