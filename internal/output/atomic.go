package output

import (
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

// FilePerm and DirPerm are the modes of the files and directories the
// daemon creates in its output directory: the most they get, since every
// file is created by open(2) and every directory by mkdir(2) with this
// mode, so the process's umask takes bits away (the unit's UMask=0027
// keeps them as they are). Outputs are for the service's group (an ERP
// import, a spreadsheet user), never for every user of the host, and no
// one but the service writes them. Nothing chmods them wider afterwards.
const (
	FilePerm = 0o640
	DirPerm  = 0o750
)

// WriteFileAtomic writes data to path so that a reader, or the file system
// after a crash, sees either the old file or the complete new one, never a
// part: it creates the parent directories (mkdir -p), writes a temporary
// file in the same directory (named ".<base>.tmp-*", so watchers that skip
// dot files ignore it) with mode perm less the process's umask (perm is the
// most the file gets: it is never chmodded wider), fsyncs it, renames it
// over path and fsyncs the directory. On error the temporary file is
// removed.
//
// The temporary file is created with O_EXCL|O_NOFOLLOW and the rename
// replaces whatever is at path (a symbolic link there is replaced, never
// followed). Directories on the way to path are trusted here; for a file
// under the output directory use Layout.WriteFileAtomic, which also refuses
// a symlinked directory below the output root.
func WriteFileAtomic(path string, data []byte, perm os.FileMode) error {
	dir, base := filepath.Split(path)
	if base == "" {
		return fmt.Errorf("write %s: no file name", path)
	}
	return writeFileAtomic(dir, base, path, data, perm)
}

// WriteFileAtomic is WriteFileAtomic for a file under l.Root (a path from
// ResultPath or ReportPath, say), with one more guarantee: every directory
// between l.Root and the file is opened without following symbolic links
// (a symlink there — a planted day folder, say — gives an error wrapping
// ErrUnsafePath, and nothing is written), so a link planted in the output
// directory cannot redirect the write. l.Root itself may be a symlink. A
// path outside l.Root is an error.
func (l Layout) WriteFileAtomic(path string, data []byte, perm os.FileMode) error {
	rel, err := splitBelow(l.Root, path)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return writeFileAtomic(l.Root, rel, path, data, perm)
}

// writeFileAtomic does WriteFileAtomic for the file rel below root,
// trusting root and nothing below it; path names the file in errors.
func writeFileAtomic(root, rel, path string, data []byte, perm os.FileMode) (err error) {
	dir, err := openDirBelow(root, filepath.Dir(rel))
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer dir.Close()
	base := filepath.Base(rel)
	tmp, tmpBase, err := createTemp(dir, "."+base+tempMarker, perm)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmpName := tmp.Name()
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = unix.Unlinkat(int(dir.Fd()), tmpBase, 0)
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		return opErr("write", path, err)
	}
	if err := fsync(tmp); err != nil {
		return fmt.Errorf("fsync %s: %w", tmpName, err)
	}
	if err := tmp.Close(); err != nil {
		return opErr("write", path, err)
	}
	dirfd := int(dir.Fd())
	if err := ignoringEINTR(func() error { return unix.Renameat(dirfd, tmpBase, dirfd, base) }); err != nil {
		return fmt.Errorf("rename %s to %s: %w", tmpName, path, err)
	}
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// createTemp creates a new file named prefix followed by a random number in
// dir, with O_EXCL and O_NOFOLLOW and mode perm less the umask. It returns
// the file and its base name.
func createTemp(dir *os.File, prefix string, perm os.FileMode) (*os.File, string, error) {
	for range 100 {
		name := prefix + strconv.FormatUint(uint64(rand.Uint32()), 10)
		f, err := openFileIn(dir, name, unix.O_RDWR|unix.O_CREAT|unix.O_EXCL, uint32(perm.Perm()))
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		return f, name, err
	}
	return nil, "", fmt.Errorf("create a temporary file in %s: %w", dir.Name(), fs.ErrExist)
}

// opErr reports a failed operation on the file at path once: the
// *fs.PathError the os package returns names the file (or the temporary it
// is written through) and the operation again, so only its cause is kept
// ("write out/x.json: no space left on device").
func opErr(op, path string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return fmt.Errorf("%s %s: %w", op, path, err)
}

// syncDir fsyncs an open directory so that a file created or renamed in it
// survives a crash. File systems that cannot fsync a directory (EINVAL) are
// tolerated.
func syncDir(d *os.File) error {
	if err := fsync(d); err != nil && !errors.Is(err, syscall.EINVAL) {
		return fmt.Errorf("fsync dir %s: %w", d.Name(), err)
	}
	return nil
}
