package main

import (
	"strings"
	"testing"
	"time"
)

// The store mode, built as a user builds it, builds a store of 300
// exported documents and one of 100 with their folders, restarts the
// daemon on each, and prints a row per store: every time and size is
// positive, no file was read again, and pruning shrank what the database
// uses.
func TestStoreMeasuresBothSizesAtATinySize(t *testing.T) {
	stdout := runBench(t, 4*time.Minute, "builds three binaries and runs the daemon twice",
		"store", "-docs", "300", "-baseline-docs", "100", "-per-dir", "40", "-days", "3")
	_, table, ok := strings.Cut(stdout, storeTableHeader+"\n")
	if !ok {
		t.Fatalf("no table in:\n%s", stdout)
	}
	lines := strings.Split(strings.TrimSpace(table), "\n")[1:]
	if len(lines) != 2 {
		t.Fatalf("want a row per store, got:\n%s", table)
	}
	for i, want := range []string{"100", "300"} {
		r := strings.Split(strings.Trim(lines[i], "|"), "|")
		for j := range r {
			r[j] = strings.TrimSpace(r[j])
		}
		if r[0] != want {
			t.Errorf("row %d is for %s documents, want %s", i, r[0], want)
		}
		for _, col := range []int{2, 3, 4, 5, 6, 7, 10, 12} { // sizes per million: whole MiB even at this size
			if v := number(t, r[col]); v <= 0 {
				t.Errorf("row %q: column %d is %v, want > 0", lines[i], col, v)
			}
		}
		if r[8] != "0" {
			t.Errorf("row %q: %s files read again, want 0", lines[i], r[8])
		}
		if number(t, r[12]) >= number(t, r[10]) {
			t.Errorf("row %q: in use after pruning %s per million documents, before %s", lines[i], r[12], r[10])
		}
	}
}
