package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func reveal(list []Secret) []string {
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = s.Reveal()
	}
	return out
}

func TestAPIKeySources(t *testing.T) {
	tests := []struct {
		name     string
		keyFile  string            // api_key_file value; "" = unset
		files    map[string]string // relative to the config dir; "creds/" names go to the credentials dir
		env      map[string]string // "$CREDS" is replaced by the credentials dir
		want     string
		wantFrom string // expected APIKeyFile, relative to the temp root; "" = none
	}{
		{name: "the key comes from DOCUPARSE_API_KEY, trimmed",
			env: map[string]string{EnvAPIKey: "  " + testKey + "\n"}, want: testKey},
		{name: "a relative api_key_file is read next to the config file, its newline trimmed",
			keyFile: "api_key", files: map[string]string{"etc/api_key": testKey + "\n"}, want: testKey, wantFrom: "etc/api_key"},
		{name: "a key file with CRLF is trimmed too",
			keyFile: "api_key", files: map[string]string{"etc/api_key": testKey + "\r\n"}, want: testKey, wantFrom: "etc/api_key"},
		{name: "an absolute api_key_file is read where it says",
			keyFile: "$ROOT/elsewhere/key", files: map[string]string{"elsewhere/key": testKey}, want: testKey, wantFrom: "elsewhere/key"},
		{name: "a relative api_key_file is taken from CREDENTIALS_DIRECTORY first",
			keyFile: "api_key", files: map[string]string{"creds/api_key": testKey, "etc/api_key": "dex_wrong"},
			env: map[string]string{EnvCredentialsDirectory: "$CREDS"}, want: testKey, wantFrom: "creds/api_key"},
		{name: "a credential missing from CREDENTIALS_DIRECTORY falls back to the config directory",
			keyFile: "api_key", files: map[string]string{"etc/api_key": testKey},
			env: map[string]string{EnvCredentialsDirectory: "$CREDS"}, want: testKey, wantFrom: "etc/api_key"},
		{name: "api_key_file wins over the environment",
			keyFile: "api_key", files: map[string]string{"etc/api_key": testKey},
			env: map[string]string{EnvAPIKey: "dex_from_env"}, want: testKey, wantFrom: "etc/api_key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			for _, d := range []string{"etc", "creds", "elsewhere"} {
				if err := os.Mkdir(filepath.Join(root, d), 0o700); err != nil {
					t.Fatal(err)
				}
			}
			for name, content := range tt.files {
				writeFile(t, root, name, content)
			}
			getenv := map[string]string{EnvWebhookSecret: testSecret1}
			for k, v := range tt.env {
				getenv[k] = strings.ReplaceAll(v, "$CREDS", filepath.Join(root, "creds"))
			}
			text := minimal
			if tt.keyFile != "" {
				text = strings.Replace(minimal, "[api]", "[api]\napi_key_file = \""+strings.ReplaceAll(tt.keyFile, "$ROOT", root)+"\"", 1)
			}
			cfgPath := writeFile(t, root, "etc/config.toml", text)
			c, err := Load(cfgPath, env(getenv))
			if err != nil {
				t.Fatal(err)
			}
			if got := c.API.APIKey.Reveal(); got != tt.want {
				t.Errorf("key = %q, want %q", got, tt.want)
			}
			wantFrom := ""
			if tt.wantFrom != "" {
				wantFrom = filepath.Join(root, tt.wantFrom)
			}
			if c.API.APIKeyFile != wantFrom {
				t.Errorf("APIKeyFile = %q, want %q", c.API.APIKeyFile, wantFrom)
			}
		})
	}
}

func TestSecretProblems(t *testing.T) {
	tests := []struct {
		name    string
		api     string // added to [api]
		top     string // added before [api]
		files   map[string]string
		env     map[string]string
		key     string
		msg     string // substring
		wantErr error
	}{
		{name: "a missing API key names the variable and the key",
			env: map[string]string{EnvWebhookSecret: testSecret1},
			key: "api.api_key_file", msg: "not set, and DOCUPARSE_API_KEY is empty: set one of them", wantErr: ErrMissingSecret},
		{name: "an API key file that does not exist is named",
			api: `api_key_file = "nope"`, env: map[string]string{EnvWebhookSecret: testSecret1},
			key: "api.api_key_file", msg: "no such file or directory", wantErr: ErrMissingSecret},
		{name: "an empty API key file is refused",
			api: `api_key_file = "key"`, files: map[string]string{"key": "\n"}, env: map[string]string{EnvWebhookSecret: testSecret1},
			key: "api.api_key_file", msg: "is empty", wantErr: ErrMissingSecret},
		{name: "an API key file with two lines is refused without showing them",
			api: `api_key_file = "key"`, files: map[string]string{"key": testKey + "\n" + testSecret2 + "\n"}, env: map[string]string{EnvWebhookSecret: testSecret1},
			key: "api.api_key_file", msg: "contains white space or control characters", wantErr: ErrMissingSecret},
		{name: "a missing webhook secret names the variable and the key",
			env: map[string]string{EnvAPIKey: testKey},
			key: "receiver.secret_file", msg: "not set, and DOCUPARSE_WEBHOOK_SECRET is empty: set one of them", wantErr: ErrMissingSecret},
		{name: "an unreadable file of secret_files is named by its index",
			top:   `receiver.secret_files = ["one", "two"]`,
			files: map[string]string{"one": testSecret1}, env: map[string]string{EnvAPIKey: testKey},
			key: "receiver.secret_files[1]", msg: "two: no such file or directory", wantErr: ErrMissingSecret},
		{name: "a secret file with only blank lines is refused",
			top:   `receiver.secret_file = "ws"`,
			files: map[string]string{"ws": "\n  \n"}, env: map[string]string{EnvAPIKey: testKey},
			key: "receiver.secret_file", msg: "is empty", wantErr: ErrMissingSecret},
		{name: "secret_file must be a string",
			top: `receiver.secret_file = ["ws"]`, env: map[string]string{EnvAPIKey: testKey},
			key: "receiver.secret_file", msg: "must be a string, not an array", wantErr: ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, content := range tt.files {
				writeFile(t, dir, name, content)
			}
			text := tt.top + "\n" + strings.Replace(minimal, "[api]", "[api]\n"+tt.api, 1)
			_, err := Load(writeFile(t, dir, "config.toml", text), env(tt.env))
			if err == nil {
				t.Fatal("Load succeeded, want an error")
			}
			assertNoSecret(t, "error", err.Error())
			fes := fieldErrors(t, err)
			if len(fes) != 1 || fes[0].Key != tt.key || !strings.Contains(fes[0].Msg, tt.msg) || !errors.Is(err, tt.wantErr) {
				t.Fatalf("got %v\nwant one problem at %s containing %q (%v)", err, tt.key, tt.msg, tt.wantErr)
			}
		})
	}
}

func TestWebhookSecrets(t *testing.T) {
	t.Run("the environment variable holds a rotation list separated by commas or new lines", func(t *testing.T) {
		c := mustParse(t, minimal, env(map[string]string{
			EnvAPIKey:        testKey,
			EnvWebhookSecret: " " + testSecret1 + ", " + testSecret2 + "\n\twhsec_third_THREE,,",
		}))
		want := []string{testSecret1, testSecret2, "whsec_third_THREE"}
		if got := reveal(c.Receiver.Secrets); !reflect.DeepEqual(got, want) {
			t.Fatalf("secrets = %q, want %q", got, want)
		}
	})
	t.Run("environment, secret_file and secret_files are all accepted, without duplicates", func(t *testing.T) {
		dir := t.TempDir()
		writeFile(t, dir, "ws", testSecret1+"\n\n  "+testSecret2+"  \n")
		writeFile(t, dir, "next", "whsec_next_NEXT_1\n")
		writeFile(t, dir, "old", testSecret1+"\n")
		text := "receiver.secret_file = \"ws\"\nreceiver.secret_files = [\"next\", \"old\"]\n" + minimal
		c, err := Load(writeFile(t, dir, "config.toml", text), env(map[string]string{EnvAPIKey: testKey, EnvWebhookSecret: "whsec_env_ENV_111"}))
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"whsec_env_ENV_111", testSecret1, testSecret2, "whsec_next_NEXT_1"}
		if got := reveal(c.Receiver.Secrets); !reflect.DeepEqual(got, want) {
			t.Fatalf("secrets = %q, want %q", got, want)
		}
		wantFiles := []string{filepath.Join(dir, "ws"), filepath.Join(dir, "next"), filepath.Join(dir, "old")}
		if !reflect.DeepEqual(c.Receiver.SecretFiles, wantFiles) {
			t.Fatalf("SecretFiles = %q, want %q", c.Receiver.SecretFiles, wantFiles)
		}
	})
	t.Run("a secret file is found in CREDENTIALS_DIRECTORY", func(t *testing.T) {
		creds := t.TempDir()
		writeFile(t, creds, "webhook_secret", testSecret2+"\n")
		c := mustParse(t, "receiver.secret_file = \"webhook_secret\"\n"+minimal,
			env(map[string]string{EnvAPIKey: testKey, EnvCredentialsDirectory: creds}))
		if got := reveal(c.Receiver.Secrets); !reflect.DeepEqual(got, []string{testSecret2}) {
			t.Fatalf("secrets = %q", got)
		}
	})
	t.Run("no webhook secret is needed in poll-only mode", func(t *testing.T) {
		mustParse(t, "receiver.enabled = false\n"+minimal, env(map[string]string{EnvAPIKey: testKey}))
	})
	t.Run("no webhook secret is needed with insecure_skip_verify", func(t *testing.T) {
		c := mustParse(t, "receiver.insecure_skip_verify = true\n"+minimal, env(map[string]string{EnvAPIKey: testKey}))
		if !c.Receiver.AllowUnsigned {
			t.Fatal("AllowUnsigned not set")
		}
	})
}

// githubSecret is the secret of GitHub's published webhook test vector; it
// holds spaces and an apostrophe, as a secret chosen by a person may.
const githubSecret = "It's a Secret to Everybody"

func TestParseWebhookSecrets(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
		msg  string // a part of the error; "" = no error
	}{
		{name: "a secret with spaces inside is one secret",
			in: githubSecret, want: []string{githubSecret}},
		{name: "a rotation list splits on commas and new lines, trimming each entry",
			in:   "  " + githubSecret + " ,\t" + testSecret1 + "\r\n" + testSecret2 + "\n",
			want: []string{githubSecret, testSecret1, testSecret2}},
		{name: "empty entries are dropped", in: ",\n , " + testSecret1 + ",,\n\n", want: []string{testSecret1}},
		{name: "nothing at all is no secret and no error", in: " \n,", want: []string{}},
		{name: "a short entry is refused by its number, not split into a longer one's pieces",
			in: testSecret1 + ", abc def", msg: "entry 2 is too short to be a webhook secret (at least 16 bytes)"},
		{name: "a secret of white-space-separated short words is refused, not cut to its first word",
			in: "abc def", msg: "entry 1 is too short"},
		{name: "a tab inside a secret is refused",
			in: "whsec_first\tONE_1_more", msg: "entry 1 contains control characters"},
		{name: "a control character inside a secret is refused",
			in: testSecret2 + "\n" + "whsec_sec\x00ond_TWO_2", msg: "entry 2 contains control characters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseWebhookSecrets(tt.in)
			if tt.msg != "" {
				if err == nil || !strings.Contains(err.Error(), tt.msg) {
					t.Fatalf("err = %v, want one containing %q", err, tt.msg)
				}
				assertNoSecret(t, "error", err.Error())
				if got != nil {
					t.Fatalf("secrets = %q alongside the error", reveal(got))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r := reveal(got); !reflect.DeepEqual(r, tt.want) {
				t.Fatalf("secrets = %q, want %q", r, tt.want)
			}
		})
	}
}

func TestEveryWebhookSecretSourceKeepsASecretWithSpacesWhole(t *testing.T) {
	creds := t.TempDir()
	writeFile(t, creds, "webhook_secret", githubSecret+"\n")
	dir := t.TempDir()
	writeFile(t, dir, "ws", "  "+testSecret1+"  \n")
	for name, tc := range map[string]struct {
		top string
		env map[string]string
	}{
		"the environment":       {env: map[string]string{EnvWebhookSecret: githubSecret}},
		"secret_file":           {top: `receiver.secret_file = "` + writeFile(t, dir, "github", githubSecret+"\n") + `"`},
		"CREDENTIALS_DIRECTORY": {top: `receiver.secret_file = "webhook_secret"`, env: map[string]string{EnvCredentialsDirectory: creds}},
	} {
		t.Run(name, func(t *testing.T) {
			tc.env = mapsWith(tc.env, EnvAPIKey, testKey)
			c, err := Load(writeFile(t, dir, "config.toml", tc.top+"\n"+minimal), env(tc.env))
			if err != nil {
				t.Fatal(err)
			}
			if got := reveal(c.Receiver.Secrets); !reflect.DeepEqual(got, []string{githubSecret}) {
				t.Fatalf("secrets = %q, want the one secret whole", got)
			}
		})
	}
}

func TestARefusedWebhookSecretIsAnErrorFromEverySource(t *testing.T) {
	creds := t.TempDir()
	writeFile(t, creds, "webhook_secret", "tiny bit\n")
	dir := t.TempDir()
	for name, tc := range map[string]struct {
		top, key string
		env      map[string]string
	}{
		"the environment":       {key: "DOCUPARSE_WEBHOOK_SECRET", env: map[string]string{EnvWebhookSecret: testSecret1 + ",tiny bit"}},
		"secret_file":           {key: "receiver.secret_file", top: `receiver.secret_file = "` + writeFile(t, dir, "ws", testSecret1+"\nwhsec\tsplit_by_tab\n") + `"`},
		"CREDENTIALS_DIRECTORY": {key: "receiver.secret_file", top: `receiver.secret_file = "webhook_secret"`, env: map[string]string{EnvCredentialsDirectory: creds}},
	} {
		t.Run(name, func(t *testing.T) {
			tc.env = mapsWith(tc.env, EnvAPIKey, testKey)
			_, err := Load(writeFile(t, dir, "config.toml", tc.top+"\n"+minimal), env(tc.env))
			fes := fieldErrors(t, err)
			if len(fes) != 1 || fes[0].Key != tc.key || !errors.Is(err, ErrMissingSecret) {
				t.Fatalf("got %v, want one problem at %s", err, tc.key)
			}
			assertNoSecret(t, "error", err.Error())
			if strings.Contains(err.Error(), "tiny") || strings.Contains(err.Error(), "split_by_tab") {
				t.Fatalf("error shows the secret: %v", err)
			}
		})
	}
}

// mapsWith returns a copy of m with k set to v.
func mapsWith(m map[string]string, k, v string) map[string]string {
	out := map[string]string{k: v}
	for a, b := range m {
		out[a] = b
	}
	return out
}
