package output

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
)

// TailWindow is how many bytes before a CSV file's committed length
// Committed.Tail covers.
const TailWindow = 4096

// ErrNotOurs is wrapped by AppendCommitted's error when the file is not as
// this package left it: the bytes before the committed length are not the
// ones recorded (the file was edited or rewritten, by a spreadsheet say),
// or the bytes past it are not an interrupted append of rows in this
// package's encoding. Nothing is cut or written; the caller holds the rows
// until someone moves the file aside (it is then started anew).
var ErrNotOurs = errors.New("file was changed outside the daemon")

// ErrUnrecorded is wrapped by CheckUnrecorded's error: a CSV file has
// content but the caller's store has no record of it (a lost or replaced
// state database, or a file copied in). Such a file is never cut or
// appended to.
var ErrUnrecorded = errors.New("file has content the state database has no record of")

// Committed is what the caller's store recorded about a CSV file after its
// last append.
type Committed struct {
	// Size is the file's length known to be complete.
	Size int64
	// Tail is the hex SHA-256 of the last TailWindow bytes before Size (of
	// all of them when Size is smaller); "" when not recorded (a file
	// written by an older version, or not written yet).
	Tail string
}

// tailHash returns the hex SHA-256 of the TailWindow bytes of f before size.
func tailHash(f *os.File, size int64) (string, error) {
	start := max(0, size-TailWindow)
	h := sha256.New()
	if _, err := io.Copy(h, io.NewSectionReader(f, start, size-start)); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// checkOwnership returns an error wrapping ErrNotOurs unless the file f,
// size bytes long, is as this package left it at c: the recorded tail
// hash matches (when recorded), and whatever lies past c.Size is rows of
// width fields as EncodeCSV writes them — when c.Size is 0, first a
// beginning of format (see beginning) — with at most one partial row at
// the end (a crash's leftover).
func checkOwnership(f *os.File, size int64, c Committed, format Format, width int) error {
	if c.Tail != "" && size >= c.Size {
		got, err := tailHash(f, c.Size)
		if err != nil {
			return err
		}
		if got != c.Tail {
			return fmt.Errorf("the %d bytes before the committed length %d are not the ones written: %w",
				min(c.Size, TailWindow), c.Size, ErrNotOurs)
		}
	}
	if size <= c.Size {
		return nil
	}
	tail := make([]byte, size-c.Size)
	if _, err := f.ReadAt(tail, c.Size); err != nil {
		return err
	}
	if c.Size == 0 {
		n, w, ok := format.beginning(tail)
		if !ok {
			return fmt.Errorf("it does not start with the header: %w", ErrNotOurs)
		}
		if n == len(tail) {
			return nil // at most a beginning: nothing more to check
		}
		tail = tail[n:]
		if w > 0 {
			width = w
		}
	}
	if !ownRows(tail, width) {
		return fmt.Errorf("the %d bytes past the committed length %d are not rows the daemon writes: %w",
			size-c.Size, c.Size, ErrNotOurs)
	}
	return nil
}

// ownRows reports whether b is whole rows of width fields (any width when
// width is 0) in EncodeCSV's encoding — every non-empty cell quoted,
// fields separated by ',', rows ended by '\n' — followed by at most one
// partial row. Trailing NUL bytes (blocks a power loss allocated but never
// wrote) count as part of the partial row.
func ownRows(b []byte, width int) bool {
	b = bytes.TrimRight(b, "\x00")
	const (
		cellStart = iota // before a cell: '"' opens it, ',' or '\n' ends it empty
		quoted           // inside quotes
		quote            // a '"' inside quotes: doubled, or the cell's end
	)
	state, fields := cellStart, 0
	endCell := func(c byte) bool {
		fields++
		if c == '\n' {
			if width > 0 && fields != width {
				return false
			}
			fields = 0
		}
		return true
	}
	for _, c := range b {
		switch {
		case state == quoted:
			if c == '"' {
				state = quote
			}
		case c == '"':
			state = quoted // an opening quote, or the second of a doubled one
		case c == ',' || c == '\n':
			if !endCell(c) {
				return false
			}
			state = cellStart
		default:
			return false // an unquoted character: not EncodeCSV's
		}
	}
	return width == 0 || fields < width
}
