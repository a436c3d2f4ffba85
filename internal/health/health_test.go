package health

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

// A problem is logged and written when it starts and when it ends, never
// in between, and the file holds exactly the current set.
func TestTrackerLogsAndWritesOnlyChanges(t *testing.T) {
	dir := t.TempDir()
	var logs bytes.Buffer
	var changes []string
	tr := New(Options{Dir: dir, Logger: slog.New(slog.NewTextHandler(&logs, nil)),
		OnChange: func(what string, on bool) { changes = append(changes, what+map[bool]string{true: "+", false: "-"}[on]) }})
	if s, err := Read(dir); err != nil || len(s.Problems) != 0 {
		t.Fatalf("a new tracker's file: %+v, %v; want an empty set", s, err)
	}
	for range 3 {
		tr.Set(APIKey, "the API answered HTTP 401\nto submit_batch")
	}
	s, err := Read(dir)
	if err != nil || len(s.Problems) != 1 || s.Problems[0].What != APIKey || s.Problems[0].Fix == "" ||
		s.Problems[0].Detail != "the API answered HTTP 401 to submit_batch" {
		t.Fatalf("after Set: %+v, %v", s, err)
	}
	if err := tr.Check(APIKey)(t.Context()); err == nil || !strings.Contains(err.Error(), "fix: ") {
		t.Errorf("Check = %v, want the problem and its fix", err)
	}
	tr.Clear(APIKey)
	tr.Clear(APIKey)
	if s, _ := Read(dir); len(s.Problems) != 0 {
		t.Errorf("after Clear: %+v", s)
	}
	if n := strings.Count(logs.String(), "level=ERROR"); n != 1 {
		t.Errorf("%d ERROR lines, want 1:\n%s", n, logs.String())
	}
	if n := strings.Count(logs.String(), "level=INFO"); n != 1 {
		t.Errorf("%d INFO lines, want 1:\n%s", n, logs.String())
	}
	if strings.Join(changes, ",") != "api_key+,api_key-" {
		t.Errorf("changes %v", changes)
	}
	tr.Set(Export, "disk full")
	tr.Close()
	if s, err := Read(dir); err != nil || len(s.Problems) != 0 {
		t.Errorf("after Close: %+v, %v; want no file, an empty set", s, err)
	}
}
