package config

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors; every *FieldError wraps one of them.
var (
	// ErrUnknownKey: the file has a key the configuration does not know
	// (often a typo).
	ErrUnknownKey = errors.New("unknown key")
	// ErrInvalid: a value has the wrong type, is out of range, malformed,
	// or a required value is missing.
	ErrInvalid = errors.New("invalid value")
	// ErrMissingSecret: a required secret was found neither in the
	// environment nor in a secret file, a secret file cannot be read, or a
	// secret found is unusable (white space or control characters inside,
	// a webhook secret shorter than MinWebhookSecret).
	ErrMissingSecret = errors.New("missing secret")
)

// FieldError is one problem with one key. Its message never contains a
// secret value.
type FieldError struct {
	File string // configuration file name as given, "" when built in code
	Key  string // dotted key, e.g. "batch.max_wait" or "source[1].name"
	Msg  string // what is wrong, e.g. `invalid duration "5x"`
	Err  error  // ErrUnknownKey, ErrInvalid or ErrMissingSecret
}

// Error formats "file: key: message".
func (e *FieldError) Error() string {
	if e.File == "" {
		return e.Key + ": " + e.Msg
	}
	return e.File + ": " + e.Key + ": " + e.Msg
}

// Unwrap returns the sentinel error.
func (e *FieldError) Unwrap() error { return e.Err }

// problems collects FieldErrors for one file and remembers which keys have
// already been reported, so one mistake gives one line.
type problems struct {
	file string
	errs []error
	keys map[string]bool
}

func newProblems(file string) *problems {
	return &problems{file: file, keys: map[string]bool{}}
}

func (p *problems) add(kind error, key, format string, args ...any) {
	p.keys[key] = true
	p.errs = append(p.errs, &FieldError{File: p.file, Key: key, Msg: fmt.Sprintf(format, args...), Err: kind})
}

func (p *problems) invalid(key, format string, args ...any) {
	p.add(ErrInvalid, key, format, args...)
}

// reported tells whether key already has a problem.
func (p *problems) reported(key string) bool { return p.keys[key] }

// reportedUnder tells whether any key starting with prefix has a problem.
func (p *problems) reportedUnder(prefix string) bool {
	for k := range p.keys {
		if strings.HasPrefix(k, prefix) {
			return true
		}
	}
	return false
}

// err joins everything collected; nil when nothing was.
func (p *problems) err() error { return errors.Join(p.errs...) }

// drop forgets the problems of one kind.
func (p *problems) drop(kind error) {
	kept := p.errs[:0]
	for _, e := range p.errs {
		if !errors.Is(e, kind) {
			kept = append(kept, e)
		}
	}
	p.errs = kept
}
