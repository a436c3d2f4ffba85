package main

import (
	"strings"
	"testing"
	"time"
)

// The burst mode, built as a user builds it, at a tiny size: the daemon
// submits 40 files, absorbs their 40 events and 40 for unknown ids, and
// the table has a row for each burst with every figure positive; the tool
// itself checked that each document has exactly one CSV row (it fails
// otherwise) and printed what `status` said.
func TestBurstMeasuresBothSidesAtATinySize(t *testing.T) {
	stdout := runBench(t, 3*time.Minute, "builds three binaries and runs the daemon", "burst", "-events", "40", "-senders", "8")
	_, table, ok := strings.Cut(stdout, burstHeader+"\n")
	if !ok {
		t.Fatalf("no table in:\n%s", stdout)
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
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
}
