package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/docuparse/docuparse-ingest/internal/config"
	"github.com/docuparse/docuparse-ingest/internal/e2e"
	"github.com/docuparse/docuparse-ingest/internal/sim"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestCheckConfigOutput compares check-config's verdict on broken (and one
// good) setups with golden files under testdata/check-config. Paths and
// ports that change per run are replaced by {{DIR}} and {{API}}.
func TestCheckConfigOutput(t *testing.T) {
	s := e2e.StartSim(t, sim.Config{})
	for _, tc := range []struct {
		name string
		env  map[string]string
		// edit turns the working configuration into the broken one.
		edit    func(text, dir string) string
		wantErr bool
	}{
		{name: "good", env: secretsOf(e2e.APIKey), edit: func(t, _ string) string { return t }},
		{name: "unknown-key-and-bad-duration", env: secretsOf(e2e.APIKey), wantErr: true, edit: func(t, _ string) string {
			return strings.Replace(strings.Replace(t, `max_wait  = "200ms"`, `max_wait  = "5x"`, 1), "[api]\n", "[api]\ncolour = \"blue\"\n", 1)
		}},
		{name: "missing-secrets", env: map[string]string{}, wantErr: true, edit: func(t, _ string) string { return t }},
		{name: "missing-inbox", env: secretsOf(e2e.APIKey), wantErr: true, edit: func(t, dir string) string {
			return strings.Replace(t, filepath.Join(dir, "inbox"), filepath.Join(dir, "no-such-inbox"), 1)
		}},
		{name: "dirs-exist", env: secretsOf(e2e.APIKey), edit: func(t, dir string) string {
			for _, d := range []string{"state", "out"} {
				if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
					panic(err)
				}
			}
			return t
		}},
		{name: "wrong-api-key", env: secretsOf("dex_wrong"), wantErr: true, edit: func(t, _ string) string { return t }},
		{name: "api-unreachable", env: secretsOf(e2e.APIKey), wantErr: true, edit: func(t, _ string) string {
			return strings.Replace(t, s.BaseURL, "http://127.0.0.1:9/api/v1", 1)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.MkdirAll(filepath.Join(dir, "inbox"), 0o755); err != nil {
				t.Fatal(err)
			}
			cfgPath := filepath.Join(dir, "config.toml")
			if err := os.WriteFile(cfgPath, []byte(tc.edit(s.Config(dir, filepath.Join(dir, "inbox"), ""), dir)), 0o600); err != nil {
				t.Fatal(err)
			}
			out, _, err := run(t, tc.env, "", "check-config", "--config", cfgPath)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v\n%s", err, tc.wantErr, out)
			}
			got := strings.NewReplacer(dir, "{{DIR}}", s.BaseURL, "{{API}}").Replace(out)
			got = maskInotify(got)
			golden := filepath.Join("testdata", "check-config", tc.name+".golden")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("output differs from %s:\n--- got\n%s--- want\n%s", golden, got, want)
			}
		})
	}
}

func secretsOf(apiKey string) map[string]string {
	return map[string]string{"DOCUPARSE_API_KEY": apiKey, "DOCUPARSE_WEBHOOK_SECRET": e2e.WebhookSecret}
}

// maskInotify hides the machine's inotify limit, which differs per host.
func maskInotify(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if j := strings.Index(l, "inotify limit "); j >= 0 {
			lines[i] = l[:j] + "inotify limit {{N}}"
		}
	}
	return strings.Join(lines, "\n")
}

func TestTheWatchLimitCheckAsksToRaiseALowLimit(t *testing.T) {
	dir := t.TempDir()
	for _, sub := range []string{"a", "a/b", "c"} {
		if err := os.MkdirAll(filepath.Join(dir, "inbox", sub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	limit := filepath.Join(dir, "max_user_watches")
	if err := os.WriteFile(limit, []byte("6\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfgText := (&e2e.Sim{BaseURL: "http://127.0.0.1:9/api/v1"}).Config(dir, filepath.Join(dir, "inbox"), "")
	cfgPath := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(cfgPath, []byte(cfgText), 0o600); err != nil {
		t.Fatal(err)
	}
	_, _, err := run(t, secretsOf("x"), "", "check-config", "--offline", "--config", cfgPath)
	if err != nil {
		t.Fatalf("offline check with the real limit: %v", err)
	}
	c := checkWatches(mustLoad(t, cfgPath), limit)
	if c.ok || !strings.Contains(c.what, "4 folder(s) to watch, inotify limit 6") || !strings.Contains(c.fix, "fs.inotify.max_user_watches") {
		t.Fatalf("check = %+v", c)
	}
}

func mustLoad(t *testing.T, path string) *config.Config {
	t.Helper()
	cfg, err := config.Load(path, func(k string) string { return secretsOf("x")[k] })
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestCheckConfigWarnsOfPublicListenersAndUnsignedWebhooks: a receiver or
// admin server reachable from other hosts, or unsigned webhooks accepted,
// is valid but risky: check-config passes and names each key and its risk.
func TestCheckConfigWarnsOfPublicListenersAndUnsignedWebhooks(t *testing.T) {
	for _, tc := range []struct {
		name, receiver, admin string
		unsigned              bool
		want                  []string
	}{
		{name: "every interface", receiver: "0.0.0.0:8080", admin: "[::]:9090", want: []string{
			`warn receiver.listen: "0.0.0.0:8080" binds every interface`, "plain HTTP",
			`warn admin.listen: "[::]:9090" binds every interface`, "no authentication"}},
		{name: "a public address and no host", receiver: "198.51.100.7:8080", admin: ":9090", want: []string{
			`warn receiver.listen: "198.51.100.7:8080" binds 198.51.100.7`, `warn admin.listen: ":9090" binds every interface`}},
		{name: "a host name", receiver: "ingest.example.com:8080", want: []string{
			`warn receiver.listen: "ingest.example.com:8080" is a host name`}},
		{name: "unsigned webhooks", receiver: "127.0.0.1:8080", unsigned: true, want: []string{
			"warn receiver.insecure_skip_verify: true", "forged results"}},
		{name: "loopback only", receiver: "[::1]:8080", admin: "localhost:9090"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			inbox := filepath.Join(dir, "inbox")
			if err := os.MkdirAll(inbox, 0o755); err != nil {
				t.Fatal(err)
			}
			text := (&e2e.Sim{BaseURL: "http://127.0.0.1:9/api/v1"}).Config(dir, inbox, "")
			text = strings.Replace(text, `listen = "127.0.0.1:0"`, fmt.Sprintf("listen = %q\ninsecure_skip_verify = %v", tc.receiver, tc.unsigned), 1)
			text = strings.Replace(text, "[admin]\nlisten = \"\"", fmt.Sprintf("[admin]\nlisten = %q", tc.admin), 1)
			cfgPath := filepath.Join(dir, "config.toml")
			if err := os.WriteFile(cfgPath, []byte(text), 0o600); err != nil {
				t.Fatal(err)
			}
			out, _, err := run(t, secretsOf("x"), "", "check-config", "--offline", "--config", cfgPath)
			if err != nil {
				t.Fatalf("a warning must not fail check-config: %v\n%s", err, out)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			if len(tc.want) == 0 && strings.Contains(out, "warn") {
				t.Errorf("loopback listeners warned:\n%s", out)
			}
		})
	}
}

// TestCheckConfigWarnsWhenTheKernelsLinkProtectionsAreOff: with
// fs.protected_hardlinks (or protected_symlinks) not 1, inbox users can
// link files they cannot write into the inbox: a warning naming the
// sysctl and how to set it, not a failure. Both on: one ok line.
func TestCheckConfigWarnsWhenTheKernelsLinkProtectionsAreOff(t *testing.T) {
	for _, tc := range []struct {
		name                string
		hardlinks, symlinks string // "" leaves the file out
		want                []string
	}{
		{"both on", "1\n", "1\n", []string{"ok   fs.protected_hardlinks and fs.protected_symlinks are 1"}},
		{"hardlinks off", "0\n", "1\n", []string{"warn fs.protected_hardlinks is 0", "sysctl -w fs.protected_hardlinks=1"}},
		{"symlinks off", "1\n", "0\n", []string{"warn fs.protected_symlinks is 0", "sysctl -w fs.protected_symlinks=1"}},
		{"unreadable", "", "1\n", []string{"warn fs.protected_hardlinks cannot be read"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, v := range map[string]string{"protected_hardlinks": tc.hardlinks, "protected_symlinks": tc.symlinks} {
				if v == "" {
					continue
				}
				if err := os.WriteFile(filepath.Join(dir, name), []byte(v), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			var out strings.Builder
			for _, c := range checkLinkProtection(dir) {
				if !c.ok {
					t.Errorf("a failure, not a warning: %+v", c)
				}
				fmt.Fprintf(&out, "%s %s\n", map[bool]string{true: "warn", false: "ok  "}[c.warn], c.what)
			}
			for _, want := range tc.want {
				if !strings.Contains(out.String(), want) {
					t.Errorf("output does not say %q:\n%s", want, out.String())
				}
			}
		})
	}
	t.Run("the command warns and passes", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.MkdirAll(filepath.Join(dir, "inbox"), 0o755); err != nil {
			t.Fatal(err)
		}
		for name, v := range map[string]string{"protected_hardlinks": "0\n", "protected_symlinks": "1\n"} {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(v), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		cfgPath := filepath.Join(dir, "config.toml")
		cfgText := (&e2e.Sim{BaseURL: "http://127.0.0.1:9/api/v1"}).Config(dir, filepath.Join(dir, "inbox"), "")
		if err := os.WriteFile(cfgPath, []byte(cfgText), 0o600); err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		env := secretsOf("x")
		m := &Main{Stdout: &out, Stderr: io.Discard, Getenv: func(k string) string { return env[k] }, SysctlDir: dir}
		if err := m.Run(t.Context(), []string{"check-config", "--offline", "--config", cfgPath}); err != nil {
			t.Fatalf("check-config failed on a warning: %v\n%s", err, out.String())
		}
		if !strings.Contains(out.String(), "warn fs.protected_hardlinks is 0") || strings.Contains(out.String(), "protected_symlinks is") {
			t.Errorf("output:\n%s", out.String())
		}
	})
}
