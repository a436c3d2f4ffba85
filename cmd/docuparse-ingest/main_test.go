package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/e2e"
	"github.com/docuparse/docuparse-ingest/internal/store"
	"github.com/docuparse/docuparse-ingest/receiver"
)

// run executes one command in-process and returns its stdout and stderr.
func run(t *testing.T, env map[string]string, stdin string, args ...string) (string, string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	m := &Main{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb, Getenv: func(k string) string { return env[k] },
		SysctlDir: linksProtected(t)}
	err := m.Run(context.Background(), args)
	return out.String(), errb.String(), err
}

// linksProtected returns a folder in which the kernel's link protections
// read as on, so that check-config's output does not depend on the host.
func linksProtected(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, name := range []string{"protected_hardlinks", "protected_symlinks"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("1\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

var secretEnv = map[string]string{"DOCUPARSE_WEBHOOK_SECRET": "whsec_cli_test_secret", "DOCUPARSE_API_KEY": "dex_cli_test"}

func TestWebhookSignPrintsTheArticlesSignature(t *testing.T) {
	body := `{"event":"document.completed","document_id":"doc_test123"}`
	out, _, err := run(t, secretEnv, body, "webhook", "sign")
	if err != nil {
		t.Fatal(err)
	}
	m := hmac.New(sha256.New, []byte("whsec_cli_test_secret"))
	m.Write([]byte(body))
	if want := "sha256=" + hex.EncodeToString(m.Sum(nil)) + "\n"; out != want {
		t.Fatalf("got %q, want %q", out, want)
	}
	if _, _, err := run(t, nil, body, "webhook", "sign"); err == nil || !strings.Contains(err.Error(), "DOCUPARSE_WEBHOOK_SECRET") {
		t.Fatalf("without a secret: %v", err)
	}
}

// TestWebhookSignGivesGitHubsKnownAnswer signs GitHub's published test
// vector: its secret holds spaces, which must not split it.
func TestWebhookSignGivesGitHubsKnownAnswer(t *testing.T) {
	const secret = "It's a Secret to Everybody"
	const want = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17\n"
	file := filepath.Join(t.TempDir(), "webhook_secret")
	if err := os.WriteFile(file, []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, args := range map[string][]string{"the environment": nil, "--secret-file": {"--secret-file", file}} {
		env := map[string]string{"DOCUPARSE_WEBHOOK_SECRET": secret}
		if args != nil {
			env = nil
		}
		out, _, err := run(t, env, "Hello, World!", append([]string{"webhook", "sign"}, args...)...)
		if err != nil || out != want {
			t.Errorf("%s: got %q, %v; want %q", name, out, err, want)
		}
	}
	// The same answer from the built binary, its secret in its environment.
	cmd := exec.Command(binPath, "webhook", "sign")
	cmd.Env = append(os.Environ(), "DOCUPARSE_WEBHOOK_SECRET="+secret)
	cmd.Stdin = strings.NewReader("Hello, World!")
	if out, err := cmd.Output(); err != nil || string(out) != want {
		t.Errorf("the binary: got %q, %v; want %q", out, err, want)
	}
}

// TestWebhookCommandsRefuseWhatTheDaemonRefuses checks that sign and send
// apply the daemon's rules to a secret: an error, never a signature made
// with a fragment or a secret too short for run.
func TestWebhookCommandsRefuseWhatTheDaemonRefuses(t *testing.T) {
	file := filepath.Join(t.TempDir(), "webhook_secret")
	if err := os.WriteFile(file, []byte("whsec_cli_test_secret\nshort one\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		env  string
		args []string
		msg  string
	}{
		"words too short":        {env: "abc def ghi", msg: "DOCUPARSE_WEBHOOK_SECRET: entry 1 is too short"},
		"a short rotation key":   {env: "whsec_cli_test_secret, tiny", msg: "DOCUPARSE_WEBHOOK_SECRET: entry 2 is too short"},
		"a tab inside":           {env: "whsec_cli\ttest_secret", msg: "entry 1 contains control characters"},
		"a short line in a file": {args: []string{"--secret-file", file}, msg: "entry 2 is too short"},
	} {
		for _, cmd := range [][]string{{"webhook", "sign"}, {"webhook", "send", "--url", "http://127.0.0.1:1/"}} {
			out, _, err := run(t, map[string]string{"DOCUPARSE_WEBHOOK_SECRET": tc.env}, "{}", append(cmd, tc.args...)...)
			if err == nil || !strings.Contains(err.Error(), tc.msg) || out != "" {
				t.Errorf("%s, %s: out %q, err %v; want no output and an error containing %q", name, cmd[1], out, err, tc.msg)
			}
			if err != nil && (strings.Contains(err.Error(), "abc") || strings.Contains(err.Error(), "tiny") || strings.Contains(err.Error(), "short one")) {
				t.Errorf("%s: the error shows the secret: %v", name, err)
			}
		}
	}
}

func TestWebhookSendIsAcceptedByARealReceiver(t *testing.T) {
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "state.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	h := receiver.NewHandler(receiver.HandlerConfig{Secrets: [][]byte{[]byte("whsec_cli_test_secret")}}, st)
	srv := httptest.NewServer(h)
	defer srv.Close()
	for _, ev := range []string{"document.completed", "document.failed", "batch.completed"} {
		out, _, err := run(t, secretEnv, "", "webhook", "send", "--url", srv.URL, "--event", ev)
		if err != nil || !strings.Contains(out, "200 OK") {
			t.Fatalf("%s: %q, %v", ev, out, err)
		}
	}
	if c, _ := st.EventCounts(context.Background()); c[store.EventPending] != 3 {
		t.Fatalf("journal = %v, want 3 pending events", c)
	}
	wrong := map[string]string{"DOCUPARSE_WEBHOOK_SECRET": "not-the-right-secret"}
	if _, _, err := run(t, wrong, "", "webhook", "send", "--url", srv.URL); err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("wrong secret: %v", err)
	}
	if _, _, err := run(t, secretEnv, "", "webhook", "send", "--url", srv.URL, "--event", "nope"); err == nil {
		t.Fatal("an unknown event must be refused")
	}
}

func TestUnknownCommandsAndFlagsAreUsageErrors(t *testing.T) {
	for _, args := range [][]string{{}, {"frobnicate"}, {"status", "--nope"}, {"webhook"}, {"webhook", "verify"}} {
		_, _, err := run(t, nil, "", args...)
		var ue usageError
		if err == nil || !errors.As(err, &ue) {
			t.Errorf("%v: %v, want a usage error", args, err)
		}
	}
	out, _, err := run(t, nil, "", "version")
	if err != nil || !strings.HasPrefix(out, "docuparse-ingest ") {
		t.Fatalf("version: %q, %v", out, err)
	}
}

func TestDemoOnceProcessesEverySampleThenStatusReportsThem(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo")
	out, _, err := run(t, nil, "", "demo", "--once", "--dir", dir, "--processing-delay", "10ms")
	if err != nil {
		t.Fatalf("demo: %v\n%s", err, out)
	}
	if !strings.Contains(out, "All 8 samples accounted for") {
		t.Fatalf("demo output:\n%s", out)
	}
	rows := e2e.ReadCSV(t, filepath.Join(dir, "out"), "documents-*.csv")
	if len(rows) != 8 {
		t.Fatalf("%d rows, want 8", len(rows))
	}
	// A second demo in the same folder starts afresh.
	if _, _, err := run(t, nil, "", "demo", "--once", "--dir", dir, "--processing-delay", "10ms"); err != nil {
		t.Fatalf("second demo: %v", err)
	}
	if rows := e2e.ReadCSV(t, filepath.Join(dir, "out"), "documents-*.csv"); len(rows) != 8 {
		t.Fatalf("second demo: %d rows, want 8", len(rows))
	}
	// status reads the demo's configuration and state, with no secrets in
	// the environment (under systemd only the service has them).
	js, _, err := run(t, nil, "", "status", "--json", "--config", filepath.Join(dir, "config.toml"))
	if err != nil {
		t.Fatal(err)
	}
	var st statusJSON
	if err := json.Unmarshal([]byte(js), &st); err != nil {
		t.Fatalf("%v\n%s", err, js)
	}
	if st.Documents["exported"] != 8 {
		t.Fatalf("status = %+v", st)
	}
	// A folder the demo did not make is never wiped.
	other := t.TempDir()
	if err := os.WriteFile(filepath.Join(other, "precious.txt"), []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := run(t, nil, "", "demo", "--once", "--dir", other); err == nil {
		t.Fatal("demo used a folder it did not make")
	}
	if _, err := os.Stat(filepath.Join(other, "precious.txt")); err != nil {
		t.Fatal("demo touched a folder it did not make")
	}
}

func TestWebhookListShowsDeadLettersAndReplayQueuesThem(t *testing.T) {
	cfgPath, st := eventsFixture(t)
	for _, body := range []string{`{"event":"document.exploded","document_id":"doc_x"}`, `not json at all`} {
		if _, err := st.JournalEvent(context.Background(), receiver.Identify([]byte(body), "")); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()

	out, _, err := run(t, secretEnv, "", "webhook", "list", "--config", cfgPath)
	if err != nil || !strings.Contains(out, "document.exploded") || strings.Count(out, "dead") != 2 {
		t.Fatalf("list: %v\n%s", err, out)
	}
	js, _, err := run(t, secretEnv, "", "webhook", "list", "--json", "--config", cfgPath)
	var evs []eventJSON
	if err != nil || json.Unmarshal([]byte(js), &evs) != nil || len(evs) != 2 || evs[1].RawBody != "not json at all" {
		t.Fatalf("list --json: %v\n%s", err, js)
	}
	out, _, err = run(t, secretEnv, "", "webhook", "replay", "--config", cfgPath, fmt.Sprint(evs[0].ID), "999")
	if err != nil || !strings.Contains(out, "1 of 2") {
		t.Fatalf("replay: %v\n%s", err, out)
	}
	out, _, _ = run(t, secretEnv, "", "webhook", "list", "--status", "pending", "--config", cfgPath)
	if !strings.Contains(out, "replayed by operator") {
		t.Fatalf("pending after replay:\n%s", out)
	}
	if _, _, err := run(t, secretEnv, "", "webhook", "replay", "--config", cfgPath, "abc"); err == nil {
		t.Fatal("a bad id must be a usage error")
	}
}

func TestReportWritesEachDayOfARangeAndReconcileRunsAPass(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo")
	if _, _, err := run(t, nil, "", "demo", "--once", "--dir", dir, "--processing-delay", "10ms"); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "config.toml")
	env := map[string]string{"DOCUPARSE_API_KEY": "dex_x", "DOCUPARSE_WEBHOOK_SECRET": e2e.WebhookSecret}
	today := time.Now().Format("2006-01-02")
	yesterday := time.Now().AddDate(0, 0, -1).Format("2006-01-02")
	out, errOut, err := run(t, env, "", "report", "--config", cfg, "--from", yesterday, "--to", today)
	if err != nil {
		t.Fatalf("report: %v\n%s", err, errOut)
	}
	for _, day := range []string{yesterday, today} {
		for _, ext := range []string{"md", "json", "csv"} {
			if _, err := os.Stat(filepath.Join(dir, "out", "reports", "reconciliation-"+day+"."+ext)); err != nil {
				t.Errorf("%s.%s: %v", day, ext, err)
			}
		}
	}
	if !strings.Contains(out, "8") {
		t.Fatalf("today's report does not mention the 8 samples:\n%s", out)
	}
	for _, args := range [][]string{{"--date", "2026-13-01"}, {"--date", today, "--from", today}, {"--to", today}, {"--from", today, "--to", yesterday}} {
		if _, _, err := run(t, env, "", append([]string{"report", "--config", cfg}, args...)...); err == nil {
			t.Errorf("report %v: accepted", args)
		}
	}
	// The demo's simulator is gone: nothing is overdue, so no call is made.
	out, _, err = run(t, env, "", "reconcile", "--config", cfg)
	if err != nil || !strings.Contains(out, "0 API call(s)") {
		t.Fatalf("reconcile: %v\n%s", err, out)
	}
}
