package bucket

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"gocloud.dev/blob"

	"github.com/docuparse/docuparse-ingest/internal/safedir"
)

// A file:// bucket is a local directory that others may write to. gocloud's
// fileblob follows symbolic links when it reads, and lists a link with the
// link's own size and time, so a link dropped there could have the daemon
// read (and upload) a file from anywhere the service can read. Here its
// objects are read as a folder source reads files: through
// internal/safedir, beneath the bucket's directory, following no link,
// and only a regular file with a single link is read; the listing leaves
// out everything else.

// fileDir returns why a file:// bucket's directory cannot be listed, or
// nil: fileblob skips what it cannot read, so a directory removed would
// list as empty, without an error, for ever.
func (l Location) fileDir() error {
	fi, err := os.Stat(l.Bucket)
	switch {
	case err != nil:
		return fmt.Errorf("%w: %v", errNoDir, err)
	case !fi.IsDir():
		return fmt.Errorf("%w: %s is not a directory", errNoDir, l.Bucket)
	}
	return nil
}

// errNoDir: a file:// bucket's directory is not there (IsNotFound is true
// for it). Only a listing says so: a read in a directory gone is held and
// tried again, as one in a cloud that cannot be reached.
var errNoDir = errors.New("bucket not found (its directory is missing)")

// fileListed reports whether a listed entry of a file:// bucket is to be
// listed: a regular file (not a link, a directory or a device), looked at
// without following a link, that is the very file its key names.
// fileblob unescapes names ("__0x2e__" is ".", "__0x2f__" is "/"), so a
// name holding such an escape is listed under a key naming another path,
// perhaps outside the prefix ("in/__0x2e____0x2e__/x.pdf" is
// "in/../x.pdf"), which the daemon would read instead: such an entry,
// and a key with an empty, "." or ".." part, is left out.
func (l Location) fileListed(o *blob.ListObject) bool {
	var listed os.FileInfo
	if !o.As(&listed) || hasDotSegment(o.Key) {
		return false
	}
	fi, err := os.Lstat(filepath.Join(l.Bucket, filepath.FromSlash(o.Key)))
	return err == nil && fi.Mode().IsRegular() && os.SameFile(fi, listed)
}

// openFile opens the object o of a file:// bucket for reading: beneath
// the bucket's directory with no link followed, a regular file with one
// link, of o's size and modification time. A missing file gives an
// error for which IsNotFound is true; one with other hard links, a
// HardlinkedError; anything else that is not o, ErrChanged.
func (l Location) openFile(o Object) (io.ReadCloser, error) {
	where := l.PathOf(o.Key)
	dir, err := safedir.OpenExact(l.Bucket, nil)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", where, err)
	}
	defer dir.Close()
	f, err := dir.OpenFile(filepath.Join(l.Bucket, filepath.FromSlash(o.Key)), os.O_RDONLY|syscall.O_NONBLOCK)
	switch {
	case os.IsNotExist(err):
		return nil, fmt.Errorf("read %s: %w", where, errGone)
	case err != nil:
		// A link on the way (ELOOP, EXDEV from RESOLVE_BENEATH) is not
		// the listed object.
		return nil, fmt.Errorf("read %s: %w (%v)", where, ErrChanged, err)
	}
	fi, err := f.Stat()
	switch {
	case err != nil:
	case !fi.Mode().IsRegular() || fi.Size() != o.Size ||
		!fi.ModTime().Truncate(time.Microsecond).Equal(o.ModTime.Truncate(time.Microsecond)):
		err = ErrChanged
	case links(fi) != 1:
		err = HardlinkedError{Key: o.Key, Links: links(fi)}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("read %s: %w", where, err)
	}
	return f, nil
}

// HardlinkedError: a file:// bucket's file has other names besides its
// key's, one of which may be a file only the service may read; it is
// never read, and is refused as a folder's linked file is.
type HardlinkedError struct {
	Key   string
	Links uint64
}

func (e HardlinkedError) Error() string { return fmt.Sprintf("%s has %d hard links", e.Key, e.Links) }

// links returns a file's number of hard links (1 where unknown).
func links(fi fs.FileInfo) uint64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Nlink)
	}
	return 1
}
