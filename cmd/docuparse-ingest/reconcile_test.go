package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/config"
	"github.com/docuparse/docuparse-ingest/internal/e2e"
	"github.com/docuparse/docuparse-ingest/internal/samples"
	"github.com/docuparse/docuparse-ingest/internal/sim"
	"github.com/docuparse/docuparse-ingest/internal/store"
)

// reconcile polls now: a document submitted a moment ago, well inside
// reconcile.webhook_grace, is polled and named in the output, and a
// document not yet submitted is named with the reason it is not polled.
func TestReconcilePollsEveryPendingDocumentNowWhateverTheGrace(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	inbox := filepath.Join(dir, "inbox")
	if err := os.MkdirAll(inbox, 0o755); err != nil {
		t.Fatal(err)
	}
	files := samples.Generate(2, 7)
	path := filepath.Join(inbox, files[0].Name)
	tr := e2e.NewTracker()
	// The API takes an hour per document and sends no webhook: the
	// document waits in submitted, its grace (5 min) far from over.
	api := e2e.StartSim(t, sim.Config{ProcessingDelay: time.Hour})
	d, text := startRetryDaemon(t, api, dir, inbox, tr)
	api.SetWebhookURL("")
	if err := os.WriteFile(path, files[0].Content, 0o644); err != nil {
		t.Fatal(err)
	}
	tr.WaitFor(t, "the file submitted", 30*time.Second, func() bool { return tr.Reached(path, store.StateSubmitted, 1) })
	d.Stop()
	submitted := tr.Transitions(path)[0].DocID
	queued, queuedPath := queueOne(t, dir, inbox, files[1].Name, files[1].Content)
	cfgPath := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(cfgPath, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}

	env := map[string]string{"DOCUPARSE_API_KEY": e2e.APIKey, "DOCUPARSE_WEBHOOK_SECRET": e2e.WebhookSecret}
	out, _, err := run(t, env, "", "reconcile", "--config", cfgPath)
	if err != nil {
		t.Fatalf("reconcile: %v\n%s", err, out)
	}
	for _, want := range []string{
		fmt.Sprintf("polled %d (%s): still processing\n", submitted, path),
		fmt.Sprintf("not polled %d (%s): queued, not submitted yet: nothing to poll\n", queued, queuedPath),
		"polled 1 document(s): 0 completed, 0 failed, 1 still processing, 0 error(s)\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in:\n%s", want, out)
		}
	}
	if n := api.Stats().Requests["GET /documents/{id}"][200]; n != 1 {
		t.Errorf("%d document polls answered by the API, want 1: %v", n, api.Stats().Requests)
	}
}

// queueOne takes a file in as a queued document through the store, as
// intake would with the daemon stopped before submitting it.
func queueOne(t *testing.T, dir, inbox, name string, content []byte) (int64, string) {
	t.Helper()
	path := filepath.Join(inbox, name)
	if err := os.WriteFile(path, content, 0o644); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(context.Background(), filepath.Join(dir, "state", config.StateFile), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	sum := sha256.Sum256(content)
	r, err := st.Intake(context.Background(), store.NewFile{Source: "inbox", Path: path, FileName: name,
		Size: fi.Size(), ModTime: fi.ModTime(), SHA256: hex.EncodeToString(sum[:])})
	if err != nil {
		t.Fatal(err)
	}
	return r.ID, path
}
