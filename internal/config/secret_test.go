package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestSecretRevealsOnlyThroughReveal(t *testing.T) {
	s := NewSecret(testKey)
	if s.Reveal() != testKey || s.IsZero() {
		t.Fatalf("Reveal = %q, IsZero = %v", s.Reveal(), s.IsZero())
	}
	var zero Secret
	if zero.Reveal() != "" || !zero.IsZero() || !NewSecret("").IsZero() {
		t.Fatal("the zero Secret is not empty")
	}
	if !s.Equal(NewSecret(testKey)) || s.Equal(zero) {
		t.Fatal("Equal compares values")
	}
}

func TestSecretIsRedactedEverywhere(t *testing.T) {
	c := mustParse(t, minimal, env(map[string]string{EnvAPIKey: testKey, EnvWebhookSecret: testSecret1 + "," + testSecret2}))
	type holder struct {
		Public  Secret
		private Secret
		ptr     *Secret
	}
	sec := NewSecret(testKey)
	h := holder{Public: sec, private: sec, ptr: &sec}

	printed := map[string]string{}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%10s", "%-8v"} {
		printed["secret "+verb] = fmt.Sprintf(verb, sec)
		printed["config "+verb] = fmt.Sprintf(verb, c)
		printed["*config "+verb] = fmt.Sprintf(verb, *c)
		printed["holder "+verb] = fmt.Sprintf(verb, h)
	}
	printed["Sprint"] = fmt.Sprint(sec, c.Receiver.Secrets)
	printed["String"] = sec.String()
	printed["GoString"] = sec.GoString()
	text, _ := sec.MarshalText()
	printed["MarshalText"] = string(text)
	for name, s := range printed {
		assertNoSecret(t, name, s)
	}
	if got := fmt.Sprintf("%v|%#v|%s", sec, sec, sec); got != "[redacted]|[redacted]|[redacted]" {
		t.Fatalf("printed as %q", got)
	}
}

func TestSecretIsRedactedInJSON(t *testing.T) {
	c := mustParse(t, minimal, withSecrets())
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	assertNoSecret(t, "json", string(b))
	var back struct {
		API struct {
			APIKey string `json:"api_key"`
		} `json:"api"`
		Receiver struct {
			Secrets []string `json:"secrets"`
		} `json:"receiver"`
		Batch struct {
			MaxBytes string `json:"max_bytes"`
			MaxWait  string `json:"max_wait"`
		} `json:"batch"`
	}
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.API.APIKey != "[redacted]" || len(back.Receiver.Secrets) != 1 || back.Receiver.Secrets[0] != "[redacted]" {
		t.Fatalf("secrets in JSON: %s", b)
	}
	if back.Batch.MaxBytes != "100MB" || back.Batch.MaxWait != "5s" {
		t.Fatalf("sizes and durations in JSON: %s", b)
	}
}

func TestSecretIsRedactedInSlog(t *testing.T) {
	c := mustParse(t, minimal, withSecrets())
	sec := NewSecret(testKey)
	for name, h := range map[string]func(*bytes.Buffer) slog.Handler{
		"text": func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
		"json": func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
	} {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			log := slog.New(h(&buf))
			log.Info("start", "key", sec, slog.Any("secrets", c.Receiver.Secrets), slog.Any("api", c.API), slog.Any("config", c))
			log.Info("group", slog.Group("g", "key", sec))
			assertNoSecret(t, "slog "+name, buf.String())
			if !strings.Contains(buf.String(), "[redacted]") {
				t.Fatalf("no [redacted] in %s", buf.String())
			}
		})
	}
}
