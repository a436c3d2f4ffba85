package output

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestStatusFileRoundTripAbsentAndCorrupt(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "problems.json")
	var got map[string]int
	if ok, err := ReadStatusFile(path, &got); ok || err != nil || got != nil {
		t.Fatalf("absent file: ok=%v err=%v v=%v, want false, nil, untouched", ok, err, got)
	}
	if err := WriteStatusFile(path, map[string]int{"a": 1}); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o640 {
		t.Errorf("mode %v, want 0640", fi.Mode().Perm())
	}
	if ok, err := ReadStatusFile(path, &got); !ok || err != nil || got["a"] != 1 {
		t.Fatalf("written file: ok=%v err=%v v=%v", ok, err, got)
	}
	if err := os.WriteFile(path, []byte("{not json"), 0o640); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadStatusFile(path, &got); err == nil || !strings.Contains(err.Error(), "problems.json") {
		t.Fatalf("corrupt file: err %v, want one naming the file", err)
	}
}
