package ingest

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// settleFiles is a fake file system for the tracker: key → signature.
type settleFiles map[string]settleSig

func (fs settleFiles) stat(key string) (settleSig, statResult) {
	sig, ok := fs[key]
	if !ok {
		return sig, statGone
	}
	return sig, statFound
}

func settleKeys(rs []settleReady) []string {
	var keys []string
	for _, r := range rs {
		keys = append(keys, r.key)
	}
	return keys
}

func sameKeys(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestSettleTracker(t *testing.T) {
	const settle = 100 * time.Millisecond
	t0 := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	sig := func(size int64, sec int) settleSig {
		return settleSig{size: size, mtime: t0.Add(time.Duration(sec) * time.Second)}
	}

	t.Run("a file is due only after its settle time", func(t *testing.T) {
		tr, files := newSettleTracker(settle), settleFiles{"/a": sig(1, 0)}
		tr.observe("/a", files["/a"], at(0))
		if got := tr.due(at(99), files.stat); len(got) != 0 {
			t.Fatalf("due early: %v", got)
		}
		got := tr.due(at(100), files.stat)
		if !sameKeys(settleKeys(got), []string{"/a"}) || !got[0].sig.equal(sig(1, 0)) {
			t.Fatalf("due = %v", got)
		}
	})

	t.Run("a growing file starts its settle time again", func(t *testing.T) {
		tr, files := newSettleTracker(settle), settleFiles{"/a": sig(1, 0)}
		tr.observe("/a", files["/a"], at(0))
		files["/a"] = sig(2, 1)
		if got := tr.due(at(100), files.stat); len(got) != 0 {
			t.Fatalf("due while growing: %v", got)
		}
		if got := tr.due(at(199), files.stat); len(got) != 0 {
			t.Fatalf("due before the new settle time: %v", got)
		}
		got := tr.due(at(200), files.stat)
		if len(got) != 1 || got[0].sig.size != 2 {
			t.Fatalf("due = %v", got)
		}
	})

	t.Run("write activity debounces", func(t *testing.T) {
		tr, files := newSettleTracker(settle), settleFiles{"/a": sig(1, 0)}
		if tr.touch("/a", at(0)) {
			t.Fatal("touch of an unknown key reported pending")
		}
		tr.observe("/a", files["/a"], at(0))
		for ms := 50; ms <= 500; ms += 50 {
			if !tr.touch("/a", at(ms)) {
				t.Fatal("touch of a pending key reported not pending")
			}
			if got := tr.due(at(ms), files.stat); len(got) != 0 {
				t.Fatalf("due during writes at %d ms", ms)
			}
		}
		if got := tr.due(at(600), files.stat); len(got) != 1 {
			t.Fatalf("not due after writes stopped: %v", got)
		}
	})

	t.Run("an emitted file is not due again unless it changes", func(t *testing.T) {
		tr, files := newSettleTracker(settle), settleFiles{"/a": sig(1, 0)}
		tr.observe("/a", files["/a"], at(0))
		r := tr.due(at(100), files.stat)[0]
		tr.markEmitted(r.key, r.sig)
		tr.observe("/a", files["/a"], at(200))
		if got := tr.due(at(400), files.stat); len(got) != 0 {
			t.Fatalf("unchanged file due again: %v", got)
		}
		files["/a"] = sig(5, 3)
		tr.observe("/a", files["/a"], at(500))
		got := tr.due(at(600), files.stat)
		if len(got) != 1 || got[0].sig.size != 5 {
			t.Fatalf("changed file not due: %v", got)
		}
	})

	t.Run("a pending file back to its emitted signature is dropped", func(t *testing.T) {
		tr, files := newSettleTracker(settle), settleFiles{"/a": sig(1, 0)}
		tr.markEmitted("/a", sig(1, 0))
		tr.observe("/a", sig(9, 9), at(0)) // a passing change, then restored
		if got := tr.due(at(100), files.stat); len(got) != 0 {
			t.Fatalf("due = %v", got)
		}
		if len(tr.pending) != 0 {
			t.Fatalf("still pending: %v", tr.pending)
		}
	})

	t.Run("a file that disappears before settling is forgotten", func(t *testing.T) {
		tr, files := newSettleTracker(settle), settleFiles{"/a": sig(1, 0)}
		tr.observe("/a", files["/a"], at(0))
		delete(files, "/a")
		if got := tr.due(at(100), files.stat); len(got) != 0 {
			t.Fatalf("due = %v", got)
		}
		if len(tr.pending)+len(tr.emitted.files) != 0 {
			t.Fatal("state kept for a vanished file")
		}
	})

	t.Run("due keys come sorted", func(t *testing.T) {
		tr, files := newSettleTracker(settle), settleFiles{"/c": sig(1, 0), "/a": sig(1, 0), "/b": sig(1, 0)}
		for k, s := range files {
			tr.observe(k, s, at(0))
		}
		if got := settleKeys(tr.due(at(100), files.stat)); !sameKeys(got, []string{"/a", "/b", "/c"}) {
			t.Fatalf("due = %v", got)
		}
	})

	t.Run("forgetUnder drops a directory's keys only", func(t *testing.T) {
		tr := newSettleTracker(settle)
		tr.observe("/in/sub/a", sig(1, 0), at(0))
		tr.markEmitted("/in/sub/deep/b", sig(1, 0))
		tr.observe("/in/subway", sig(1, 0), at(0))
		tr.markEmitted("/in/c", sig(1, 0))
		tr.forgetUnder("/in/sub")
		if _, ok := tr.pending["/in/sub/a"]; ok {
			t.Error("pending key under the directory kept")
		}
		if tr.known("/in/sub/deep/b") {
			t.Error("emitted key under the directory kept")
		}
		if _, ok := tr.pending["/in/subway"]; !ok {
			t.Error("sibling with the same prefix dropped")
		}
		if !tr.known("/in/c") {
			t.Error("unrelated key dropped")
		}
	})

	t.Run("a sweep forgets emitted files it did not see unless their folder could not be read", func(t *testing.T) {
		tr := newSettleTracker(settle)
		for _, k := range []string{"/in/seen", "/in/gone", "/in/unlisted/a", "/in/unlisted/b", "/in/removed/c"} {
			tr.markEmitted(k, sig(1, 0))
		}
		tr.beginSweep()
		tr.listed("/in")
		tr.observe("/in/seen", sig(1, 0), at(0))
		var asked []string
		tr.endSweep(func(dir string) bool {
			asked = append(asked, dir)
			return dir == "/in/unlisted"
		})
		for k, want := range map[string]bool{
			"/in/seen": true, "/in/gone": false, "/in/unlisted/a": true, "/in/unlisted/b": true, "/in/removed/c": false,
		} {
			if tr.known(k) != want {
				t.Errorf("%s kept = %v, want %v", k, !want, want)
			}
		}
		slices.Sort(asked)
		if !slices.Equal(asked, []string{"/in/removed", "/in/unlisted"}) {
			t.Errorf("asked about folders %q: want each folder not listed, once", asked)
		}
		if len(tr.pending) != 0 {
			t.Errorf("an unchanged emitted file became pending: %v", tr.pending)
		}
	})
}

func TestFolderEmitsASlowlyWrittenFileOnceAfterItStopsGrowing(t *testing.T) {
	b := setupFolder(t, func(c *FolderConfig, _ *folderHooks) {
		c.Settle = 200 * time.Millisecond // checks every 50 ms
	})
	path := filepath.Join(b.root, "big.pdf")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := bytes.Repeat([]byte("x"), 1000)
	// Ten chunks, one per settle check: the file grows for longer than the
	// settle time, but never stays still for that long.
	for i := 0; i < 10; i++ {
		if _, err := f.Write(chunk); err != nil {
			t.Fatal(err)
		}
		folderDrain(b.ticked)
		select {
		case <-b.ticked:
		case c := <-b.out:
			t.Fatalf("emitted while still growing after %d chunks: %+v", i+1, c)
		case <-time.After(folderWait):
			t.Fatal("no settle check within the deadline")
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if c := b.expect(t, "big.pdf")[path]; c.Size != 10000 {
		t.Fatalf("emitted with size %d, want 10000", c.Size)
	}
	b.barrier(t)
}

func TestFolderRescanDoesNotReemitUnchangedFiles(t *testing.T) {
	b := setupFolder(t, nil)
	folderWrite(t, filepath.Join(b.root, "a.pdf"), "x")
	folderWrite(t, filepath.Join(b.root, "sub", "b.pdf"), "x")
	b.expect(t, "a.pdf", "sub/b.pdf")
	b.rescan(t)
	b.rescan(t)
	b.barrier(t)
}

func TestFolderReemitsAFileWhoseContentChanged(t *testing.T) {
	b := setupFolder(t, nil)
	path := filepath.Join(b.root, "a.pdf")
	folderWrite(t, path, "first")
	b.expect(t, "a.pdf")

	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(" and more"); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if c := b.expect(t, "a.pdf")[path]; c.Size != int64(len("first and more")) {
		t.Fatalf("re-emitted with size %d", c.Size)
	}
	b.rescan(t)
	b.barrier(t)
}

func TestFolderForgetsAFileThatDisappearsBeforeSettling(t *testing.T) {
	b := setupFolder(t, func(c *FolderConfig, _ *folderHooks) {
		c.Settle = 500 * time.Millisecond // far longer than create-then-remove
	})
	path := filepath.Join(b.root, "brief.pdf")
	folderWrite(t, path, "x")
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	b.barrier(t)
}

func TestFolderEmitsZeroByteFiles(t *testing.T) {
	b := setupFolder(t, nil)
	folderWrite(t, filepath.Join(b.root, "empty.pdf"), "")
	if c := b.expect(t, "empty.pdf")[filepath.Join(b.root, "empty.pdf")]; c.Size != 0 {
		t.Fatalf("size = %d", c.Size)
	}
}

// A file that cannot be looked at for now (descriptor pressure: a
// temporary error) stays pending as it was, and is handed on once it can be
// looked at again: it is not forgotten until the next full listing.
func TestAKeyThatCannotBeLookedAtForNowStaysPending(t *testing.T) {
	t0 := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	tr := newSettleTracker(100 * time.Millisecond)
	sig := settleSig{size: 1, mtime: t0}
	tr.observe("/a", sig, at(0))
	later := func(string) (settleSig, statResult) { return settleSig{}, statLater }
	if got := tr.due(at(100), later); len(got) != 0 {
		t.Fatalf("due while the file cannot be looked at: %v", settleKeys(got))
	}
	files := settleFiles{"/a": sig}
	if got := settleKeys(tr.due(at(101), files.stat)); !sameKeys(got, []string{"/a"}) {
		t.Fatalf("due once it can be looked at again: %v, want /a", got)
	}
}
