package output

import (
	"github.com/docuparse/docuparse-ingest/internal/vocab"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLayoutDay(t *testing.T) {
	utcLate := time.Date(2026, 11, 28, 23, 30, 0, 0, time.UTC)
	if got := (Layout{}).Day(utcLate); got != "2026-11-28" {
		t.Errorf("nil Location: Day = %s, want UTC day 2026-11-28", got)
	}
	east := Layout{Location: time.FixedZone("UTC+2", 2*3600)}
	if got := east.Day(utcLate); got != "2026-11-29" {
		t.Errorf("UTC+2: Day = %s, want 2026-11-29", got)
	}
	west := Layout{Location: time.FixedZone("UTC-5", -5*3600)}
	if got := west.Day(time.Date(2026, 11, 28, 3, 0, 0, 0, time.UTC)); got != "2026-11-27" {
		t.Errorf("UTC-5: Day = %s, want 2026-11-27", got)
	}
}

func TestLayoutPaths(t *testing.T) {
	root := filepath.Join("/var", "out")
	l := Layout{Root: root, Location: time.FixedZone("UTC+2", 2*3600)}
	day := "2026-05-19"
	tests := []struct {
		name, got, want string
	}{
		{"completed: its own id", l.ResultPath(completedDoc()), root + "/results/2026-05-19/doc_clx7abc123.json"},
		{"failed: its own id", l.ResultPath(failedDoc()), root + "/results/2026-05-19/doc_clx7abc456.json"},
		{"rejected: the local reference", l.ResultPath(rejectedDoc()), root + "/results/2026-05-19/dpi_0003.json"},
		{"duplicate: the local reference, never the original's id", l.ResultPath(duplicateDoc()), root + "/results/2026-05-19/dpi_0004.json"},
		{"not submitted: the local reference", l.ResultPath(Document{LocalRef: "dpi_9", Status: vocab.StateFailed, CompletedAt: tCompleted}), root + "/results/2026-05-19/dpi_9.json"},
		{"day in the layout's zone", l.ResultPath(Document{LocalRef: "x", Status: vocab.StateRejected, CompletedAt: time.Date(2026, 5, 19, 22, 0, 0, 0, time.UTC)}), root + "/results/2026-05-20/x.json"},
		{"documents CSV", l.DocumentsCSV(day), root + "/csv/documents-2026-05-19.csv"},
		{"line items CSV", l.LineItemsCSV(day), root + "/csv/line_items-2026-05-19.csv"},
		{"report", l.ReportPath(day, "md"), root + "/reports/reconciliation-2026-05-19.md"},
		{"report with a dotted extension", l.ReportPath(day, ".json"), root + "/reports/reconciliation-2026-05-19.json"},
	}
	for _, tc := range tests {
		if tc.got != filepath.FromSlash(tc.want) {
			t.Errorf("%s: got %s, want %s", tc.name, tc.got, tc.want)
		}
	}
}

func TestResultPathStaysInsideTheDayDirectory(t *testing.T) {
	l := Layout{Root: t.TempDir()}
	dayDir := filepath.Join(l.Root, "results", "2026-05-19")
	for _, id := range []string{"../../etc/passwd", "/abs/path", "..", ".", "", "a\\b", "a\x00b", "doc\n1", strings.Repeat("x", 400)} {
		for _, d := range []Document{
			{DocumentID: id, LocalRef: "r", Status: vocab.StateCompleted, CompletedAt: tCompleted},
			{LocalRef: id, Status: vocab.StateRejected, CompletedAt: tCompleted},
		} {
			p := l.ResultPath(d)
			if filepath.Dir(p) != dayDir {
				t.Errorf("id %q: ResultPath = %s, outside %s", id, p, dayDir)
			}
			if base := filepath.Base(p); strings.HasPrefix(base, ".") || len(base) > 200 {
				t.Errorf("id %q: unsafe file name %q", id, base)
			}
		}
	}
}

func TestSafeName(t *testing.T) {
	keep := []string{"doc_clx7abc123", "dpi_0001", "batch-1.2", "2026-05-19"}
	for _, s := range keep {
		if got := SafeName(s); got != s {
			t.Errorf("SafeName(%q) = %q, want it unchanged", s, got)
		}
	}
	seen := map[string]string{}
	for _, s := range append(keep, "a/b", "a_b", "a b", "a\\b", "", ".", "..", ".hidden", "_hidden",
		strings.Repeat("y", 300), strings.Repeat("y", 301), "ünï", "un_") {
		got := SafeName(s)
		if prev, dup := seen[got]; dup {
			t.Errorf("SafeName(%q) = SafeName(%q) = %q", s, prev, got)
		}
		seen[got] = s
		if got == "" || strings.HasPrefix(got, ".") || strings.ContainsAny(got, "/\\ \x00") || len(got) > 130 {
			t.Errorf("SafeName(%q) = %q is not a safe name", s, got)
		}
	}
}
