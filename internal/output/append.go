package output

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// ErrShrunk is wrapped by AppendRecords' error when the file is shorter than
// the length the caller recorded as committed (or gone): someone truncated,
// replaced or deleted it. Rows known to be exported are missing, and
// appending would misplace the rest, so nothing is written; the caller
// decides (move the file aside and start over, or alert).
var ErrShrunk = errors.New("file is shorter than its committed length")

// AppendRecords appends records to the CSV file at path exactly once, given
// committed: the file's length that the caller's store knows to be complete.
// The caller saves the returned newSize in the same store transaction that
// marks the records' documents exported. Then a crash at any point leaves
// either the old committed length (and the documents still due, so they are
// appended again) or the new one — never a row twice, never half a row.
//
// Step by step: it creates the parent directories and the file if needed.
// If the file is longer than committed, the tail is cut off — but only when
// it is this package's own: a partial row from a crash, or rows appended but
// never recorded, which this call appends again. A tail of anything else
// (rows not in EncodeCSV's encoding or of another width, a file not starting
// with the header when committed is 0) gives an error wrapping ErrNotOurs
// and changes nothing. If the file is shorter than committed (or missing
// while committed > 0) it returns an error wrapping ErrShrunk and changes
// nothing. When committed is 0 the header is written first (unless header is
// nil). All rows go to the file in one write, then the file is fsynced (and
// its directory, when the file is new).
//
// The file is opened with O_NOFOLLOW and must be a regular file: a symbolic
// link or anything else (a FIFO, a device) in its place gives an error
// wrapping ErrUnsafePath, and nothing is written or truncated. Directories
// on the way to it are trusted here; for a file under the output directory
// use Layout.AppendRecords, which also refuses a symlinked directory below
// the output root.
//
// The rows are encoded by EncodeCSV: every cell neutralised (see Neutralise;
// this is idempotent, so rows from DocumentRecord are unchanged) and every
// non-empty cell quoted, so no cell can break a row or split into two. When
// header is not nil, every record must have as many cells as the header.
// One writer per file: AppendRecords is not safe for concurrent use on the
// same path.
func AppendRecords(path string, committed int64, header []string, records [][]string) (newSize int64, err error) {
	dir, name := filepath.Split(path)
	c, err := appendRecords(dir, name, path, Committed{Size: committed}, Format{Header: header}, records)
	return c.Size, err
}

// AppendRecords is AppendRecords for a file under l.Root (a path from
// DocumentsCSV or LineItemsCSV, say), with one more guarantee: every
// directory between l.Root and the file is opened without following
// symbolic links (a symlink there gives an error wrapping ErrUnsafePath),
// so a link planted in the output directory cannot redirect the write.
// l.Root itself may be a symlink. A path outside l.Root is an error.
func (l Layout) AppendRecords(path string, committed int64, header []string, records [][]string) (newSize int64, err error) {
	c, err := l.AppendCommitted(path, Committed{Size: committed}, header, records)
	return c.Size, err
}

// AppendCommitted is Layout.AppendRecords that also checks and returns the
// hash of the bytes before the committed length: when c.Tail is recorded
// and the file's last bytes before c.Size differ from it (the file was
// edited or rewritten, even to the same length), the error wraps
// ErrNotOurs and nothing is cut or written. The caller records the
// returned Committed, Tail included, with the exported mark.
func (l Layout) AppendCommitted(path string, c Committed, header []string, records [][]string) (Committed, error) {
	return l.AppendCSV(path, c, Format{Header: header}, records)
}

// AppendCSV is AppendCommitted with the file's Format: a new file (c.Size
// 0) begins with f's BOM, when set, and f.Header. A begun file keeps how it
// began — no BOM is added or removed, no header written again — so the
// caller passes records as wide as the file's header (see BegunHeader).
// When c.Size is 0, bytes a crash left in the file are the daemon's own,
// and cut, if they begin with f.Header or one of f.Also, with or without a
// BOM (a file begun under another setting), or with a part of those.
func (l Layout) AppendCSV(path string, c Committed, f Format, records [][]string) (Committed, error) {
	rel, err := splitBelow(l.Root, path)
	if err != nil {
		return Committed{}, fmt.Errorf("append %s: %w", path, err)
	}
	return appendRecords(l.Root, rel, path, c, f, records)
}

// CheckUnrecorded is for a CSV file under l.Root that the caller's store has
// no record of, before it records one and appends: a missing or empty file
// is fine (nil); a file with content gives an error wrapping ErrUnrecorded,
// and so does anything but a regular file (wrapping ErrUnsafePath too).
func (l Layout) CheckUnrecorded(path string) error {
	rel, err := splitBelow(l.Root, path)
	if err != nil {
		return fmt.Errorf("check %s: %w", path, err)
	}
	dir, err := openDirBelow(l.Root, filepath.Dir(rel))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("check %s: %w", path, err)
	}
	defer dir.Close()
	f, err := openFileIn(dir, filepath.Base(rel), unix.O_RDONLY|unix.O_NONBLOCK, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("check %s: %w", path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	switch {
	case err != nil:
		return fmt.Errorf("check %s: %w", path, err)
	case !st.Mode().IsRegular():
		return fmt.Errorf("check %s: not a regular file (%s): %w", path, st.Mode().Type(), ErrUnsafePath)
	case st.Size() > 0:
		return fmt.Errorf("%s: %d bytes: %w", path, st.Size(), ErrUnrecorded)
	}
	return nil
}

// appendRecords does AppendRecords for the file rel below root, trusting
// root and nothing below it; path names the file in errors.
func appendRecords(root, rel, path string, c Committed, format Format, records [][]string) (_ Committed, err error) {
	committed := c.Size
	if committed < 0 {
		return Committed{}, fmt.Errorf("append %s: negative committed length %d", path, committed)
	}
	header := format.Header
	width := len(header)
	for i, rec := range records {
		if len(rec) == 0 {
			return Committed{}, fmt.Errorf("append %s: record %d is empty", path, i)
		}
		if header != nil && len(rec) != len(header) {
			return Committed{}, fmt.Errorf("append %s: record %d has %d fields, header has %d", path, i, len(rec), len(header))
		}
		width = len(rec)
	}
	var buf []byte
	if committed == 0 {
		buf = format.begin()
	}
	buf = append(buf, EncodeCSV(nil, records)...)

	f, dir, err := openForAppend(root, rel, path, committed)
	if err != nil {
		return Committed{}, err
	}
	defer dir.Close()
	defer func() {
		if cerr := f.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("close %s: %w", path, cerr)
		}
	}()

	st, err := f.Stat()
	if err != nil {
		return Committed{}, opErr("append", path, err)
	}
	if !st.Mode().IsRegular() {
		return Committed{}, fmt.Errorf("append %s: not a regular file (%s): %w", path, st.Mode().Type(), ErrUnsafePath)
	}
	size := st.Size()
	if size < committed {
		return Committed{}, fmt.Errorf("append %s: size %d, committed %d: %w", path, size, committed, ErrShrunk)
	}
	if err := checkOwnership(f, size, c, format, width); err != nil {
		return Committed{}, fmt.Errorf("append %s: %w", path, err)
	}
	if size > committed {
		// A partial row from a crash, or rows never recorded as exported.
		if err := f.Truncate(committed); err != nil {
			return Committed{}, fmt.Errorf("append %s: truncate to %d: %w", path, committed, err)
		}
	}
	if len(buf) > 0 {
		if _, err := f.WriteAt(buf, committed); err != nil {
			return Committed{}, opErr("append", path, err)
		}
	}
	if err := fsync(f); err != nil {
		return Committed{}, fmt.Errorf("append %s: fsync: %w", path, err)
	}
	if committed == 0 {
		if err := syncDir(dir); err != nil {
			return Committed{}, fmt.Errorf("append %s: %w", path, err)
		}
	}
	next := Committed{Size: committed + int64(len(buf))}
	if next.Tail, err = tailHash(f, next.Size); err != nil {
		return Committed{}, fmt.Errorf("append %s: %w", path, err)
	}
	return next, nil
}

// openForAppend opens the file rel below root for appendRecords, creating
// it when nothing was committed yet, and returns it with its directory.
func openForAppend(root, rel, path string, committed int64) (f, dir *os.File, err error) {
	dir, err = openDirBelow(root, filepath.Dir(rel))
	if err != nil {
		return nil, nil, fmt.Errorf("append %s: %w", path, err)
	}
	flags := unix.O_RDWR
	if committed == 0 {
		flags |= unix.O_CREAT
	}
	f, err = openFileIn(dir, filepath.Base(rel), flags, FilePerm)
	if err == nil {
		return f, dir, nil
	}
	dir.Close()
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, fmt.Errorf("append %s: file is missing but %d bytes were committed: %w (%w)", path, committed, ErrShrunk, err)
	}
	return nil, nil, fmt.Errorf("append %s: %w", path, err)
}
