package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// The tree mode, built as a user builds it, measures a tree of 1,200
// files: one row for this tree whose daemon listed every file (the tool
// fails otherwise), with a first batch, a scan time and memory.
func TestTreeMeasuresAtATinySize(t *testing.T) {
	stdout := runBench(t, 3*time.Minute, "builds three binaries and runs the daemon", "tree", "-files", "1200", "-per-dir", "100")
	var rows [][]string
	for _, l := range strings.Split(stdout, "\n") {
		if strings.HasPrefix(l, "| docuparse-ingest") {
			rows = append(rows, strings.Split(strings.Trim(l, "| "), " | "))
		}
	}
	if len(rows) != 1 || rows[0][1] != "1200" {
		t.Fatalf("want one row listing 1200 files:\n%s", stdout)
	}
	for _, col := range []int{2, 3, 6, 7} {
		if v := number(t, rows[0][col]); v <= 0 {
			t.Errorf("column %d is %v, want > 0:\n%s", col, v, stdout)
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
