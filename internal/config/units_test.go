package config

import (
	"testing"
	"time"
)

func TestParseSize(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want Size
	}{
		{"plain digits are bytes", "4096", 4096},
		{"B is bytes", "512B", 512},
		{"KB is a thousand bytes", "512KB", 512_000},
		{"MB is a million bytes", "100MB", 100_000_000},
		{"GB is a billion bytes", "1GB", 1_000_000_000},
		{"KiB is 1024 bytes", "4KiB", 4096},
		{"MiB is 1024 squared", "10MiB", 10_485_760},
		{"GiB is 1024 cubed", "1GiB", 1 << 30},
		{"a space before the unit is allowed", "10 MB", 10_000_000},
		{"units are case-insensitive", "1mib", 1 << 20},
		{"zero is allowed here (validation decides)", "0", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseSize(tt.in)
			if err != nil || got != tt.want {
				t.Fatalf("ParseSize(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
			}
			back, err := ParseSize(got.String())
			if err != nil || back != got {
				t.Fatalf("String %q does not read back: %d, %v", got.String(), back, err)
			}
		})
	}
}

func TestParseSizeRejects(t *testing.T) {
	for _, in := range []string{"", "MB", "1.5MB", "-1MB", "10 TB", "10M", "ten", "99999999999999999999", "9223372036854775807KB"} {
		if got, err := ParseSize(in); err == nil {
			t.Errorf("ParseSize(%q) = %d, want an error", in, got)
		}
	}
}

func TestSizeStringPicksTheLargestExactUnit(t *testing.T) {
	for s, want := range map[Size]string{0: "0B", 1500: "1500B", 10 * MiB: "10MiB", 100 * MB: "100MB", 2 * GiB: "2GiB", 4 * KiB: "4KiB", 3 * KB: "3KB"} {
		if got := s.String(); got != want {
			t.Errorf("Size(%d).String() = %q, want %q", int64(s), got, want)
		}
	}
}

func TestParseDuration(t *testing.T) {
	d, err := ParseDuration("1m30s")
	if err != nil || d.D() != 90*time.Second || d.String() != "1m30s" {
		t.Fatalf("ParseDuration(1m30s) = %v, %v", d, err)
	}
	for _, in := range []string{"", "5", "5x", "1d"} {
		if _, err := ParseDuration(in); err == nil {
			t.Errorf("ParseDuration(%q) succeeded, want an error", in)
		}
	}
	var u Duration
	if err := u.UnmarshalText([]byte("24h")); err != nil || u.D() != 24*time.Hour {
		t.Fatalf("UnmarshalText(24h) = %v, %v", u, err)
	}
	b, _ := u.MarshalText()
	if string(b) != "24h0m0s" {
		t.Fatalf("MarshalText = %q", b)
	}
}
