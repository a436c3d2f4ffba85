package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Secret values used by the tests; no error or printed form may contain them.
const (
	testKey     = "dex_live_SUPERSECRETKEY"
	testSecret1 = "whsec_first_ONE_1"
	testSecret2 = "whsec_second_TWO"
)

const minimal = `
[api]
base_url = "https://api.example.com/api/v1"

[[source]]
name = "inbox"
path = "/srv/invoices/inbox"
`

// env returns a getenv reading only m.
func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// withSecrets is the environment of a complete configuration.
func withSecrets() func(string) string {
	return env(map[string]string{EnvAPIKey: testKey, EnvWebhookSecret: testSecret1})
}

func parse(t *testing.T, text string, getenv func(string) string) (*Config, error) {
	t.Helper()
	return Parse(strings.NewReader(text), "config.toml", getenv)
}

func mustParse(t *testing.T, text string, getenv func(string) string) *Config {
	t.Helper()
	c, err := parse(t, text, getenv)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return c
}

// fieldErrors returns the FieldErrors joined in err.
func fieldErrors(t *testing.T, err error) []*FieldError {
	t.Helper()
	var list []*FieldError
	var walk func(error)
	walk = func(e error) {
		var fe *FieldError
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			for _, x := range j.Unwrap() {
				walk(x)
			}
		} else if errors.As(e, &fe) {
			list = append(list, fe)
			// A problem names a real key (or the environment variable
			// it came from), never one the file itself would refuse.
			if _, fake := hints[fe.Key]; fake && !errors.Is(fe, ErrUnknownKey) {
				t.Errorf("%v: %s is not a configuration key", fe, fe.Key)
			}
		}
	}
	walk(err)
	return list
}

// assertNoSecret fails when s holds any test secret value.
func assertNoSecret(t *testing.T, what, s string) {
	t.Helper()
	for _, v := range []string{testKey, testSecret1, testSecret2} {
		if strings.Contains(s, v) {
			t.Fatalf("%s reveals a secret: %s", what, s)
		}
	}
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
