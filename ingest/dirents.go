package ingest

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io/fs"
	"os"
	"slices"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Reading a directory the way find does: getdents64 on the listing's own
// descriptor (opened through the pin) into a buffer reused from listing to
// listing, the records parsed in place. Nothing is allocated per entry
// that is skipped, and a wanted file's only allocation is its path.

// direntChunk is the room each getdents64 call is given (the kernel fills
// it with as many whole records as fit; one record is at most 280 bytes).
const direntChunk = 32 << 10

// direntKeep bounds the buffers kept for reuse: a buffer a huge directory
// grew beyond it is let go after its listing.
const direntKeep = 1 << 20

// direntPool holds the listings' buffers between listings (at most the
// read-ahead's few directories are read and not handled at once).
var direntPool = sync.Pool{New: func() any {
	b := make([]byte, 0, direntChunk)
	return &b
}}

// getDirentBuf returns an empty buffer from the pool.
func getDirentBuf() *[]byte {
	b := direntPool.Get().(*[]byte)
	*b = (*b)[:0]
	return b
}

// putDirentBuf gives b back to the pool, unless it grew too large.
func putDirentBuf(b *[]byte) {
	if b != nil && cap(*b) <= direntKeep {
		direntPool.Put(b)
	}
}

// readDirents appends every linux_dirent64 record of the directory open
// as fd to buf, with getdents64, and returns it. On an error, buf holds the
// whole records read before it.
func readDirents(fd int, buf []byte) ([]byte, error) {
	for {
		if cap(buf)-len(buf) < direntChunk {
			buf = slices.Grow(buf, direntChunk)
		}
		n, err := unix.Getdents(fd, buf[len(buf):cap(buf)])
		switch {
		case errors.Is(err, unix.EINTR):
			continue
		case err != nil:
			return buf, &os.PathError{Op: "getdents64", Path: "directory", Err: err}
		case n <= 0:
			return buf, nil
		}
		buf = buf[:len(buf)+n]
	}
}

// The layout of struct linux_dirent64: d_ino (8 bytes), d_off (8),
// d_reclen (2), d_type (1), then d_name, NUL-terminated, padded.
const (
	direntReclenOff = 16
	direntTypeOff   = 18
	direntNameOff   = 19
)

// nextDirent parses the record at the start of buf: its name (without the
// NUL), its d_type and its length. ok is false when buf holds no whole,
// well-formed record (the end of the listing).
func nextDirent(buf []byte) (name []byte, typ uint8, reclen int, ok bool) {
	if len(buf) < direntNameOff {
		return nil, 0, 0, false
	}
	reclen = int(binary.NativeEndian.Uint16(buf[direntReclenOff:]))
	if reclen <= direntNameOff || reclen > len(buf) {
		return nil, 0, 0, false
	}
	name = buf[direntNameOff:reclen]
	if i := bytes.IndexByte(name, 0); i >= 0 {
		name = name[:i]
	}
	return name, buf[direntTypeOff], reclen, true
}

// listedEntry is one entry of a directory's listing, handed to the
// callback of eachListed. It is reused from entry to entry: nothing of it
// may be kept after the call, name least of all.
type listedEntry struct {
	f   *Folder
	dir string
	fd  int // the listing's descriptor
	// name is the entry's name, one path component. It points into the
	// listing's buffer, which is reused once the listing is handled: a
	// caller keeping it must copy it (childPath does).
	name string
	typ  fs.FileMode // fs.ModeDir, fs.ModeSymlink, 0 for a regular file, fs.ModeIrregular for the rest

	st     unix.Stat_t // an lstat done already (for a DT_UNKNOWN entry)
	statOK bool
}

// isFile reports whether the entry is a regular file or a symbolic link.
func (e *listedEntry) isFile() bool { return e.typ == 0 || e.typ == fs.ModeSymlink }

// stat looks at the entry: an lstat from the listing's own descriptor (one
// system call; the name is one component, so no link can be on the way),
// or settleStat when that fails for another reason than the file being
// gone, or the path is too long.
func (e *listedEntry) stat() (settleSig, statResult) {
	if !e.statOK {
		p := childPath(e.dir, e.name)
		if len(p) >= unix.PathMax {
			return e.f.settleStat(p)
		}
		err := unix.Fstatat(e.fd, e.name, &e.st, unix.AT_SYMLINK_NOFOLLOW)
		switch {
		case errors.Is(err, unix.ENOENT):
			return settleSig{}, statGone
		case err != nil:
			return e.f.settleStat(p)
		}
		e.statOK = true
	}
	if m := e.st.Mode & unix.S_IFMT; m != unix.S_IFREG && m != unix.S_IFLNK {
		return settleSig{}, statGone
	}
	return sigOfStat(&e.st), statFound
}

// direntMode is the type a d_type names, as a listing hands it on; ok is
// false for DT_UNKNOWN (the file system does not say: the entry must be
// looked at).
func direntMode(t uint8) (fs.FileMode, bool) {
	switch t {
	case unix.DT_REG:
		return 0, true
	case unix.DT_DIR:
		return fs.ModeDir, true
	case unix.DT_LNK:
		return fs.ModeSymlink, true
	case unix.DT_UNKNOWN:
		return 0, false
	}
	return fs.ModeIrregular, true
}

// statMode is the type an lstat's mode names, as direntMode's.
func statMode(m uint32) fs.FileMode {
	switch m & unix.S_IFMT {
	case unix.S_IFREG:
		return 0
	case unix.S_IFDIR:
		return fs.ModeDir
	case unix.S_IFLNK:
		return fs.ModeSymlink
	}
	return fs.ModeIrregular
}

// resolveUnknown finds the type of an entry whose d_type is DT_UNKNOWN
// (some file systems never fill it in) with an lstat from the listing's
// descriptor, kept for stat. It reports false when the entry is gone, and
// an error when it could not be looked at.
func (e *listedEntry) resolveUnknown() (bool, error) {
	err := unix.Fstatat(e.fd, e.name, &e.st, unix.AT_SYMLINK_NOFOLLOW)
	switch {
	case errors.Is(err, unix.ENOENT):
		return false, nil
	case err != nil:
		return false, &os.PathError{Op: "lstat", Path: childPath(e.dir, e.name), Err: err}
	}
	e.typ, e.statOK = statMode(e.st.Mode), true
	return true, nil
}

// eachListed calls each with every entry of dir's listing l but "." and
// "..", parsed from its records in place (see listedEntry). An entry whose
// type the listing does not give is looked at first; one that cannot be
// is skipped and its error returned (the first), after the others. On a
// listing error, each still gets what could be read. It closes the
// listing.
func (f *Folder) eachListed(dir string, l dirListing, each func(e *listedEntry)) error {
	if l.d == nil {
		return l.err
	}
	defer l.close()
	e := listedEntry{f: f, dir: dir, fd: int(l.d.Fd())}
	lerr := l.err
	for buf := *l.buf; ; {
		name, t, n, ok := nextDirent(buf)
		if !ok {
			break
		}
		buf = buf[n:]
		if len(name) == 0 || name[0] == '.' && (len(name) == 1 || len(name) == 2 && name[1] == '.') {
			continue
		}
		e.name = unsafe.String(&name[0], len(name))
		e.statOK = false
		if typ, known := direntMode(t); known {
			e.typ = typ
		} else if found, err := e.resolveUnknown(); !found {
			if err != nil && lerr == nil {
				lerr = err
			}
			continue
		}
		each(&e)
	}
	return lerr
}
