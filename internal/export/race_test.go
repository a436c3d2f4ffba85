package export

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/docuparse/docuparse-ingest/internal/docuparse"
	"github.com/docuparse/docuparse-ingest/internal/safedir"
	"github.com/docuparse/docuparse-ingest/internal/store"
	"github.com/docuparse/docuparse-ingest/internal/vocab"
)

// setAfterHook sets afterHook for one test (such tests do not run in
// parallel).
func setAfterHook(t *testing.T, fn func(step string)) {
	t.Helper()
	afterHook = fn
	t.Cleanup(func() { afterHook = nil })
}

// mustWrite writes content at p, creating its folder.
func mustWrite(t *testing.T, p, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// mustRead returns p's content, failing the test if it cannot be read.
func mustRead(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// saveOver replaces the file at p the way a scanner's atomic save does: a
// new file written beside it and renamed over it.
func saveOver(t *testing.T, p, content string) {
	t.Helper()
	tmp := filepath.Join(filepath.Dir(p), ".save.tmp")
	mustWrite(t, tmp, content)
	if err := os.Rename(tmp, p); err != nil {
		t.Fatal(err)
	}
}

// recordedAs writes content at p and returns the document intake would have
// recorded for it: size, mtime, device, inode, ctime and SHA-256.
func recordedAs(t *testing.T, id int64, p, content string) store.Document {
	t.Helper()
	mustWrite(t, p, content)
	fi, err := os.Lstat(p)
	if err != nil {
		t.Fatal(err)
	}
	dev, ino, ctime := safedir.ID(fi)
	sum := sha256.Sum256([]byte(content))
	return store.Document{ID: id, Source: "inbox", Path: p, FileName: filepath.Base(p), SizeBytes: fi.Size(),
		ModTime: fi.ModTime(), FileID: store.FileID{Dev: dev, Inode: ino, ChangeTime: ctime},
		SHA256: hex.EncodeToString(sum[:]), State: store.StateCompleted}
}

// names lists a folder's entries (none if it does not exist).
func names(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	return out
}

// A file saved over the taken-in one between the identity check and the
// move or delete (a scanner's atomic save) was never taken in: it is
// neither moved to done/ nor deleted, and stays under its name.
func TestAfterActionsNeverTakeAFileSavedOverTheOneTakenIn(t *testing.T) {
	for _, action := range []string{vocab.AfterDelete, vocab.AfterMove} {
		t.Run(action, func(t *testing.T) {
			dir := t.TempDir()
			inbox, done := filepath.Join(dir, "inbox"), filepath.Join(dir, "done")
			p := filepath.Join(inbox, "inv.pdf")
			d := recordedAs(t, 7, p, "taken in")
			setAfterHook(t, func(step string) {
				if step == "checked" {
					saveOver(t, p, "saved over")
				}
			})
			err := applyAfter(safedir.NewSet(nil), SourceAfter{Action: action, Root: inbox, MoveTo: done}, d)
			if !errors.Is(err, errChangedSince) {
				t.Fatalf("applyAfter = %v, want errChangedSince", err)
			}
			if got := mustRead(t, p); got != "saved over" {
				t.Fatalf("inv.pdf = %q, want the file saved over it", got)
			}
			if got := names(t, inbox); !slices.Equal(got, []string{"inv.pdf"}) {
				t.Errorf("inbox holds %q, want only inv.pdf", got)
			}
			if got := names(t, done); len(got) != 0 {
				t.Errorf("done/ holds %q, want nothing", got)
			}
		})
	}
}

// The name is taken again before the file that was moved or quarantined
// by mistake can be put back: it goes beside it under a free name (where
// intake finds it), never over the newcomer, and the error says where.
func TestAFileTakenByMistakeIsPutBesideANewcomerAtItsName(t *testing.T) {
	for _, action := range []string{vocab.AfterDelete, vocab.AfterMove} {
		t.Run(action, func(t *testing.T) {
			dir := t.TempDir()
			inbox, done := filepath.Join(dir, "inbox"), filepath.Join(dir, "done")
			p := filepath.Join(inbox, "inv.pdf")
			d := recordedAs(t, 7, p, "taken in")
			setAfterHook(t, func(step string) {
				switch step {
				case "checked":
					saveOver(t, p, "saved over")
				case "acted":
					mustWrite(t, p, "newcomer")
				}
			})
			err := applyAfter(safedir.NewSet(nil), SourceAfter{Action: action, Root: inbox, MoveTo: done}, d)
			if !errors.Is(err, errChangedSince) || !strings.Contains(err.Error(), "inv (2).pdf") {
				t.Fatalf("applyAfter = %v, want errChangedSince naming inv (2).pdf", err)
			}
			if got := mustRead(t, p); got != "newcomer" {
				t.Errorf("inv.pdf = %q, want the newcomer", got)
			}
			if got := mustRead(t, filepath.Join(inbox, "inv (2).pdf")); got != "saved over" {
				t.Errorf("inv (2).pdf = %q, want the file saved over the taken-in one", got)
			}
			if got := names(t, inbox); len(got) != 2 {
				t.Errorf("inbox holds %q, want inv.pdf and inv (2).pdf", got)
			}
			if got := names(t, done); len(got) != 0 {
				t.Errorf("done/ holds %q, want nothing", got)
			}
		})
	}
}

// failedWithID takes content in at inbox/rel with its identity and
// records it failed by the API (a result: the after-action applies).
func (r *rig) failedWithID(t *testing.T, rel, content string) int64 {
	t.Helper()
	ctx := t.Context()
	d := recordedAs(t, 0, filepath.Join(r.inbox, rel), content)
	res, err := r.st.Intake(ctx, store.NewFile{Source: "inbox", Path: d.Path, FileName: d.FileName, Size: d.SizeBytes,
		ModTime: d.ModTime, FileID: d.FileID, SHA256: d.SHA256})
	if err != nil {
		t.Fatal(err)
	}
	b, err := r.st.CreateBatch(ctx, store.ModeBatch, []int64{res.ID})
	if err != nil {
		t.Fatal(err)
	}
	docID := fmt.Sprintf("doc_race%04d", res.ID)
	if err := r.st.RecordSubmitted(ctx, b.ID, fmt.Sprintf("batch_race%04d", b.ID), []byte("{}"),
		[]store.Submitted{{DocID: res.ID, DocumentID: docID}}); err != nil {
		t.Fatal(err)
	}
	r.apply(t, store.Result{DocumentID: docID, Status: docuparse.StatusFailed, ErrorCode: docuparse.CodeExtractionFailed,
		ErrorMessage: "failed", Via: store.ViaWebhook})
	return res.ID
}

// A delete is a rename to a hidden quarantine name, a check, then the
// unlink. Killed between them, the file is left under that name and the
// document not yet exported: the next start's export of it resolves the
// name — deleted if it is the file taken in, put back under its own name
// (it was never taken in) if not. Intake never takes the quarantine name.
func TestADeleteKilledMidwayIsResolvedAtTheNextStart(t *testing.T) {
	for _, tc := range []struct {
		name     string
		foreign  bool   // the quarantine holds a file saved over the taken-in one
		wantBase string // content at the file's own name afterwards; "" = none
	}{
		{"the quarantined file is the one taken in", false, ""},
		{"the quarantined file was saved over it", true, "saved over"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t)
			id := r.failedWithID(t, "a.pdf", "taken in")
			p := filepath.Join(r.inbox, "a.pdf")
			if tc.foreign {
				saveOver(t, p, "saved over")
			}
			q := filepath.Join(r.inbox, safedir.QuarantineName(id))
			if err := os.Rename(p, q); err != nil {
				t.Fatal(err)
			}
			r.runOnce(t, r.exporter(func(c *Config) {
				c.After = map[string]SourceAfter{"inbox": {Action: vocab.AfterDelete, Root: r.inbox}}
			}), 1)
			if _, err := os.Lstat(q); !os.IsNotExist(err) {
				t.Errorf("the quarantine name is still there (%v)", err)
			}
			got, err := os.ReadFile(p)
			switch {
			case tc.wantBase == "" && !os.IsNotExist(err):
				t.Errorf("a.pdf = %q, %v; want it deleted", got, err)
			case tc.wantBase != "" && string(got) != tc.wantBase:
				t.Errorf("a.pdf = %q, %v; want %q put back", got, err, tc.wantBase)
			}
		})
	}
}

// Only the change time differs (chmod, an xattr or ACL tool, Samba's DOS
// attributes): the file is re-hashed through the pin, and the same bytes
// are the same file — moved or deleted, not left in place for ever. Other
// bytes of the same size under the old mtime are not.
func TestAfterActionsSeeThroughAChangeOfModeOnly(t *testing.T) {
	for _, action := range []string{vocab.AfterDelete, vocab.AfterMove} {
		for _, rewrite := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/rewritten=%v", action, rewrite), func(t *testing.T) {
				r := newRig(t)
				r.failedWithID(t, "a.pdf", "taken in")
				p := filepath.Join(r.inbox, "a.pdf")
				if rewrite {
					fi, _ := os.Stat(p)
					mustWrite(t, p, "TAKEN IN")
					if err := os.Chtimes(p, fi.ModTime(), fi.ModTime()); err != nil {
						t.Fatal(err)
					}
				}
				if err := os.Chmod(p, 0o600); err != nil {
					t.Fatal(err)
				}
				done := filepath.Join(filepath.Dir(r.inbox), "done")
				r.runOnce(t, r.exporter(func(c *Config) {
					c.After = map[string]SourceAfter{"inbox": {Action: action, Root: r.inbox, MoveTo: done}}
				}), 1)
				_, err := os.Stat(p)
				if rewrite != (err == nil) {
					t.Fatalf("rewritten %v: a.pdf in the inbox: %v\n%s", rewrite, err, r.logs.String())
				}
				if moved := len(names(t, done)) == 1; action == vocab.AfterMove && moved == rewrite {
					t.Errorf("rewritten %v: done/ holds %q", rewrite, names(t, done))
				}
			})
		}
	}
}
