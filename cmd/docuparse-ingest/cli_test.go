package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/docuparse/docuparse-ingest/internal/e2e"
	"github.com/docuparse/docuparse-ingest/internal/store"
	"github.com/docuparse/docuparse-ingest/receiver"
)

// TestHelpOnEveryCommandGoesToStdoutAndExitsZero runs the built binary:
// --help and -h on every command and sub-command, and help COMMAND, print
// the command's help to stdout and exit 0.
func TestHelpOnEveryCommandGoesToStdoutAndExitsZero(t *testing.T) {
	commands := [][]string{{"run"}, {"demo"}, {"status"}, {"report"}, {"reconcile"}, {"retry"}, {"check-config"},
		{"webhook"}, {"webhook", "sign"}, {"webhook", "send"}, {"webhook", "list"}, {"webhook", "replay"}, {"version"}}
	for _, c := range commands {
		name := strings.Join(c, " ")
		for _, args := range [][]string{append(append([]string{}, c...), "--help"), append(append([]string{}, c...), "-h"),
			append([]string{"help"}, c...)} {
			cmd := exec.Command(binPath, args...)
			var stderr strings.Builder
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil || stderr.Len() != 0 {
				t.Errorf("%q: %v, stderr %q", args, err, stderr.String())
				continue
			}
			want := "docuparse-ingest " + name
			if !strings.Contains(string(out), want) {
				t.Errorf("%q printed %q; want it to name %q", args, out, want)
			}
		}
	}
	// A wrong flag is still a usage error on stderr, exit 2.
	cmd := exec.Command(binPath, "webhook", "list", "--nope")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 || len(out) != 0 || !strings.Contains(stderr.String(), "-nope") {
		t.Errorf("--nope: %v, out %q, stderr %q", err, out, stderr.String())
	}
	if _, _, err := run(t, nil, "", "help", "frobnicate"); err == nil {
		t.Error("help frobnicate: no error")
	}
}

// TestEveryCommandTakesConfig checks that every command that can use the
// configuration accepts --config (demo makes its own).
func TestEveryCommandTakesConfig(t *testing.T) {
	for _, c := range [][]string{{"run"}, {"status"}, {"report"}, {"reconcile"}, {"retry"}, {"check-config"},
		{"webhook", "sign"}, {"webhook", "send"}, {"webhook", "list"}, {"webhook", "replay"}} {
		out, _, err := run(t, nil, "", append(c, "--help")...)
		if err != nil || !strings.Contains(out, "-config") {
			t.Errorf("%v --help: %v; no --config in\n%s", c, err, out)
		}
	}
}

// TestWebhookSendWithConfigPostsToTheConfiguredReceiver: with --config and
// no --url, webhook send posts to receiver.listen and receiver.path, signed
// with the configured secret.
func TestWebhookSendWithConfigPostsToTheConfiguredReceiver(t *testing.T) {
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "state.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	h := receiver.NewHandler(receiver.HandlerConfig{Secrets: [][]byte{[]byte(e2e.WebhookSecret)}}, st)
	srv := httptest.NewServer(h)
	defer srv.Close()
	dir := t.TempDir()
	secretFile := filepath.Join(dir, "webhook_secret")
	if err := os.WriteFile(secretFile, []byte(e2e.WebhookSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "config.toml")
	body := fmt.Sprintf("[api]\nbase_url = %q\n\n[receiver]\nlisten = %q\npath = \"/hooks/in\"\nsecret_file = %q\n\n[[source]]\nname = \"inbox\"\npath = %q\n",
		"http://127.0.0.1:9/api/v1", strings.TrimPrefix(srv.URL, "http://"), secretFile, dir)
	if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	out, _, err := run(t, nil, "", "webhook", "send", "--config", cfg)
	if err != nil || !strings.Contains(out, srv.URL+"/hooks/in → 200 OK") {
		t.Fatalf("send --config: %v\n%s", err, out)
	}
	if c, _ := st.EventCounts(context.Background()); c[store.EventPending] != 1 {
		t.Fatalf("journal = %v, want 1 pending event", c)
	}
}

// TestWebhookListValidatesStatusAndShowsTheNewest checks --status names its
// valid values and --limit N keeps the newest N events.
func TestWebhookListValidatesStatusAndShowsTheNewest(t *testing.T) {
	cfg, st := eventsFixture(t)
	for i := 0; i < 5; i++ {
		body := fmt.Sprintf(`{"event":"document.exploded","document_id":"doc_%d"}`, i)
		if _, err := st.JournalEvent(context.Background(), receiver.Identify([]byte(body), "")); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()
	_, _, err := run(t, nil, "", "webhook", "list", "--config", cfg, "--status", "bogus")
	if err == nil || !strings.Contains(err.Error(), "bogus") || !strings.Contains(err.Error(), "dead, orphan, conflict, duplicate, applied, pending, all") {
		t.Fatalf("--status bogus: %v", err)
	}
	out, _, err := run(t, nil, "", "webhook", "list", "--config", cfg, "--limit", "2")
	if err != nil || !strings.Contains(out, "doc_4") || !strings.Contains(out, "doc_3") || strings.Contains(out, "doc_2") {
		t.Fatalf("--limit 2: %v\n%s", err, out)
	}
}

// TestWebhookReplaySaysWhyNothingWasQueued replays an applied event, a
// queued one and one that does not exist: each gets its reason.
func TestWebhookReplaySaysWhyNothingWasQueued(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo")
	if _, _, err := run(t, nil, "", "demo", "--once", "--dir", dir, "--processing-delay", "10ms"); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "config.toml")
	js, _, err := run(t, nil, "", "webhook", "list", "--json", "--status", "applied", "--config", cfg)
	var applied []eventJSON
	if err != nil || json.Unmarshal([]byte(js), &applied) != nil || len(applied) == 0 {
		t.Fatalf("list applied: %v\n%s", err, js)
	}
	st, err := store.Open(context.Background(), filepath.Join(dir, "state", "state.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.JournalEvent(context.Background(), receiver.Identify([]byte(`{"event":"document.exploded"}`), "")); err != nil {
		t.Fatal(err)
	}
	dead, err := st.Events(context.Background(), store.EventDead, 1)
	st.Close()
	if err != nil || len(dead) != 1 {
		t.Fatalf("dead: %v %v", dead, err)
	}
	a, d := applied[0].ID, dead[0].ID
	out, _, err := run(t, nil, "", "webhook", "replay", "--config", cfg, fmt.Sprint(a), "999999", fmt.Sprint(d))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{fmt.Sprintf("event %d: already applied", a), "event 999999: no such event", "1 of 3 event(s) queued"} {
		if !strings.Contains(out, want) {
			t.Errorf("replay output lacks %q:\n%s", want, out)
		}
	}
	out, _, _ = run(t, nil, "", "webhook", "replay", "--config", cfg, fmt.Sprint(d))
	if !strings.Contains(out, fmt.Sprintf("event %d: already queued", d)) {
		t.Errorf("second replay:\n%s", out)
	}
}

// TestVersionShowsCommitAndDirtyFlag checks the version line from the
// toolchain's build information of a build in a modified git clone.
func TestVersionShowsCommitAndDirtyFlag(t *testing.T) {
	info := &debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20261203133102-3d1527d0c1c5+dirty"}, Settings: []debug.BuildSetting{
		{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: "3d1527d0c1c566d39c4a4098695b2796f39be061"}, {Key: "vcs.modified", Value: "true"}}}
	if got := versionLine(info); !strings.Contains(got, "commit 3d1527d0c1c5, with uncommitted changes") {
		t.Errorf("modified: %q", got)
	}
	info.Settings[2].Value = "false"
	if got := versionLine(info); !strings.Contains(got, "(commit 3d1527d0c1c5)") {
		t.Errorf("clean: %q", got)
	}
	if got := versionLine(nil); !strings.Contains(got, "commit unknown") {
		t.Errorf("no build info: %q", got)
	}
}

// eventsFixture writes a configuration and opens its (new) state.
func eventsFixture(t *testing.T) (string, *store.Store) {
	t.Helper()
	dir := t.TempDir()
	inbox := filepath.Join(dir, "inbox")
	for _, d := range []string{filepath.Join(dir, "state"), inbox} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cfgPath := filepath.Join(dir, "config.toml")
	s := &e2e.Sim{BaseURL: "http://127.0.0.1:9/api/v1"}
	if err := os.WriteFile(cfgPath, []byte(s.Config(dir, inbox, "")), 0o600); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(context.Background(), filepath.Join(dir, "state", "state.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return cfgPath, st
}

// TestHelpTextGolden pins the text of the top-level help and the webhook
// commands' help (testdata/help; -update rewrites it).
func TestHelpTextGolden(t *testing.T) {
	for name, args := range map[string][]string{
		"help":         {"help"},
		"webhook":      {"webhook", "--help"},
		"webhook-list": {"webhook", "list", "--help"},
		"webhook-send": {"help", "webhook", "send"},
	} {
		out, errOut, err := run(t, nil, "", args...)
		if err != nil || errOut != "" {
			t.Errorf("%v: %v, stderr %q", args, err, errOut)
		}
		golden := filepath.Join("testdata", "help", name+".golden")
		if *update {
			if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(golden, []byte(out), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v (run with -update to create it)", err)
		}
		if out != string(want) {
			t.Errorf("%v differs from %s:\n--- got\n%s--- want\n%s", args, golden, out, want)
		}
	}
}
