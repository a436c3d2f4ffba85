package config

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/BurntSushi/toml"
)

// ErrSyntax: the file is not valid TOML. The error names file:line:column.
var ErrSyntax = errors.New("TOML syntax error")

// Load reads the configuration file at path, then secrets from the
// environment (through getenv; nil means os.Getenv) and secret files, and
// validates the result. See Parse.
func Load(path string, getenv func(string) string) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open config: %w", err)
	}
	defer f.Close()
	return Parse(f, path, getenv)
}

// Parse reads a TOML configuration from r on top of Default(), fills in the
// secrets, and validates the result. name is the file name used in error
// messages; relative paths in the file (state_dir, output_dir, secret files)
// are resolved against its directory. getenv reads environment variables;
// nil means os.Getenv.
//
// On any problem it returns a nil Config and an error joining one
// *FieldError per problem (errors.Is ErrUnknownKey, ErrInvalid or
// ErrMissingSecret), or an ErrSyntax error for a file that is not TOML.
func Parse(r io.Reader, name string, getenv func(string) string) (*Config, error) {
	return parseConfig(r, name, getenv, true)
}

// LoadWithoutSecrets is Load for commands that only read the daemon's
// state (status, report, webhook list): a missing secret is not an error,
// since systemd hands secrets to the service alone. Secrets that are
// present are still read; every other problem is still reported.
func LoadWithoutSecrets(path string, getenv func(string) string) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open config: %w", err)
	}
	defer f.Close()
	return parseConfig(f, path, getenv, false)
}

func parseConfig(r io.Reader, name string, getenv func(string) string, requireSecrets bool) (*Config, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	label := name
	if label == "" {
		label = "config"
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", label, err)
	}
	p := newProblems(label)

	// A generic decode first: syntax errors, and value kinds the struct
	// decoder would stop at.
	var tree map[string]any
	if _, err := toml.Decode(string(data), &tree); err != nil {
		return nil, syntaxError(label, err)
	}
	if checkShape(tree, p); len(p.errs) > 0 {
		return nil, p.err()
	}

	var f fileConfig
	md, err := toml.Decode(string(data), &f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", label, err) // not expected after checkShape
	}
	reportUnknown(md.Undecoded(), tree, p)

	c, refs := decoder{p}.build(&f)
	c.name = name
	baseDir := filepath.Dir(name)
	c.normalize(baseDir)
	loadSecrets(c, refs, getenv, baseDir, p)
	c.validate(p)
	if !requireSecrets {
		p.drop(ErrMissingSecret)
	}
	if err := p.err(); err != nil {
		return nil, err
	}
	return c, nil
}

// normalize resolves relative directories against baseDir, derives the
// output directory when it is not set, and drops the base URL's trailing
// slash.
func (c *Config) normalize(baseDir string) {
	abs := func(p string) string {
		if p == "" || filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(baseDir, p)
	}
	c.StateDir = abs(c.StateDir)
	if c.OutputDir == "" && c.StateDir != "" {
		c.OutputDir = filepath.Join(c.StateDir, "out")
	}
	c.OutputDir = abs(c.OutputDir)
	c.API.BaseURL = strings.TrimRight(c.API.BaseURL, "/")
	for i := range c.Sources {
		if s := &c.Sources[i]; filepath.IsAbs(s.Path) {
			s.Path = filepath.Clean(s.Path)
		}
	}
}

func syntaxError(label string, err error) error {
	var pe toml.ParseError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s:%d:%d: %w: %s", label, pe.Position.Line, pe.Position.Col, ErrSyntax, pe.Message)
	}
	return fmt.Errorf("%s: %w: %v", label, ErrSyntax, err)
}
