package export

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"time"

	"golang.org/x/sys/unix"

	"github.com/docuparse/docuparse-ingest/internal/store"
)

// fileStat is what an after-action compares of a directory entry, taken
// without following a symbolic link.
type fileStat struct {
	mode         uint32 // S_IFMT bits
	dev, ino     uint64
	size         int64
	mtime, ctime time.Time
}

// statAt returns what the entry name in the folder dir is (a symbolic link
// as itself); os.ErrNotExist when there is none.
func statAt(dir int, name string) (fileStat, error) {
	var st unix.Stat_t
	if err := unix.Fstatat(dir, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		if errors.Is(err, unix.ENOENT) {
			return fileStat{}, os.ErrNotExist
		}
		return fileStat{}, &os.PathError{Op: "stat", Path: name, Err: err}
	}
	return statOf(&st), nil
}

func statOf(st *unix.Stat_t) fileStat {
	return fileStat{mode: st.Mode & unix.S_IFMT, dev: st.Dev, ino: st.Ino, size: st.Size,
		mtime: time.Unix(st.Mtim.Sec, st.Mtim.Nsec), ctime: time.Unix(st.Ctim.Sec, st.Ctim.Nsec)}
}

// same reports whether s and o are the same inode with the same size and
// modification time: the entry an act took is the one checked before it.
// The change time is not compared: the rename itself moves it.
func (s fileStat) same(o fileStat) bool {
	return s.mode == o.mode && s.dev == o.dev && s.ino == o.ino && s.size == o.size && s.mtime.Equal(o.mtime)
}

// takenIn reports whether the entry name (in the folder dir), whose stat
// is st, is the file d was taken in as: the same size and modification
// time (at the store's microsecond precision) and, when recorded, device,
// inode and change time. When only the change time differs (a chmod, an
// xattr or ACL tool, Samba's DOS attributes, a rename), the file is read
// through the pinned folder and compared with d's SHA-256: the same bytes
// are the same file. A symbolic link (a rejected row's, recorded as
// itself) is taken as it is; any other non-regular entry is not the file.
func takenIn(dir int, name string, st fileStat, d store.Document) (bool, error) {
	switch st.mode {
	case unix.S_IFLNK:
		return true, nil
	case unix.S_IFREG:
	default:
		return false, nil
	}
	if st.size != d.SizeBytes || !st.mtime.Truncate(time.Microsecond).Equal(d.ModTime.Truncate(time.Microsecond)) {
		return false, nil
	}
	id := store.FileID{Dev: st.dev, Inode: st.ino, ChangeTime: st.ctime}
	if d.FileID.Same(id) {
		return true, nil
	}
	if d.FileID.Dev != st.dev || d.FileID.Inode != st.ino || d.SHA256 == "" {
		return false, nil
	}
	return sameContent(dir, name, st, d.SHA256)
}

// sameContent reports whether the regular file name (in the folder dir)
// is still the inode st and hashes to sha256Hex. It opens the file
// without following a link and without blocking on a FIFO swapped in.
func sameContent(dir int, name string, st fileStat, sha256Hex string) (bool, error) {
	fd, err := unix.Openat(dir, name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return false, &os.PathError{Op: "open", Path: name, Err: err}
	}
	f := os.NewFile(uintptr(fd), name)
	defer f.Close()
	var now unix.Stat_t
	if err := unix.Fstat(fd, &now); err != nil {
		return false, &os.PathError{Op: "stat", Path: name, Err: err}
	}
	if cur := statOf(&now); !cur.same(st) {
		return false, nil
	}
	h := sha256.New()
	n, err := io.Copy(h, io.LimitReader(f, st.size+1))
	if err != nil {
		return false, &os.PathError{Op: "read", Path: name, Err: err}
	}
	return n == st.size && hex.EncodeToString(h.Sum(nil)) == sha256Hex, nil
}
