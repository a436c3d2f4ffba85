package config

import (
	"log/slog"
	"testing"
	"time"
)

func TestReportNext(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		at   string
		tz   string
		now  time.Time
		want time.Time
	}{
		{"later today", "02:00", "UTC", time.Date(2026, 11, 28, 1, 0, 0, 0, time.UTC), time.Date(2026, 11, 28, 2, 0, 0, 0, time.UTC)},
		{"tomorrow once today's time has passed", "02:00", "UTC", time.Date(2026, 11, 28, 2, 0, 0, 0, time.UTC), time.Date(2026, 11, 29, 2, 0, 0, 0, time.UTC)},
		{"in the report's zone, not the caller's", "02:00", "Europe/Berlin", time.Date(2026, 11, 28, 1, 30, 0, 0, time.UTC), time.Date(2026, 11, 29, 2, 0, 0, 0, berlin)},
		{"across the end of a month", "23:30", "UTC", time.Date(2026, 12, 31, 23, 45, 0, 0, time.UTC), time.Date(2027, 1, 1, 23, 30, 0, 0, time.UTC)},
		{"a time skipped by daylight saving moves forward", "02:30", "Europe/Berlin", time.Date(2026, 3, 29, 0, 0, 0, 0, berlin), time.Date(2026, 3, 29, 3, 30, 0, 0, berlin)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Report{At: tt.at, Timezone: tt.tz}
			if got := r.Next(tt.now); !got.Equal(tt.want) {
				t.Fatalf("Next(%v) = %v, want %v", tt.now, got, tt.want)
			}
		})
	}
}

func TestReportLocationAndClock(t *testing.T) {
	r := Report{At: "7:05", Timezone: "UTC"}
	if h, m := r.Clock(); h != 7 || m != 5 {
		t.Fatalf("Clock = %d:%d", h, m)
	}
	if r.Location() != time.UTC {
		t.Fatalf("Location = %v", r.Location())
	}
	if (&Report{Timezone: "Local"}).Location() != time.Local {
		t.Fatal("Local is not time.Local")
	}
}

func TestLogSlogLevel(t *testing.T) {
	for name, want := range map[string]slog.Level{"debug": slog.LevelDebug, "info": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError, "bogus": slog.LevelInfo} {
		if got := (Log{Level: name}).SlogLevel(); got != want {
			t.Errorf("%s: %v, want %v", name, got, want)
		}
	}
}

func TestValidateAConfigBuiltInCode(t *testing.T) {
	c := Default()
	if err := c.Validate(); err == nil {
		t.Fatal("Default() alone validated; it has no base URL, secrets or sources")
	}
	c.API.BaseURL = "http://127.0.0.1:8081/api/v1"
	c.API.APIKey = NewSecret(testKey)
	c.Receiver.Secrets = []Secret{NewSecret(testSecret1)}
	s := DefaultSource()
	s.Name, s.Path = "demo", "/tmp/demo/inbox"
	c.Sources = append(c.Sources, s)
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	c.Batch.MaxFiles = 0
	err := c.Validate()
	if err == nil || err.Error() != "batch.max_files: 0 is out of range 1..100" {
		t.Fatalf("got %v", err)
	}
}
