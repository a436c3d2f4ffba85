package config

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"unicode"
)

// maxSecretFile bounds how much of a secret file is read: a key is a few
// dozen bytes, so anything larger is the wrong file.
const maxSecretFile = 64 << 10

// MinWebhookSecret is the length in bytes of the shortest webhook secret
// accepted: anything shorter is too easy to guess to sign with.
const MinWebhookSecret = 16

// hasSpaceOrControl reports whether s holds white space or a control
// character, which no key or secret does (a paste error, two lines joined).
func hasSpaceOrControl(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0
}

// looksLikeSecret reports whether the value of a secret-file key is a
// secret pasted in place of a file name: no path separator and a key's or
// webhook secret's prefix.
func looksLikeSecret(name string) bool {
	return !strings.ContainsRune(name, '/') && !strings.ContainsRune(name, filepath.Separator) &&
		(strings.HasPrefix(name, "dex_") || strings.HasPrefix(name, "whsec_"))
}

// ParseWebhookSecrets parses a list of webhook secrets, as
// DOCUPARSE_WEBHOOK_SECRET and a secret file hold them: entries separated by
// commas or new lines (a rotation list), surrounding white space trimmed
// from each, empty entries dropped. White space inside an entry is part of
// the secret. It fails, naming the entry by its number and never showing a
// value, when an entry holds a control character (a tab, say) or is shorter
// than MinWebhookSecret. Every reader of webhook secrets goes through it, so
// a command never signs with a value the daemon would refuse.
func ParseWebhookSecrets(list string) ([]Secret, error) {
	entries := strings.FieldsFunc(list, func(r rune) bool { return r == ',' || r == '\n' })
	out := make([]Secret, 0, len(entries))
	n := 0
	for _, e := range entries {
		if e = strings.TrimSpace(e); e == "" {
			continue
		}
		n++
		if problem := webhookSecretProblem(e); problem != "" {
			return nil, fmt.Errorf("entry %d %s", n, problem)
		}
		out = append(out, NewSecret(e))
	}
	return out, nil
}

// ReadSecretFile reads a webhook secret file: one or more secrets, one per
// line (or separated by commas), parsed by ParseWebhookSecrets. It fails
// when the file holds no secret or ParseWebhookSecrets refuses one. Errors
// name the path, never the content.
func ReadSecretFile(path string) ([]Secret, error) {
	b, err := readSmallFile(path)
	if err != nil {
		return nil, err
	}
	out, err := ParseWebhookSecrets(string(b))
	if err != nil {
		return nil, fmt.Errorf("secret file %s: %w", path, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("secret file %s is empty", path)
	}
	return out, nil
}

// ReadKeyFile reads an API key file: its whole content with the trailing
// newline removed. It fails when the key is empty or holds white space or
// control characters (a key file with two lines, say). Errors name the path,
// never the content.
func ReadKeyFile(path string) (Secret, error) {
	b, err := readSmallFile(path)
	if err != nil {
		return Secret{}, err
	}
	key := strings.TrimRight(string(b), "\r\n")
	if key == "" {
		return Secret{}, fmt.Errorf("key file %s is empty", path)
	}
	if hasSpaceOrControl(key) {
		return Secret{}, fmt.Errorf("key file %s: the key contains white space or control characters", path)
	}
	return NewSecret(key), nil
}

func readSmallFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err // *PathError: "open <path>: <reason>"
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxSecretFile+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if len(b) > maxSecretFile {
		return nil, fmt.Errorf("secret file %s is larger than %d bytes: is it the right file?", path, maxSecretFile)
	}
	return b, nil
}

// resolveSecretPath resolves a secret file name. An absolute name is used as
// is. A relative one is looked up first in $CREDENTIALS_DIRECTORY (systemd
// LoadCredential=), when that is set and the file exists there, and else
// against baseDir, the configuration file's directory.
func resolveSecretPath(name, baseDir, credDir string) string {
	if filepath.IsAbs(name) {
		return name
	}
	if credDir != "" {
		p := filepath.Join(credDir, name)
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return filepath.Join(baseDir, name)
}

// loadSecrets fills in the API key and the webhook secrets from the secret
// files named in the configuration and from the environment.
//
// The API key comes from api.api_key_file when that is set (the file is the
// explicit choice), else from DOCUPARSE_API_KEY. Webhook secrets are the
// union of DOCUPARSE_WEBHOOK_SECRET, receiver.secret_file and
// receiver.secret_files, in that order, without duplicates.
//
// An API key with white space or control characters inside, a webhook
// secret ParseWebhookSecrets refuses, and a secret pasted where a file name
// belongs are refused; no error shows the value. A problem with a value
// from the environment is reported under the variable's name, since no
// configuration key holds it.
func loadSecrets(c *Config, refs secretRefs, getenv func(string) string, baseDir string, p *problems) {
	credDir := getenv(EnvCredentialsDirectory)

	switch {
	case refs.apiKeyFile != "" && looksLikeSecret(refs.apiKeyFile):
		p.invalid("api.api_key_file", "looks like a secret, not a file name: put the key in a file and name the file here, or set %s", EnvAPIKey)
	case refs.apiKeyFile != "":
		path := resolveSecretPath(refs.apiKeyFile, baseDir, credDir)
		key, err := ReadKeyFile(path)
		if err != nil {
			p.add(ErrMissingSecret, "api.api_key_file", "%v", err)
		} else {
			c.API.APIKey, c.API.APIKeyFile = key, path
		}
	default:
		key := strings.TrimSpace(getenv(EnvAPIKey))
		if hasSpaceOrControl(key) {
			p.add(ErrMissingSecret, EnvAPIKey, "contains white space or control characters")
		} else {
			c.API.APIKey = NewSecret(key)
		}
	}

	secrets, err := ParseWebhookSecrets(getenv(EnvWebhookSecret))
	if err != nil {
		p.add(ErrMissingSecret, EnvWebhookSecret, "%v", err)
	}
	for _, ref := range refs.webhookFiles {
		if looksLikeSecret(ref.path) {
			p.invalid(ref.key, "looks like a secret, not a file name: put the secret in a file and name the file here, or set %s", EnvWebhookSecret)
			continue
		}
		path := resolveSecretPath(ref.path, baseDir, credDir)
		list, err := ReadSecretFile(path)
		if err != nil {
			p.add(ErrMissingSecret, ref.key, "%v", err)
			continue
		}
		c.Receiver.SecretFiles = append(c.Receiver.SecretFiles, path)
		secrets = append(secrets, list...)
	}
	c.Receiver.Secrets = uniqueSecrets(secrets)
}

// webhookSecretProblem says what is wrong with one trimmed webhook secret,
// without its value, or "" when nothing is.
func webhookSecretProblem(v string) string {
	switch {
	case strings.IndexFunc(v, unicode.IsControl) >= 0:
		return "contains control characters"
	case len(v) < MinWebhookSecret:
		return fmt.Sprintf("is too short to be a webhook secret (at least %d bytes)", MinWebhookSecret)
	}
	return ""
}

func uniqueSecrets(in []Secret) []Secret {
	seen := make(map[string]bool, len(in))
	out := in[:0]
	for _, s := range in {
		if v := s.Reveal(); !seen[v] {
			seen[v] = true
			out = append(out, s)
		}
	}
	return out
}
