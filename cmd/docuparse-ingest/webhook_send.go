package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/config"
	"github.com/docuparse/docuparse-ingest/internal/docuparse"
	"github.com/docuparse/docuparse-ingest/internal/safetext"
	"github.com/docuparse/docuparse-ingest/internal/samples"
)

// runWebhookSend signs and posts an event to a receiver, so nobody has to
// compute YOUR_COMPUTED_SIGNATURE by hand.
func (m *Main) runWebhookSend(ctx context.Context, args []string) error {
	fs := m.newFlags("webhook send")
	path := fs.String("config", "", "configuration file: the default --url is then http://receiver.listen/receiver.path, the secret the receiver's")
	url := fs.String("url", "http://127.0.0.1:8080/webhooks/docuparse", "receiver URL")
	event := fs.String("event", docuparse.EventDocumentCompleted, "document.completed, document.failed or batch.completed")
	docID := fs.String("document-id", "doc_test123", "document_id of a document event")
	batchID := fs.String("batch-id", "batch_test123", "batch_id of a batch.completed event")
	payload := fs.String("payload", "", "send this file's bytes (- for stdin) instead of a sample event")
	secretFile := fs.String("secret-file", "", "file holding the webhook secret (default: $"+config.EnvWebhookSecret+")")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := m.optionalConfig(*path)
	if err != nil {
		return err
	}
	if cfg != nil && !flagSet(fs, "url") {
		*url = receiverURL(cfg.Receiver)
	}
	secret, err := m.webhookSecret(cfg, *secretFile)
	if err != nil {
		return err
	}
	var body []byte
	switch *payload {
	case "":
		if body, err = sampleEvent(*event, *docID, *batchID, time.Now()); err != nil {
			return err
		}
	case "-":
		body, err = io.ReadAll(io.LimitReader(m.Stdin, maxSignBody))
	default:
		body, err = os.ReadFile(*payload)
	}
	if err != nil {
		return fmt.Errorf("read payload: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, *url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("webhook send: %w", err)
	}
	var e docuparse.Event
	_ = json.Unmarshal(body, &e)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(docuparse.HeaderSignature, docuparse.Sign(secret, body))
	if e.Event != "" {
		req.Header.Set(docuparse.HeaderEvent, e.Event)
	}
	client := &http.Client{Timeout: 15 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("webhook send: %w", err)
	}
	defer resp.Body.Close()
	reply, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	fmt.Fprintf(m.Stdout, "POST %s → %s\n", safetext.Visible(*url), safetext.Visible(resp.Status))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("receiver answered %s: %s", resp.Status, bytes.TrimSpace(reply))
	}
	return nil
}

// optionalConfig loads the configuration at path, secrets optional; nil
// when path is empty.
func (m *Main) optionalConfig(path string) (*config.Config, error) {
	if path == "" {
		return nil, nil
	}
	return config.LoadWithoutSecrets(path, m.Getenv)
}

// flagSet reports whether the flag name was given on the command line.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// receiverURL is the URL of the receiver r describes, on loopback when it
// listens on every address.
func receiverURL(r config.Receiver) string {
	host, port, err := net.SplitHostPort(r.Listen)
	if err != nil {
		return "http://" + r.Listen + r.Path
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port) + r.Path
}

// webhookSecret returns the first secret from --secret-file, else from the
// configuration cfg (when not nil; its secrets include the environment's),
// else from the environment, read and checked by the functions the daemon
// uses: a value the daemon would refuse is an error here too, never a
// signature.
func (m *Main) webhookSecret(cfg *config.Config, file string) ([]byte, error) {
	var secrets []config.Secret
	if file == "" && cfg != nil {
		secrets = cfg.Receiver.Secrets
	} else if file != "" {
		var err error
		if secrets, err = config.ReadSecretFile(file); err != nil {
			return nil, err
		}
	} else {
		var err error
		if secrets, err = config.ParseWebhookSecrets(m.Getenv(config.EnvWebhookSecret)); err != nil {
			return nil, fmt.Errorf("%s: %w", config.EnvWebhookSecret, err)
		}
	}
	if len(secrets) == 0 {
		return nil, errors.New("no webhook secret: set " + config.EnvWebhookSecret + ", pass --secret-file or a --config naming receiver.secret_file")
	}
	return []byte(secrets[0].Reveal()), nil
}

// sampleEvent builds an event shaped exactly like the article's examples.
func sampleEvent(event, docID, batchID string, now time.Time) ([]byte, error) {
	e := docuparse.Event{Event: event, Timestamp: now.UTC().Format(time.RFC3339)}
	switch event {
	case docuparse.EventDocumentCompleted:
		f := samples.Demo()[0]
		inv, err := samples.Parse(f.Name, f.Content)
		if err != nil {
			return nil, err
		}
		data, err := json.Marshal(inv.Data())
		if err != nil {
			return nil, err
		}
		e.DocumentID, e.Data = docID, data
	case docuparse.EventDocumentFailed:
		e.DocumentID = docID
		e.Error = &docuparse.Error{Code: docuparse.CodeExtractionFailed, Message: "Document extraction failed for this file."}
	case docuparse.EventBatchCompleted:
		e.BatchID = batchID
		e.Summary = &docuparse.Summary{Total: 12, Succeeded: 11, Failed: 1}
	default:
		return nil, usageError{fmt.Sprintf("webhook send: unknown event %q (document.completed, document.failed, batch.completed)", event)}
	}
	return json.Marshal(e)
}
