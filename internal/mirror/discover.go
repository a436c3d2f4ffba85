package mirror

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/docuparse/docuparse-ingest/internal/output"
	"github.com/docuparse/docuparse-ingest/internal/safedir"
	"github.com/docuparse/docuparse-ingest/internal/store"
	"github.com/docuparse/docuparse-ingest/report"
)

// The output directory's folders the mirror reads (see output.Layout).
const (
	resultsDir = "results"
	csvDir     = "csv"
	reportsDir = "reports"
)

// dirChunk is how many names one directory read (and one store look-up)
// takes at a time: a day folder with a million results is never listed
// into memory whole.
const dirChunk = 1000

// mtimeSettle is how old a folder's modification time must be before an
// unchanged one is trusted to mean "nothing added since it was listed":
// file systems keep it at a coarse tick, so a file added in the same tick
// as the listing may leave it as it was.
const mtimeSettle = 2 * time.Second

// discover records the intention of every output not mirrored yet: new
// results, the CSV files of closed days, and new or rewritten reports.
func (m *Mirror) discover(ctx context.Context) error {
	return errors.Join(m.discoverResults(ctx), m.discoverCSV(ctx), m.discoverReports(ctx))
}

// discoverResults intends each results/DAY/NAME.json without a record,
// listing only the day folders changed since this process last listed
// them whole.
func (m *Mirror) discoverResults(ctx context.Context) error {
	days, err := m.list(resultsDir)
	if err != nil {
		return err
	}
	var errs []error
	for _, day := range days {
		if _, err := time.Parse(output.DayFormat, day); err != nil {
			continue
		}
		rel := resultsDir + "/" + day
		fi, err := m.out.Lstat(m.abs(rel))
		if err != nil || !fi.IsDir() {
			continue
		}
		m.mu.Lock()
		seen, ok := m.scanned[rel]
		m.mu.Unlock()
		if ok && seen.Equal(fi.ModTime()) {
			continue
		}
		started := time.Now()
		if err := m.eachChunk(rel, func(names []string) error { return m.intendNew(ctx, KindResult, rel, names) }); err != nil {
			errs = append(errs, err)
			continue
		}
		if started.Sub(fi.ModTime()) > mtimeSettle {
			m.mu.Lock()
			m.scanned[rel] = fi.ModTime()
			m.mu.Unlock()
		}
	}
	return errors.Join(errs...)
}

// intendNew intends the files of dir among names (one chunk of a listing)
// that have no record yet. Hidden names (the atomic writes' temporary
// files) are skipped.
func (m *Mirror) intendNew(ctx context.Context, kind, dir string, names []string) error {
	keys := make([]string, 0, len(names))
	for _, n := range names {
		if strings.HasPrefix(n, ".") || kind == KindResult && !strings.HasSuffix(n, ".json") {
			continue
		}
		keys = append(keys, dir+"/"+n)
	}
	known, err := m.cfg.Store.MirrorKnown(ctx, keys)
	if err != nil {
		return err
	}
	var errs []error
	for _, k := range keys {
		if !known[k] {
			errs = append(errs, m.intend(ctx, kind, k, k))
		}
	}
	return errors.Join(errs...)
}

// intend hashes the local file rel and records the intention to mirror it
// under key. A file gone meanwhile is not an error, and neither is a
// symbolic link or another non-regular file planted in the output
// directory: it is not the daemon's output, and is never read or
// mirrored.
func (m *Mirror) intend(ctx context.Context, kind, rel, key string) error {
	size, sum, err := m.hashLocal(rel)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, errNotRegular) || errors.Is(err, safedir.ErrSymlink) {
		m.cfg.Logger.Debug("not mirrored", "file", rel, "err", err)
		return nil
	}
	if err != nil {
		return err
	}
	_, err = m.cfg.Store.IntendMirror(ctx, store.MirrorObject{Key: key, Kind: kind, LocalPath: rel, Size: size, SHA256: sum})
	return err
}

// discoverCSV intends the CSV files of each closed day (see closed).
func (m *Mirror) discoverCSV(ctx context.Context) error {
	names, err := m.list(csvDir)
	if err != nil {
		return err
	}
	closedDays := map[string]bool{}
	var errs []error
	for _, n := range names {
		day, ok := csvDay(n)
		if !ok {
			continue
		}
		rel := csvDir + "/" + n
		if known, err := m.cfg.Store.MirrorKnown(ctx, []string{rel}); err != nil || known[rel] {
			errs = append(errs, err)
			continue
		}
		isClosed, seen := closedDays[day]
		if !seen {
			if isClosed, err = m.closed(ctx, day); err != nil {
				errs = append(errs, err)
				continue
			}
			closedDays[day] = isClosed
		}
		if !isClosed || !m.committed(ctx, rel) {
			continue
		}
		errs = append(errs, m.intend(ctx, KindCSV, rel, rel))
	}
	return errors.Join(errs...)
}

// csvDay returns the day of a day CSV file's name (documents-DAY.csv,
// line_items-DAY.csv).
func csvDay(name string) (string, bool) {
	base, ok := strings.CutSuffix(name, ".csv")
	if !ok {
		return "", false
	}
	for _, p := range []string{"documents-", "line_items-"} {
		if day, ok := strings.CutPrefix(base, p); ok {
			_, err := time.Parse(output.DayFormat, day)
			return day, err == nil
		}
	}
	return "", false
}

// closed reports whether day's CSV files are final: the day ended in the
// report time zone at least CloseGrace ago, and no document that ended on
// that day waits for export (the exporter appends a document's rows to the
// files of the day it ended, by the daemon's clock; one ending later
// belongs to a later day).
func (m *Mirror) closed(ctx context.Context, day string) (bool, error) {
	loc := m.cfg.Layout.Location
	d, err := time.ParseInLocation(output.DayFormat, day, loc)
	if err != nil {
		return false, nil
	}
	start := time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, loc)
	end := time.Date(d.Year(), d.Month(), d.Day()+1, 0, 0, 0, 0, loc)
	if m.cfg.Now().Before(end.Add(m.cfg.CloseGrace)) {
		return false, nil
	}
	n, err := m.cfg.Store.ExportPendingBetween(ctx, start, end)
	return n == 0, err
}

// committed reports whether the CSV file rel is as long as the store's
// committed length for it: no append of it is under way or interrupted.
func (m *Mirror) committed(ctx context.Context, rel string) bool {
	rec, known, err := m.cfg.Store.CSVState(ctx, rel)
	if err != nil || !known {
		return false
	}
	fi, err := m.out.Lstat(m.abs(rel))
	return err == nil && fi.Mode().IsRegular() && fi.Size() == rec.Size
}

// discoverReports intends each report of a day the nightly schedule (or
// `report` for a past day) wrote in full: its first content under its own
// name, and each later, different content (the report written again)
// under a name with its hash (see versionKey). A partial report, of a day
// not over when it was written, is not mirrored.
func (m *Mirror) discoverReports(ctx context.Context) error {
	last, ok, err := report.Last(ctx, m.cfg.Store)
	if err != nil || !ok {
		return err
	}
	names, err := m.list(reportsDir)
	if err != nil {
		return err
	}
	var errs []error
	for _, n := range names {
		day, ok := reportDay(n)
		if !ok || day > last { // days are YYYY-MM-DD: text order is date order
			continue
		}
		errs = append(errs, m.intendReport(ctx, reportsDir+"/"+n, day))
	}
	return errors.Join(errs...)
}

// reportDay returns the day of a report file's name
// (reconciliation-DAY.EXT).
func reportDay(name string) (string, bool) {
	rest, ok := strings.CutPrefix(name, "reconciliation-")
	if !ok || len(rest) < len(output.DayFormat)+2 || rest[len(output.DayFormat)] != '.' ||
		strings.Count(rest[len(output.DayFormat)+1:], ".") != 0 {
		return "", false
	}
	day := rest[:len(output.DayFormat)]
	_, err := time.Parse(output.DayFormat, day)
	return day, err == nil
}

// intendReport intends the report file rel if its content was never
// intended: a file unchanged (size, modification time) since this
// process last hashed it is not read again.
func (m *Mirror) intendReport(ctx context.Context, rel, day string) error {
	fi, err := m.out.Lstat(m.abs(rel))
	if err != nil || !fi.Mode().IsRegular() {
		return nil
	}
	stamp := fileStamp{size: fi.Size(), mtime: fi.ModTime()}
	m.mu.Lock()
	same := m.reports[rel] == stamp
	m.mu.Unlock()
	if same || m.partialReport(reportsDir+"/reconciliation-"+day+".json") {
		return nil
	}
	size, sum, err := m.hashLocal(rel)
	if err != nil {
		return nil // gone or unreadable: looked at again next pass
	}
	versions, err := m.cfg.Store.MirrorVersions(ctx, rel)
	if err != nil {
		return err
	}
	key := rel
	for _, v := range versions {
		if v.SHA256 == sum {
			key = ""
			break
		}
		key = versionKey(rel, sum)
	}
	if key != "" {
		if _, err := m.cfg.Store.IntendMirror(ctx, store.MirrorObject{Key: key, Kind: KindReport, LocalPath: rel, Size: size, SHA256: sum}); err != nil {
			return err
		}
	}
	m.mu.Lock()
	m.reports[rel] = stamp
	m.mu.Unlock()
	return nil
}

// versionKey is the key of a later content of a report:
// reports/reconciliation-DAY.<first 16 hex digits of its SHA-256>.EXT.
func versionKey(rel, sum string) string {
	ext := path.Ext(rel)
	return strings.TrimSuffix(rel, ext) + "." + sum[:16] + ext
}

// partialReport reports whether the JSON report rel says it is partial (a
// day not over when it was written), or cannot be read.
func (m *Mirror) partialReport(rel string) bool {
	f, err := m.open(rel)
	if err != nil {
		return true
	}
	defer f.Close()
	var head [4096]byte
	n, _ := io.ReadFull(f, head[:])
	return strings.Contains(string(head[:n]), `"partial": true`) || strings.Contains(string(head[:n]), `"partial":true`)
}

// list returns the names in the small folder rel of the output directory
// (results, csv, reports: one entry a day or three). A missing folder
// has none.
func (m *Mirror) list(rel string) ([]string, error) {
	var all []string
	err := m.eachChunk(rel, func(names []string) error {
		all = append(all, names...)
		return nil
	})
	return all, err
}

// eachChunk lists the folder rel of the output directory a chunk at a
// time, giving each chunk of names to fn. A missing folder has no names.
func (m *Mirror) eachChunk(rel string, fn func([]string) error) error {
	d, err := m.out.OpenDir(m.abs(rel))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer d.Close()
	for {
		names, err := d.Readdirnames(dirChunk)
		if len(names) > 0 {
			if ferr := fn(names); ferr != nil {
				return ferr
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("list %s: %w", d.Name(), err)
		}
	}
}

// abs returns the path of rel (with "/") in the output directory.
func (m *Mirror) abs(rel string) string { return filepath.Join(m.out.Path(), filepath.FromSlash(rel)) }

// errNotRegular: something else than a regular file is where an output
// file is expected.
var errNotRegular = errors.New("not a regular file")

// open opens the regular file rel of the output directory for reading,
// following no symbolic link (see internal/safedir).
func (m *Mirror) open(rel string) (*os.File, error) {
	f, err := m.out.OpenFile(m.abs(rel), unix.O_RDONLY|unix.O_NONBLOCK)
	if err != nil {
		return nil, err
	}
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("%s: %w", f.Name(), errNotRegular)
	}
	return f, nil
}

// hashLocal returns the size and SHA-256 of the file rel, streamed.
func (m *Mirror) hashLocal(rel string) (int64, string, error) {
	f, err := m.open(rel)
	if err != nil {
		return 0, "", err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return 0, "", fmt.Errorf("read %s: %w", f.Name(), err)
	}
	return n, hex.EncodeToString(h.Sum(nil)), nil
}
