package config

import (
	"fmt"
	"time"
)

// Duration is a time.Duration written in TOML as a Go duration string such
// as "500ms", "5s", "5m" or "24h" (units ns, us, ms, s, m, h). Bare numbers
// are refused: "5" could mean seconds or nanoseconds.
type Duration time.Duration

// ParseDuration reads a duration string; it refuses an empty string.
func ParseDuration(s string) (Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("invalid duration %q: use a number with a unit, e.g. \"30s\", \"5m\", \"24h\"", s)
	}
	return Duration(d), nil
}

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// String formats d like time.Duration does, e.g. "1m30s".
func (d Duration) String() string { return time.Duration(d).String() }

// MarshalText formats d as String does.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText reads a duration string, as ParseDuration does.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}
