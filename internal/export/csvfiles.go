// Appending a pass's rows to the day's CSV files, each at the length the
// store recorded for it (see the package comment for why that makes a row
// appear exactly once).

package export

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"golang.org/x/sys/unix"

	"github.com/docuparse/docuparse-ingest/internal/output"
	"github.com/docuparse/docuparse-ingest/internal/store"
)

// csvBatch is a pass's rows for one CSV file, by its path below the
// output root.
type csvBatch struct {
	rel    string
	format output.Format
	// lineItems: records carry output.LineItemsContextHeader's columns and
	// are cut to the width of the file's header (see lineItemsFormat).
	lineItems bool
	records   [][]string
}

// appendDay appends a day's rows to its documents and line items CSV files
// and returns their new sizes, to be committed with the exported mark.
func (e *Exporter) appendDay(ctx context.Context, dr *dayRows) (map[string]store.CSVFile, error) {
	sizes := map[string]store.CSVFile{}
	for _, b := range []*csvBatch{
		{rel: e.rel(e.cfg.Layout.DocumentsCSV(dr.day)), format: output.Format{Header: output.DocumentsHeader, BOM: e.cfg.CSVBOM},
			records: dr.rows},
		{rel: e.rel(e.cfg.Layout.LineItemsCSV(dr.day)), lineItems: true, records: dr.items},
	} {
		if len(b.records) == 0 {
			continue
		}
		size, err := e.append(ctx, b)
		if err != nil {
			return nil, err
		}
		sizes[b.rel] = size
	}
	return sizes, nil
}

// append appends a chunk's rows to one CSV file and returns what the store
// records of the file once they are marked exported. A file the store has
// no record of is started only if it is missing or empty; one with content
// (a lost state database), or one changed outside the daemon, is held.
func (e *Exporter) append(ctx context.Context, b *csvBatch) (store.CSVFile, error) {
	path := filepath.Join(e.cfg.Layout.Root, b.rel)
	rec, known, err := e.cfg.Store.CSVState(ctx, b.rel)
	if err != nil {
		return store.CSVFile{}, err
	}
	if !known {
		if err := e.cfg.Layout.CheckUnrecorded(path); errors.Is(err, output.ErrUnrecorded) {
			return store.CSVFile{}, e.hold(b.rel, err)
		} else if err != nil {
			return store.CSVFile{}, err // an unsafe path (a planted link): held as such, or an I/O error
		}
		// The record comes first, so a crash during the first append
		// leaves a file recovery knows as the daemon's own.
		if err := e.cfg.Store.BeginCSV(ctx, b.rel); err != nil {
			return store.CSVFile{}, err
		}
	}
	format, records := e.format(path, rec.Size, b)
	c, err := e.cfg.Layout.AppendCSV(path, output.Committed{Size: rec.Size, Tail: rec.TailSHA256}, format, records)
	if errors.Is(err, output.ErrShrunk) {
		// Someone shortened or removed the file. Never cut into what is
		// there: append after its current end (or start it anew).
		cur := int64(0)
		if fi, statErr := os.Lstat(path); statErr == nil && fi.Mode().IsRegular() {
			cur = fi.Size()
		}
		e.cfg.Logger.Warn("output file shrank outside the daemon; appending after its current end",
			"file", path, "expected_bytes", rec.Size, "found_bytes", cur)
		if cur, err = endWithNewline(path, cur); err == nil {
			format, records = e.format(path, cur, b)
			c, err = e.cfg.Layout.AppendCSV(path, output.Committed{Size: cur}, format, records)
		}
	}
	if errors.Is(err, output.ErrNotOurs) {
		return store.CSVFile{}, e.hold(b.rel, err)
	}
	if err != nil {
		return store.CSVFile{}, err // output's errors name the file ("append <path>: …")
	}
	e.release(b.rel)
	return store.CSVFile{Size: c.Size, TailSHA256: c.Tail}, nil
}

// format returns how b's file at path, with size bytes committed, begins
// and the records to append to it. A line items file begins with the
// context columns when output.line_items_context is set, but one already
// begun keeps the header it has, and its rows are cut to that width: a
// change of the setting applies from the next new file (the next day's),
// never to a file that has rows of the other width. Either header is
// recognised in a crash's leftover of a first append.
func (e *Exporter) format(path string, size int64, b *csvBatch) (output.Format, [][]string) {
	if !b.lineItems {
		return b.format, b.records
	}
	header, other := output.LineItemsHeader, output.LineItemsContextHeader
	if e.cfg.LineItemsContext {
		header, other = other, header
	}
	if size > 0 {
		// An unsafe path or a read error is met again, and reported, by
		// the append itself.
		if begun, err := e.cfg.Layout.BegunHeader(path); err == nil && slices.Equal(begun, other) {
			header, other = other, header
		}
	}
	records := make([][]string, len(b.records))
	for i, r := range b.records {
		records[i] = r[:min(len(r), len(header))]
	}
	return output.Format{Header: header, BOM: e.cfg.CSVBOM, Also: [][]string{other}}, records
}

func (e *Exporter) rel(path string) string {
	r, err := filepath.Rel(e.cfg.Layout.Root, path)
	if err != nil {
		return path
	}
	return filepath.ToSlash(r)
}

// endWithNewline makes sure a file cut short outside the daemon ends with a
// line break, so new rows never run on from a half row someone left; it
// returns the file's new size.
func endWithNewline(path string, size int64) (int64, error) {
	if size == 0 {
		return 0, nil
	}
	// No symlink followed, nothing but a regular file written to.
	f, err := os.OpenFile(path, os.O_RDWR|unix.O_NOFOLLOW|unix.O_NONBLOCK, 0)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		return 0, fmt.Errorf("%s is not a regular file", path)
	}
	last := make([]byte, 1)
	if _, err := f.ReadAt(last, size-1); err != nil {
		return 0, err
	}
	if last[0] == '\n' {
		return size, nil
	}
	if _, err := f.WriteAt([]byte{'\n'}, size); err != nil {
		return 0, err
	}
	return size + 1, f.Sync()
}
