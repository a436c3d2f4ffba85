package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/config"
	"github.com/docuparse/docuparse-ingest/internal/docuparse"
)

// Each command reads and validates its configuration once and hands that
// one configuration down: a file read twice could change between the
// reads, so the store opened and the folders written would be another
// configuration's. Every load looks up CREDENTIALS_DIRECTORY exactly once,
// so counting those look-ups counts the loads.
func TestCommandsLoadTheConfigurationOnce(t *testing.T) {
	f := newRetryFixture(t)
	f.add("a.pdf", docuparse.StatusFailed, docuparse.CodeExtractionFailed)
	yesterday := time.Now().AddDate(0, 0, -1).Format("2006-01-02")
	for _, args := range [][]string{
		{"report", "--config", f.cfgPath, "--date", yesterday},
		{"retry", "--config", f.cfgPath, "--failed", "--dry-run"},
		{"reconcile", "--config", f.cfgPath},
		{"status", "--config", f.cfgPath},
	} {
		loads := 0
		var out, errb bytes.Buffer
		m := &Main{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, SysctlDir: linksProtected(t),
			Getenv: func(k string) string {
				if k == config.EnvCredentialsDirectory {
					loads++
				}
				return secretEnv[k]
			}}
		if err := m.Run(context.Background(), args); err != nil {
			t.Fatalf("%s: %v\n%s%s", args[0], err, out.String(), errb.String())
		}
		if loads != 1 {
			t.Errorf("%s loaded the configuration %d times; want once", args[0], loads)
		}
	}
}
