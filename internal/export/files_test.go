package export

import (
	"errors"
	"github.com/docuparse/docuparse-ingest/internal/safedir"
	"github.com/docuparse/docuparse-ingest/internal/store"
	"github.com/docuparse/docuparse-ingest/internal/vocab"
	"os"
	"path/filepath"
	"testing"
)

func TestMoveNeverReplacesAnArchivedFile(t *testing.T) {
	dir := t.TempDir()
	inbox, done := filepath.Join(dir, "inbox"), filepath.Join(dir, "done")
	pins := safedir.NewSet(nil)
	defer pins.Close()
	a := SourceAfter{Action: vocab.AfterMove, Root: inbox, MoveTo: done}
	src := filepath.Join(inbox, "inv.pdf")
	for i, content := range []string{"first", "second", "third"} {
		d := recordedAs(t, int64(i+1), src, content)
		if err := applyAfter(pins, a, d); err != nil {
			t.Fatalf("move %d: %v", i, err)
		}
		if _, err := os.Stat(src); !os.IsNotExist(err) {
			t.Fatalf("move %d left the source behind", i)
		}
	}
	for name, want := range map[string]string{"inv.pdf": "first", "inv (2).pdf": "second", "inv (3).pdf": "third"} {
		got, err := os.ReadFile(filepath.Join(done, name))
		if err != nil || string(got) != want {
			t.Errorf("%s = %q, %v; want %q", name, got, err, want)
		}
	}
	gone := store.Document{ID: 9, Source: "inbox", Path: filepath.Join(inbox, "gone.pdf")}
	if err := applyAfter(pins, a, gone); !os.IsNotExist(err) {
		t.Fatalf("moving a missing file: %v", err)
	}
}

// A folder of the inbox swapped for a symlink after its file was taken in
// must not lead delete or move to a file outside the inbox.
func TestAfterActionsNeverFollowAFolderSwappedForASymlink(t *testing.T) {
	for _, action := range []string{vocab.AfterDelete, vocab.AfterMove} {
		t.Run(action, func(t *testing.T) {
			dir := t.TempDir()
			inbox, precious := filepath.Join(dir, "inbox"), filepath.Join(dir, "precious")
			for _, d := range []string{filepath.Join(inbox, "sub"), precious} {
				if err := os.MkdirAll(d, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			victim := filepath.Join(precious, "victim.pdf")
			if err := os.WriteFile(victim, []byte("keep me"), 0o644); err != nil {
				t.Fatal(err)
			}
			fi, _ := os.Stat(victim)
			// The document was taken in as inbox/sub/victim.pdf with the
			// victim's size and mtime; then sub became a link to precious.
			if err := os.RemoveAll(filepath.Join(inbox, "sub")); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(precious, filepath.Join(inbox, "sub")); err != nil {
				t.Fatal(err)
			}
			d := store.Document{Source: "inbox", Path: filepath.Join(inbox, "sub", "victim.pdf"), SizeBytes: fi.Size(), ModTime: fi.ModTime()}
			err := applyAfter(safedir.NewSet(nil), SourceAfter{Action: action, Root: inbox, MoveTo: filepath.Join(dir, "done")}, d)
			if err == nil {
				t.Fatal("the after-action went through a symlinked folder")
			}
			if got, err := os.ReadFile(victim); err != nil || string(got) != "keep me" {
				t.Fatalf("the file outside the inbox was touched: %q, %v", got, err)
			}
		})
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
	e := r.exporter(func(c *Config) { c.After = map[string]SourceAfter{"inbox": {Action: vocab.AfterDelete}} })
	r.runOnce(t, e, 1) // the old, failed document's row
	path := filepath.Join(r.inbox, "retry-me.pdf")
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("the file was deleted although document %d (its retry) still needs it: %v", newID, err)
	}
}

// A different file copied over the taken-in one with the same size and
// mtime (cp -p) is not the document's: neither deleted nor moved.
func TestAfterActionsLeaveAFileRewrittenWithTheSameSizeAndMtime(t *testing.T) {
	for _, action := range []string{vocab.AfterDelete, vocab.AfterMove} {
		t.Run(action, func(t *testing.T) {
			dir := t.TempDir()
			inbox := filepath.Join(dir, "inbox")
			if err := os.MkdirAll(inbox, 0o755); err != nil {
				t.Fatal(err)
			}
			p := filepath.Join(inbox, "inv.pdf")
			if err := os.WriteFile(p, []byte("first"), 0o644); err != nil {
				t.Fatal(err)
			}
			fi, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			dev, ino, ctime := safedir.ID(fi)
			d := store.Document{Source: "inbox", Path: p, SizeBytes: fi.Size(), ModTime: fi.ModTime(),
				FileID: store.FileID{Dev: dev, Inode: ino, ChangeTime: ctime}}
			if err := os.WriteFile(p, []byte("other"), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Chtimes(p, fi.ModTime(), fi.ModTime()); err != nil {
				t.Fatal(err)
			}
			err = applyAfter(safedir.NewSet(nil), SourceAfter{Action: action, Root: inbox, MoveTo: filepath.Join(dir, "done")}, d)
			if !errors.Is(err, errChangedSince) {
				t.Fatalf("applyAfter = %v, want errChangedSince", err)
			}
			if got, err := os.ReadFile(p); err != nil || string(got) != "other" {
				t.Fatalf("the other file was touched: %q, %v", got, err)
			}
		})
	}
}
