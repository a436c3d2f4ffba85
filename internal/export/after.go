package export

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/docuparse/docuparse-ingest/internal/safedir"
	"github.com/docuparse/docuparse-ingest/internal/store"
	"github.com/docuparse/docuparse-ingest/internal/vocab"
)

// errChangedSince: the path holds another file than the one taken in.
var errChangedSince = errors.New("file changed since it was taken in")

// errPutAside: a file that was never taken in, moved or quarantined by an
// after-action that lost a race with whoever saved it, could not go back
// under its own name (taken again meanwhile) and went beside it.
var errPutAside = errors.New("put back under another name")

// applyAfter deletes or moves a document's input file once it is exported.
//
// Everything happens through the pins of the source's folder (or, for a
// file outside it, of the file's own directory) and of move_to (see
// internal/safedir): each is re-verified first, and no symbolic link is
// followed beneath them — not in the source, not in the folders created
// under move_to. A folder swapped for a symlink or another folder after the
// file was taken in cannot make the daemon delete or move a file elsewhere,
// nor move one into the daemon's outputs.
//
// Only the file this document was taken in as is touched (see takenIn);
// another file saved under the same name belongs to another document. As
// a file can be saved over the name at any moment, the check is made
// again after the act, on what the act took: the file is first renamed
// (into move_to, or for a delete to its quarantine name beside it), then
// the renamed entry is checked to be the inode that was checked before,
// and only then is a quarantined file unlinked. An entry that is not is
// renamed back (RENAME_NOREPLACE; beside its name if that is taken again),
// so a file never taken in is never lost or left elsewhere.
func applyAfter(pins *safedir.Set, a SourceAfter, d store.Document) error {
	if a.Action != vocab.AfterDelete && a.Action != vocab.AfterMove {
		return nil
	}
	root, release, err := sourceDir(pins, a.Root, d.Path)
	if err != nil {
		return err
	}
	defer release()
	src, err := root.OpenDir(filepath.Dir(d.Path))
	if err != nil {
		return err
	}
	defer src.Close()
	dir, base := int(src.Fd()), filepath.Base(d.Path)
	if err := resolveQuarantine(dir, base, d, a.Action == vocab.AfterDelete); err != nil {
		return err
	}
	pre, err := statAt(dir, base)
	if err != nil {
		return err
	}
	if ok, err := takenIn(dir, base, pre, d); err != nil || !ok {
		return cmp.Or(err, errChangedSince)
	}
	step("checked")
	if a.Action == vocab.AfterDelete {
		return deleteChecked(dir, base, safedir.QuarantineName(d.ID), pre)
	}
	dst, err := pins.PinCreate(a.MoveTo, 0o755)
	if err != nil {
		return err
	}
	rel, err := root.Rel(d.Path)
	if err != nil {
		return err
	}
	to, err := dst.MkdirAll(filepath.Join(a.MoveTo, filepath.Dir(rel)), 0o755)
	if err != nil {
		return err
	}
	defer to.Close()
	return moveChecked(dir, base, int(to.Fd()), pre)
}

// moveChecked renames base (in the folder dir) into the folder to under
// its own name, or "name (2).ext", … when that is taken (an archived file
// is never replaced), then checks that what it moved is pre, the file
// checked before; if not, it renames it back.
func moveChecked(dir int, base string, to int, pre fileStat) error {
	name, err := renameFree(dir, base, to, base)
	if err != nil {
		return err
	}
	step("acted")
	if post, err := statAt(to, name); err != nil || !post.same(pre) {
		return putBack(to, name, dir, base)
	}
	return nil
}

// deleteChecked renames base (in the folder dir) to its quarantine name q
// beside it, checks that what it renamed is pre, the file checked before,
// and unlinks it; if not, it renames it back. A crash between the steps
// leaves the file under q, resolved by the same document's after-action at
// the next start (resolveQuarantine); intake never takes q in.
func deleteChecked(dir int, base, q string, pre fileStat) error {
	if err := unix.Renameat2(dir, base, dir, q, unix.RENAME_NOREPLACE); err != nil {
		return renameError(base, q, err)
	}
	step("acted")
	if post, err := statAt(dir, q); err != nil || !post.same(pre) {
		return putBack(dir, q, dir, base)
	}
	return unlinkQuarantined(dir, base, q)
}

// unlinkQuarantined deletes q, the quarantine name of base in the folder
// dir: the last step of a delete. Already gone is done.
func unlinkQuarantined(dir int, base, q string) error {
	if err := unix.Unlinkat(dir, q, 0); err != nil && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("delete %s (quarantined as %s): %w", base, q, err)
	}
	return nil
}

// resolveQuarantine settles a quarantine name left beside base by a delete
// killed midway: the file taken in is deleted (or, when the action is no
// longer delete, given its name back to be acted on); any other file is
// put back under its own name, since it was never taken in.
func resolveQuarantine(dir int, base string, d store.Document, deleting bool) error {
	q := safedir.QuarantineName(d.ID)
	st, err := statAt(dir, q)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	ours, err := takenIn(dir, q, st, d)
	if err != nil {
		return err
	}
	if ours && deleting {
		return unlinkQuarantined(dir, base, q)
	}
	err = putBack(dir, q, dir, base)
	if ours || !errors.Is(err, errPutAside) {
		return nil // back under its name: checked again as any file there
	}
	return err
}

// putBack renames the entry name (in the folder from) back to base in the
// folder dir, never over another file: beside it under a free name when
// base was taken meanwhile. It returns errChangedSince, wrapped with
// errPutAside and the name when the file went beside its own name.
func putBack(from int, name string, dir int, base string) error {
	got, err := renameFree(from, name, dir, base)
	switch {
	case err != nil:
		return fmt.Errorf("a file never taken in was taken as %s and could not be put back as %s: %w", name, base, err)
	case got != base:
		return fmt.Errorf("%w; %w: the file found at %s was never taken in, and its name was taken again: it is now %s beside it",
			errChangedSince, errPutAside, base, got)
	}
	return errChangedSince
}

// renameFree renames name (in the folder from) into the folder to as want,
// or "want (2).ext", "want (3).ext", … when that is taken, with
// renameat2(RENAME_NOREPLACE) between the two open descriptors, so nothing
// is replaced and no symlink is followed out of either. It returns the
// name used.
func renameFree(from int, name string, to int, want string) (string, error) {
	for i := 1; i <= maxNumbered; i++ {
		got := numbered(want, i)
		err := unix.Renameat2(from, name, to, got, unix.RENAME_NOREPLACE)
		if !errors.Is(err, unix.EEXIST) {
			return got, renameError(name, got, err)
		}
	}
	return "", fmt.Errorf("move %s: no free name for %s", name, want)
}

// maxNumbered is how many names numbered tries before it gives up.
const maxNumbered = 1000

// numbered returns the i-th name an archived file may take when name is
// taken: name itself, then "stem (2).ext", "stem (3).ext", …
func numbered(name string, i int) string {
	if i <= 1 {
		return name
	}
	ext := filepath.Ext(name)
	return fmt.Sprintf("%s (%d)%s", strings.TrimSuffix(name, ext), i, ext)
}

// renameError turns a renameat2 error into the error applyAfter returns
// (nil for nil).
func renameError(from, to string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, unix.ENOENT):
		return os.ErrNotExist
	case errors.Is(err, unix.EXDEV):
		return fmt.Errorf("move_to is on another file system than the source; pick a folder on the same one (moving %s)", from)
	}
	return fmt.Errorf("rename %s to %s: %w", from, to, err)
}

// sourceDir returns the pinned folder the file at path is acted on in: the
// source's folder, or for a file outside it (a source no longer
// configured) a pin of the file's own directory taken now, with no
// symbolic link anywhere on its path (safedir.OpenExact).
func sourceDir(pins *safedir.Set, root, path string) (*safedir.Dir, func(), error) {
	if r, err := filepath.Rel(root, path); root != "" && err == nil && filepath.IsLocal(r) {
		d, err := pins.Pin(root)
		return d, func() {}, err
	}
	d, err := safedir.OpenExact(filepath.Dir(path), nil)
	if err != nil {
		return nil, nil, err
	}
	return d, func() { d.Close() }, nil
}

// step calls afterHook, if a test set one.
func step(name string) {
	if afterHook != nil {
		afterHook(name)
	}
}

// afterHook, when set (tests only), is called between the steps of an
// after-action: "checked" after the identity check, "acted" after the
// rename. Nil in production.
var afterHook func(step string)

// after applies the source's after-action to an input file whose content
// reached a result (see reachedResult); a rejected file stays, or goes to
// MoveRejectedTo under move. It runs before the exported mark, so a crash
// repeats it; a file already moved or deleted (or vanished) is fine, and a
// delete killed midway is resolved then (see applyAfter).
func (e *Exporter) after(ctx context.Context, d store.Document) {
	e.mu.Lock()
	a, ok := e.actions[d.Source]
	wait := e.pending[d.ID].wait // a retry's last wait (see retryAfter)
	delete(e.pending, d.ID)
	e.mu.Unlock()
	if !ok || a.Action == vocab.AfterKeep || a.Action == "" {
		return
	}
	// Answered with another file's API id: never extracted under one of
	// its own, and `retry` needs the file where it is.
	if d.ErrorCode == vocab.CodeDocumentIDConflict {
		return
	}
	// A document that was retried no longer owns its file: the retry
	// needs it, and applies the after-action when it is exported.
	if newer, err := e.cfg.Store.RetriedAs(ctx, d.ID); err != nil || newer != 0 {
		if err != nil {
			e.cfg.Logger.Warn("after-export action skipped", "path", d.Path, "err", err)
		}
		return
	}
	if !reachedResult(d) {
		// Never read, or refused: it may be the only copy of an invoice.
		if a.Action != vocab.AfterMove || a.MoveRejectedTo == "" {
			return
		}
		a.MoveTo = a.MoveRejectedTo
	}
	err := e.act(ctx, a, d)
	switch {
	case err == nil, errors.Is(err, fs.ErrNotExist):
	case errors.Is(err, errPutAside):
		e.cfg.Logger.Warn("a file saved over the input file while it was acted on was put back beside its name",
			"action", a.Action, "path", d.Path, "err", err)
	case errors.Is(err, errChangedSince):
		e.cfg.Logger.Info("input file changed since it was taken in; left in place", "action", a.Action, "path", d.Path)
	case a.Bucket != nil && temporary(err):
		e.retryAfter(d, wait)
		e.cfg.Logger.Warn("after-export action failed for a temporary reason; tried again with backoff while the daemon runs",
			"action", a.Action, "path", d.Path, "err", err)
	default:
		e.cfg.Logger.Warn("after-export action failed; the input file stays", "action", a.Action, "path", d.Path, "err", err)
	}
}

// reachedResult reports whether d's content reached a result: extracted
// (completed) or tried and failed by the API, or a duplicate of such a
// document. A rejected file — unreadable, too large, of a wrong type, or
// refused by the API — and a duplicate of one did not: the after-action
// leaves it where it is (or moves it to MoveRejectedTo).
func reachedResult(d store.Document) bool {
	switch d.State {
	case store.StateCompleted, store.StateFailed:
		return true
	case store.StateDuplicate:
		return d.OriginalOutcome != store.StateRejected
	}
	return false
}
