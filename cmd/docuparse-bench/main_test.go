package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/binrun"
)

// The whole tool, built as a user builds it, measures 200 files: the
// table has the naive client's row and the daemon's, every number is
// positive, and the tool itself checked that every file was counted
// (it fails when a CSV misses a row).
func TestE2EMeasuresBothSidesAtATinySize(t *testing.T) {
	stdout := runBench(t, 3*time.Minute, "builds three binaries and runs the daemon", "e2e", "-files", "200")
	rows := tableRows(t, stdout)
	if len(rows) != 2 {
		t.Fatalf("want the naive row and the daemon's, got %d rows:\n%s", len(rows), stdout)
	}
	for i, want := range []string{"naive client", "docuparse-ingest run (this tree)"} {
		r := rows[i]
		if r[0] != "200" || !strings.HasPrefix(r[1], want) {
			t.Errorf("row %d = %q, want 200 files and %q", i, r, want)
		}
		for _, col := range []int{2, 3, 4, 5} {
			if v := number(t, r[col]); v <= 0 {
				t.Errorf("row %q: column %d is %v, want > 0", r[1], col, v)
			}
		}
	}
	if v := number(t, rows[1][6]); v <= 0 {
		t.Errorf("daemon's CPU per 1,000 docs is %v, want > 0", v)
	}
	if v := number(t, rows[1][7]); v < 0 || v > 100 {
		t.Errorf("daemon's system share of CPU is %v %%, want 0 to 100", v)
	}
}

// tableRows returns the cells of the result table's data rows.
func tableRows(t *testing.T, out string) [][]string {
	t.Helper()
	_, table, ok := strings.Cut(out, tableHeader+"\n")
	if !ok {
		t.Fatalf("no table in:\n%s", out)
	}
	var rows [][]string
	for _, line := range strings.Split(strings.TrimSpace(table), "\n")[1:] {
		cells := strings.Split(strings.Trim(line, "|"), "|")
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		rows = append(rows, cells)
	}
	return rows
}

// number parses a cell such as "4318", "60 MiB" or "41 %".
func number(t *testing.T, cell string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSuffix(cell, " MiB"), " %"), 64)
	if err != nil {
		t.Fatalf("cell %q: %v", cell, err)
	}
	return v
}

// CPU time is read after the command name, which may hold spaces and
// parentheses.
func TestParseStatSkipsTheCommandName(t *testing.T) {
	line := "4242 (docuparse (x) y) S 1 4242 4242 0 -1 4194560 500 0 0 0 250 50 0 0 20 0 9 0 100 0 0\n"
	total, sys, err := parseStat(line)
	if err != nil {
		t.Fatal(err)
	}
	if total != 3*time.Second || sys != 500*time.Millisecond {
		t.Errorf("parseStat = %v, %v; want 3s (250 + 50 ticks), 500ms", total, sys)
	}
	if _, _, err := parseStat("4242 (short) S 1 2"); err == nil {
		t.Error("a truncated line parsed")
	}
}

// Rows are CSV records: a quoted line break does not count twice, and the
// header of each file is not a row.
func TestCountRowsCountsRecordsNotLines(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("documents-2026-12-01.csv", "id,name\n1,\"two\nlines\"\n2,b\n")
	write("documents-2026-12-02.csv", "id,name\n3,c\n")
	write("line_items-2026-12-01.csv", "id,n\n1,1\n1,2\n")
	n, err := countRows(dir)
	if err != nil {
		t.Fatal(err)
	}
	if n != 3 {
		t.Errorf("countRows = %d, want 3", n)
	}
}

// The exported count is read from the daemon's own series only.
func TestParseExportedReadsTheExportedSeries(t *testing.T) {
	text := "# HELP docuparse_documents Documents by state.\n" +
		"docuparse_documents{state=\"queued\"} 5\n" +
		"docuparse_documents{state=\"exported\"} 1.5e+04\n" +
		"docuparse_documents_ended_total{outcome=\"completed\",source=\"inbox\"} 9\n"
	n, err := parseExported(strings.NewReader(text))
	if err != nil || n != 15000 {
		t.Errorf("parseExported = %d, %v; want 15000", n, err)
	}
	if _, err := parseExported(strings.NewReader("docuparse_documents{state=\"queued\"} 5\n")); err == nil {
		t.Error("no exported series, no error")
	}
}

// TestLineCounterCountsOnlyWhatIsNew: the driver's cheap progress check
// counts the rows of the documents CSV files, reading each byte once, and
// never counts fewer rows than the files hold.
func TestLineCounterCountsOnlyWhatIsNew(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "documents-2026-12-03.csv")
	appendTo := func(path, s string) {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if _, err := f.WriteString(s); err != nil {
			t.Fatal(err)
		}
	}
	c := lineCounter{seen: map[string]int64{}}
	appendTo(a, "\"h\"\n\"1\"\n\"2\"\n")
	if got := c.rows(dir); got != 2 {
		t.Fatalf("rows = %d, want 2", got)
	}
	appendTo(a, "\"3\"\n")
	appendTo(filepath.Join(dir, "documents-2026-12-04.csv"), "\"h\"\n\"4\"\n")
	if got := c.rows(dir); got != 4 {
		t.Fatalf("rows = %d, want 4", got)
	}
	if got, err := countRows(dir); err != nil || got != 4 {
		t.Fatalf("countRows = %d, %v; want 4", got, err)
	}
}

// runBench builds this tool as a user builds it and runs it from the
// module root with args and a work folder of its own, at most timeout (then
// SIGTERM, on which the tool stops its own children), and returns what it
// printed; it fails t with both outputs if the tool fails. Under -short it
// skips, saying why (skip: what the run costs).
func runBench(t *testing.T, timeout time.Duration, skip string, args ...string) string {
	t.Helper()
	if testing.Short() {
		t.Skip(skip)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	dir := t.TempDir()
	bin := filepath.Join(dir, "docuparse-bench")
	if err := binrun.BuildCommand(ctx, "../..", "./cmd/docuparse-bench", bin); err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, bin, append(args, "-dir", filepath.Join(dir, "work"))...)
	cmd.Dir = "../.." // it builds ./cmd/docuparse-ingest and ./cmd/docuparse-sim of the module
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = time.Minute
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	return stdout.String()
}
