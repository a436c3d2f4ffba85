package output

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// BOM is the UTF-8 byte-order mark. A spreadsheet opening a CSV file
// directly (Excel) reads the file as UTF-8 only when it begins with one;
// without it "Café Lumière" shows as "CafÃ© LumiÃ¨re".
const BOM = "\uFEFF"

// Format is how AppendCSV begins a new CSV file, and what a file nothing of
// which was committed yet may begin with.
type Format struct {
	// Header is the first row of a new file; nil: none.
	Header []string
	// BOM puts the UTF-8 byte-order mark before the header of a new file.
	BOM bool
	// Also are other headers a file of this kind may have begun with under
	// another setting (line items with or without their context columns).
	// They are only recognised, in a crash's leftover, never written.
	Also [][]string
}

// begin returns the bytes a new file of format f starts with.
func (f Format) begin() []byte {
	var b []byte
	if f.BOM {
		b = append(b, BOM...)
	}
	if f.Header != nil {
		b = append(b, EncodeCSV(f.Header, nil)...)
	}
	return b
}

// beginning reports whether b, the bytes of a file nothing of which was
// committed, begins as a file of format f may: an optional BOM (whatever
// f.BOM says now), then f.Header or one of f.Also — or is a part of such a
// beginning, a crash in the first write (trailing NUL bytes ignored). It
// returns the length of the beginning in b and the width of the header it
// found (0 when none was complete, or f.Header is nil).
func (f Format) beginning(b []byte) (n, width int, ok bool) {
	trimmed := bytes.TrimRight(b, "\x00")
	if bytes.HasPrefix(trimmed, []byte(BOM)) {
		n = len(BOM)
	} else if bytes.HasPrefix([]byte(BOM), trimmed) {
		return len(b), 0, true // nothing, or a part of the BOM
	}
	if f.Header == nil {
		return n, 0, true
	}
	rest := trimmed[n:]
	for _, h := range append([][]string{f.Header}, f.Also...) {
		enc := EncodeCSV(h, nil)
		if bytes.HasPrefix(rest, enc) {
			return n + len(enc), len(h), true
		}
		if bytes.HasPrefix(enc, rest) {
			return len(b), 0, true // a part of the header
		}
	}
	return 0, 0, false
}

// maxHeaderLen bounds how far BegunHeader looks for the end of the header.
const maxHeaderLen = 64 << 10

// BegunHeader returns the header row a CSV file under l.Root begins with
// (after its BOM, if any), or nil when the file is missing, empty or has no
// complete first line: then nothing is begun that the next append must
// keep. The caller uses it to append rows as wide as the file's header
// when a setting that changes the columns changed since the file began.
// The file is opened as AppendCSV opens it: anything but a regular file
// gives an error wrapping ErrUnsafePath.
func (l Layout) BegunHeader(path string) ([]string, error) {
	rel, err := splitBelow(l.Root, path)
	if err != nil {
		return nil, fmt.Errorf("read header of %s: %w", path, err)
	}
	dir, err := openDirBelow(l.Root, filepath.Dir(rel))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read header of %s: %w", path, err)
	}
	defer dir.Close()
	f, err := openFileIn(dir, filepath.Base(rel), unix.O_RDONLY|unix.O_NONBLOCK, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read header of %s: %w", path, err)
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil {
		return nil, fmt.Errorf("read header of %s: %w", path, err)
	} else if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("read header of %s: not a regular file (%s): %w", path, st.Mode().Type(), ErrUnsafePath)
	}
	buf := make([]byte, maxHeaderLen)
	n, err := f.ReadAt(buf, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("read header of %s: %w", path, err)
	}
	line := bytes.TrimPrefix(buf[:n], []byte(BOM))
	end := bytes.IndexByte(line, '\n')
	if end < 0 {
		return nil, nil
	}
	rec, err := csv.NewReader(bytes.NewReader(line[:end+1])).Read()
	if err != nil {
		return nil, fmt.Errorf("read header of %s: %w", path, err)
	}
	return rec, nil
}
