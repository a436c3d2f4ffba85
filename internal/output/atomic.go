package output

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// dirPerm is the mode of directories this package creates (before umask):
// the output is meant to be read by other users (an ERP import, a
// spreadsheet).
const dirPerm = 0o755

// WriteFileAtomic writes data to path so that a reader, or the file system
// after a crash, sees either the old file or the complete new one, never a
// part: it creates the parent directories (mkdir -p), writes a temporary
// file in the same directory (named ".<base>.tmp-*", so watchers that skip
// dot files ignore it), fsyncs it, sets perm, renames it over path and
// fsyncs the directory. On error the temporary file is removed.
func WriteFileAtomic(path string, data []byte, perm os.FileMode) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	if base == "" {
		return fmt.Errorf("write %s: no file name", path)
	}
	if err := os.MkdirAll(dir, dirPerm); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmpName := tmp.Name()
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmpName)
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", tmpName, err)
	}
	if err := tmp.Chmod(perm); err != nil {
		return fmt.Errorf("chmod %s: %w", tmpName, err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("fsync %s: %w", tmpName, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("close %s: %w", tmpName, err)
	}
	if err := os.Rename(tmpName, path); err != nil {
		return fmt.Errorf("rename %s to %s: %w", tmpName, path, err)
	}
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// syncDir fsyncs a directory so that a file created or renamed in it
// survives a crash. File systems that cannot fsync a directory (EINVAL) are
// tolerated. The daemon targets Linux; elsewhere this is best effort.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open dir %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) {
		return fmt.Errorf("fsync dir %s: %w", dir, err)
	}
	return nil
}
