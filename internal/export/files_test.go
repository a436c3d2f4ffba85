package export

import (
	"github.com/docuparse/docuparse-ingest/internal/store"
	"os"
	"path/filepath"
	"testing"
)

func TestMoveNeverReplacesAnArchivedFile(t *testing.T) {
	dir := t.TempDir()
	dst := filepath.Join(dir, "done", "inv.pdf")
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	for i, content := range []string{"first", "second", "third"} {
		src := filepath.Join(dir, "inv.pdf")
		if err := os.WriteFile(src, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := moveNoClobber(src, dst); err != nil {
			t.Fatalf("move %d: %v", i, err)
		}
		if _, err := os.Stat(src); !os.IsNotExist(err) {
			t.Fatalf("move %d left the source behind", i)
		}
	}
	for name, want := range map[string]string{"inv.pdf": "first", "inv (2).pdf": "second", "inv (3).pdf": "third"} {
		got, err := os.ReadFile(filepath.Join(dir, "done", name))
		if err != nil || string(got) != want {
			t.Errorf("%s = %q, %v; want %q", name, got, err, want)
		}
	}
	if err := moveNoClobber(filepath.Join(dir, "gone.pdf"), dst); !os.IsNotExist(err) {
		t.Fatalf("moving a missing file: %v", err)
	}
}

func TestRowsNeverRunOnFromAHalfRowLeftByHand(t *testing.T) {
	path := filepath.Join(t.TempDir(), "documents.csv")
	for _, tc := range []struct {
		content string
		want    string
	}{
		{"", ""},
		{"a,b\n", "a,b\n"},
		{"a,b\nhalf,ro", "a,b\nhalf,ro\n"},
	} {
		if err := os.WriteFile(path, []byte(tc.content), 0o644); err != nil {
			t.Fatal(err)
		}
		size, err := endWithNewline(path, int64(len(tc.content)))
		got, _ := os.ReadFile(path)
		if err != nil || string(got) != tc.want || size != int64(len(tc.want)) {
			t.Errorf("%q → %q (size %d), %v; want %q", tc.content, got, size, err, tc.want)
		}
	}
}

func TestARetriedDocumentLeavesItsFileToTheRetry(t *testing.T) {
	r := newRig(t)
	id := r.failed(t, "retry-me.pdf", r.sample().Content)
	newID, err := r.st.Retry(t.Context(), id, store.RetryOptions{})
	if err != nil {
		t.Fatal(err)
	}
	e := r.exporter(func(c *Config) { c.After = map[string]SourceAfter{"inbox": {Action: AfterDelete}} })
	r.runOnce(t, e, 1) // the old, failed document's row
	path := filepath.Join(r.inbox, "retry-me.pdf")
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("the file was deleted although document %d (its retry) still needs it: %v", newID, err)
	}
}
