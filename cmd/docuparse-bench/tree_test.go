package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/binrun"
)

// The tree mode, built as a user builds it, measures a tree of 1,200
// files: one row for this tree whose daemon listed every file (the tool
// fails otherwise), with a first batch, a scan time and memory.
func TestTreeMeasuresAtATinySize(t *testing.T) {
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
	cmd := exec.CommandContext(ctx, bin, "tree", "-files", "1200", "-per-dir", "100", "-dir", filepath.Join(dir, "work"))
	cmd.Dir = "../.."
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = time.Minute
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	var rows [][]string
	for _, l := range strings.Split(stdout.String(), "\n") {
		if strings.HasPrefix(l, "| docuparse-ingest") {
			rows = append(rows, strings.Split(strings.Trim(l, "| "), " | "))
		}
	}
	if len(rows) != 1 || rows[0][1] != "1200" {
		t.Fatalf("want one row listing 1200 files:\n%s", stdout.String())
	}
	for _, col := range []int{2, 3, 6, 7} {
		if v := number(t, rows[0][col]); v <= 0 {
			t.Errorf("column %d is %v, want > 0:\n%s", col, v, stdout.String())
		}
	}
}

func TestParseListedReadsTheSourceListedLine(t *testing.T) {
	var res treeResult
	ok, err := parseListed(`{"level":"INFO","msg":"source listed","files":12,"took":1500000000}`+"\n", &res)
	if !ok || err != nil || res.Listed != 12 || res.ScanTook != 1500*time.Millisecond {
		t.Fatalf("got %v %v %+v", ok, err, res)
	}
	if ok, _ := parseListed(`{"msg":"document queued"}`, &res); ok {
		t.Fatal("another line read as the listing's end")
	}
	if d, err := parseLogDuration(json.RawMessage(`"2.5s"`)); err != nil || d != 2500*time.Millisecond {
		t.Fatalf("a string duration: %v %v", d, err)
	}
}
