package main

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/binrun"
)

// The burst mode, built as a user builds it, at a tiny size: the daemon
// submits 40 files, absorbs their 40 events and 40 for unknown ids, and
// the table has a row for each burst with every figure positive; the tool
// itself checked that each document has exactly one CSV row (it fails
// otherwise) and printed what `status` said.
func TestBurstMeasuresBothSidesAtATinySize(t *testing.T) {
	if testing.Short() {
		t.Skip("builds three binaries and runs the daemon")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dir := t.TempDir()
	bin := filepath.Join(dir, "docuparse-bench")
	if err := binrun.BuildCommand(ctx, "../..", "./cmd/docuparse-bench", bin); err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, bin, "burst", "-events", "40", "-senders", "8", "-dir", filepath.Join(dir, "work"))
	cmd.Dir = "../.."
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = time.Minute
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	_, table, ok := strings.Cut(stdout.String(), burstHeader+"\n")
	if !ok {
		t.Fatalf("no table in:\n%s", stdout.String())
	}
	lines := strings.Split(strings.TrimSpace(table), "\n")
	for i, want := range []string{"(a) submitted documents", "(b) unknown ids"} {
		cells := strings.Split(strings.Trim(lines[1+i], "|"), "|")
		for j := range cells {
			cells[j] = strings.TrimSpace(cells[j])
		}
		if cells[0] != "40" || cells[1] != "docuparse-ingest run (this tree)" || cells[2] != want {
			t.Errorf("row %d = %q, want 40 events of this tree, %s", i, cells, want)
		}
		for _, col := range []int{3, 4, 5, 6, 8, 9} {
			if v := number(t, cells[col]); v <= 0 {
				t.Errorf("row %q: column %d is %v, want > 0", want, col, v)
			}
		}
	}
	for _, want := range []string{"40 documents with exactly one CSV row", "applied 40, orphan 40", "`status` afterwards", "completed"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, stdout.String())
		}
	}
}
