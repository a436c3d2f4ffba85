package output

// Opening directories and files below an output root without following
// symbolic links. The output directory is shared with other users (an ERP
// import, a spreadsheet user), and the daemon may be able to write files
// they cannot: a symlink planted as tomorrow's CSV file or day folder must
// not turn an append or a rename into a write elsewhere. Everything below
// the root is therefore opened component by component with openat(2) and
// O_NOFOLLOW, relative to the descriptor of the directory above, so the
// check and the use are the same system call and cannot race.

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// ErrUnsafePath is wrapped by the errors of AppendRecords, WriteFileAtomic
// and their Layout forms when a directory below the root, or the file
// itself, is a symbolic link, or when the CSV file to append to is not a
// regular file (a FIFO, a device, a directory…). Nothing is written; the
// file or link is left as it is for an operator to look at.
var ErrUnsafePath = errors.New("refusing a symbolic link or non-regular file in the output directory")

// splitBelow returns path relative to root, checking that it names a file
// strictly below root: no "..", not absolute, not root itself.
func splitBelow(root, path string) (string, error) {
	rel, err := filepath.Rel(root, path)
	if err != nil {
		return "", fmt.Errorf("%s is not under the output directory %s: %w", path, root, err)
	}
	if !filepath.IsLocal(rel) || rel == "." {
		return "", fmt.Errorf("%s is not a file under the output directory %s", path, root)
	}
	return rel, nil
}

// openDirBelow opens the directory root/rel for use with openat, creating
// missing directories (mode DirPerm) on the way like mkdir -p. root itself
// is trusted (it is the configured output directory, possibly a symlink
// an administrator made) and is created with os.MkdirAll if missing. Every
// component of rel is opened with O_NOFOLLOW: a symbolic link there gives an
// error wrapping ErrUnsafePath. A directory created here is made durable by
// fsyncing its parent.
func openDirBelow(root, rel string) (*os.File, error) {
	if root == "" {
		root = "."
	}
	fd, err := openat(unix.AT_FDCWD, root, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if errors.Is(err, unix.ENOENT) {
		if err := os.MkdirAll(root, DirPerm); err != nil {
			return nil, err
		}
		fd, err = openat(unix.AT_FDCWD, root, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	}
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: root, Err: err}
	}
	path := root
	for c := range strings.SplitSeq(filepath.ToSlash(filepath.Clean(rel)), "/") {
		if c == "." || c == "" {
			continue
		}
		path = filepath.Join(path, c)
		next, err := openSubdir(fd, c, path)
		unix.Close(fd)
		if err != nil {
			return nil, err
		}
		fd = next
	}
	return os.NewFile(uintptr(fd), path), nil
}

// openSubdir opens the directory name in the directory dirfd without
// following a symlink, creating it if it is missing. path names it in errors.
func openSubdir(dirfd int, name, path string) (int, error) {
	const flags = unix.O_RDONLY | unix.O_DIRECTORY | unix.O_NOFOLLOW | unix.O_CLOEXEC
	fd, err := openat(dirfd, name, flags, 0)
	if errors.Is(err, unix.ENOENT) {
		if err := unix.Mkdirat(dirfd, name, DirPerm); err != nil && !errors.Is(err, unix.EEXIST) {
			return -1, &fs.PathError{Op: "mkdir", Path: path, Err: err}
		}
		if err := fsyncFd(dirfd); err != nil {
			return -1, fmt.Errorf("fsync dir %s: %w", filepath.Dir(path), err)
		}
		fd, err = openat(dirfd, name, flags, 0)
	}
	if err != nil {
		if mayBeSymlink(err) && isSymlinkAt(dirfd, name) {
			return -1, fmt.Errorf("directory %s is a symbolic link: %w", path, ErrUnsafePath)
		}
		return -1, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	return fd, nil
}

// openFileIn opens name in the directory dir with flags plus O_NOFOLLOW and
// O_CLOEXEC. A symbolic link at name gives an error wrapping ErrUnsafePath;
// the other errors are *fs.PathError naming the file.
func openFileIn(dir *os.File, name string, flags int, perm uint32) (*os.File, error) {
	path := filepath.Join(dir.Name(), name)
	dirfd := int(dir.Fd())
	fd, err := openat(dirfd, name, flags|unix.O_NOFOLLOW|unix.O_CLOEXEC, perm)
	if err != nil {
		if mayBeSymlink(err) && isSymlinkAt(dirfd, name) {
			return nil, fmt.Errorf("%s is a symbolic link: %w", path, ErrUnsafePath)
		}
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	return os.NewFile(uintptr(fd), path), nil
}

// mayBeSymlink reports whether err is what openat gives for a symbolic
// link opened with O_NOFOLLOW: ELOOP (Linux, macOS), EMLINK (FreeBSD), or
// ENOTDIR with O_DIRECTORY.
func mayBeSymlink(err error) bool {
	return errors.Is(err, unix.ELOOP) || errors.Is(err, unix.EMLINK) || errors.Is(err, unix.ENOTDIR)
}

// isSymlinkAt reports whether name in dirfd is a symbolic link (not
// following it).
func isSymlinkAt(dirfd int, name string) bool {
	var st unix.Stat_t
	err := ignoringEINTR(func() error { return unix.Fstatat(dirfd, name, &st, unix.AT_SYMLINK_NOFOLLOW) })
	return err == nil && st.Mode&unix.S_IFMT == unix.S_IFLNK
}

// openat is unix.Openat retried on EINTR.
func openat(dirfd int, name string, flags int, perm uint32) (int, error) {
	var fd int
	err := ignoringEINTR(func() error {
		var err error
		fd, err = unix.Openat(dirfd, name, flags, perm)
		return err
	})
	return fd, err
}

// fsyncFd fsyncs a directory descriptor; file systems that cannot fsync a
// directory (EINVAL) are tolerated.
func fsyncFd(fd int) error {
	syncs.Add(1)
	err := ignoringEINTR(func() error { return unix.Fsync(fd) })
	if err != nil && !errors.Is(err, unix.EINVAL) {
		return err
	}
	return nil
}

// ignoringEINTR calls fn until it returns something else than EINTR (a
// signal can interrupt a system call on network and FUSE file systems).
func ignoringEINTR(fn func() error) error {
	for {
		if err := fn(); !errors.Is(err, unix.EINTR) {
			return err
		}
	}
}
