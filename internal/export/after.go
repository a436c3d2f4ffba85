package export

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/docuparse/docuparse-ingest/internal/safedir"
	"github.com/docuparse/docuparse-ingest/internal/store"
)

// errChangedSince: the path holds another file than the one taken in.
var errChangedSince = errors.New("file changed since it was taken in")

// applyAfter deletes or moves a document's input file once it is exported.
//
// Everything happens through the pins of the source's folder (or, for a
// file outside it, of the file's own directory) and of move_to (see
// internal/safedir): each is re-verified first, and no symbolic link is
// followed beneath them — not in the source, not in the folders created
// under move_to. A folder swapped for a symlink or another folder after the
// file was taken in cannot make the daemon delete or move a file elsewhere,
// nor move one into the daemon's outputs. Only the file this document was
// taken in as (same size, modification time and, when recorded, device,
// inode and change time) is touched; another file saved under the same
// name belongs to another document.
func applyAfter(pins *safedir.Set, a SourceAfter, d store.Document) error {
	root, release, err := sourceDir(pins, a.Root, d.Path)
	if err != nil {
		return err
	}
	defer release()
	fi, err := root.Lstat(d.Path)
	if err != nil {
		return err
	}
	if fi.Mode().IsRegular() && changedSince(fi, d) {
		return errChangedSince
	}
	switch a.Action {
	case AfterDelete:
		return root.Remove(d.Path) // a symlink itself, never its target
	case AfterMove:
		dst, err := pins.PinCreate(a.MoveTo, 0o755)
		if err != nil {
			return err
		}
		rel, err := root.Rel(d.Path)
		if err != nil {
			return err
		}
		return moveOut(root, d.Path, dst, filepath.Join(a.MoveTo, filepath.Dir(rel)))
	}
	return nil
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

// changedSince reports whether fi is not the file d was taken in as.
func changedSince(fi os.FileInfo, d store.Document) bool {
	dev, ino, ctime := safedir.ID(fi)
	return fi.Size() != d.SizeBytes ||
		!fi.ModTime().Truncate(time.Microsecond).Equal(d.ModTime.Truncate(time.Microsecond)) ||
		!d.FileID.Same(store.FileID{Dev: dev, Inode: ino, ChangeTime: ctime})
}

// moveOut moves the file at path (within root) into the folder dstDir
// (within dst, created component by component if missing, following no
// link) under its own name, or "name (2).ext", "name (3).ext", … when that
// name is taken: an archived file is never replaced. The last component is
// renamed with renameat2(RENAME_NOREPLACE) between the two folders' open
// descriptors, so nothing follows a symlink out of either.
func moveOut(root *safedir.Dir, path string, dst *safedir.Dir, dstDir string) error {
	src, err := root.OpenDir(filepath.Dir(path))
	if err != nil {
		return err
	}
	defer src.Close()
	to, err := dst.MkdirAll(dstDir, 0o755)
	if err != nil {
		return err
	}
	defer to.Close()
	base := filepath.Base(path)
	ext := filepath.Ext(base)
	stem := strings.TrimSuffix(base, ext)
	for i := 1; i <= 1000; i++ {
		name := base
		if i > 1 {
			name = fmt.Sprintf("%s (%d)%s", stem, i, ext)
		}
		err := unix.Renameat2(int(src.Fd()), base, int(to.Fd()), name, unix.RENAME_NOREPLACE)
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
