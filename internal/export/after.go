package export

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/docuparse/docuparse-ingest/internal/store"
)

// errChangedSince: the path holds another file than the one taken in.
var errChangedSince = errors.New("file changed since it was taken in")

// applyAfter deletes or moves a document's input file once it is exported.
//
// Everything happens through an os.Root on the source's folder (or, for a
// file outside it, on the file's own directory): a folder swapped for a
// symlink after the file was taken in cannot make the daemon delete or
// move a file elsewhere. Only the file this document was taken in as (same
// size and modification time) is touched; a newer file saved under the same
// name belongs to another document.
func applyAfter(a SourceAfter, d store.Document) error {
	rootDir, rel := a.Root, ""
	if r, err := filepath.Rel(a.Root, d.Path); err == nil && filepath.IsLocal(r) {
		rel = r
	} else {
		rootDir, rel = filepath.Dir(d.Path), filepath.Base(d.Path)
	}
	root, err := os.OpenRoot(rootDir)
	if err != nil {
		return err
	}
	defer root.Close()
	fi, err := root.Lstat(rel)
	if err != nil {
		return err
	}
	if fi.Mode().IsRegular() && (fi.Size() != d.SizeBytes || !fi.ModTime().Truncate(time.Microsecond).Equal(d.ModTime.Truncate(time.Microsecond))) {
		return errChangedSince
	}
	switch a.Action {
	case AfterDelete:
		return root.Remove(rel) // a symlink itself, never its target
	case AfterMove:
		return moveOut(root, rel, filepath.Join(a.MoveTo, filepath.Dir(rel)))
	}
	return nil
}

// moveOut moves rel (within root) into the folder dstDir under its own
// name, or "name (2).ext", "name (3).ext", … when that name is taken: an
// archived file is never replaced. The source folder is opened through
// root and the last component renamed with renameat2(RENAME_NOREPLACE), so
// nothing follows a symlink out of the source folder.
func moveOut(root *os.Root, rel, dstDir string) error {
	src, err := root.Open(filepath.Dir(rel))
	if err != nil {
		return err
	}
	defer src.Close()
	if err := os.MkdirAll(dstDir, 0o755); err != nil {
		return err
	}
	dst, err := os.Open(dstDir)
	if err != nil {
		return err
	}
	defer dst.Close()
	base := filepath.Base(rel)
	ext := filepath.Ext(base)
	stem := strings.TrimSuffix(base, ext)
	for i := 1; i <= 1000; i++ {
		name := base
		if i > 1 {
			name = fmt.Sprintf("%s (%d)%s", stem, i, ext)
		}
		err := unix.Renameat2(int(src.Fd()), base, int(dst.Fd()), name, unix.RENAME_NOREPLACE)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, unix.EEXIST):
			continue
		case errors.Is(err, unix.ENOENT):
			return os.ErrNotExist
		case errors.Is(err, unix.EXDEV):
			return fmt.Errorf("move_to %s is on another file system than the source; pick a folder on the same one", dstDir)
		default:
			return fmt.Errorf("move %s to %s: %w", base, dstDir, err)
		}
	}
	return fmt.Errorf("move %s: no free name in %s", base, dstDir)
}
