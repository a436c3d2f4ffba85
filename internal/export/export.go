// Package export owns delivering terminal documents to the output
// directory exactly once: a JSON file per document, rows in the day's
// documents and line-items CSV files, then the source's after-action (keep,
// move or delete the input file), then the "exported" mark in the store.
//
// Exactly once rests on one rule: the store records, in the same
// transaction that marks documents exported, how long each CSV file is (and
// a hash of its last bytes). Anything past that length is a crash's
// leftover and is cut off before the next append, so a row is never
// half-written or written twice — but only when it is the daemon's own: a
// file the store has no record of, or one changed outside the daemon, is
// never cut or appended to; its rows are held (ErrHeld, Held) until someone
// moves the file aside. Formatting of rows and files belongs to
// internal/output.
package export

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/docuparse/docuparse-ingest/internal/lifecycle"
	"github.com/docuparse/docuparse-ingest/internal/output"
	"github.com/docuparse/docuparse-ingest/internal/store"
)

// After-actions for an input file once its document is exported.
const (
	AfterKeep   = "keep"
	AfterMove   = "move"
	AfterDelete = "delete"
)

// SourceAfter says what to do with a source's input files after export.
type SourceAfter struct {
	Action string // keep | move | delete
	Root   string // the source's folder, to keep the relative path on move
	MoveTo string // destination folder for move
}

// Config configures an Exporter.
type Config struct {
	Store  *store.Store
	Layout output.Layout
	// After per source name; sources not listed keep their files.
	After map[string]SourceAfter
	// Chunk is how many documents one pass writes per CSV append. Defaults to 256.
	Chunk  int
	Logger *slog.Logger
	// Interval is the safety-net pass period. Defaults to 5 seconds.
	Interval time.Duration
	// OnWritten, when set, is told what each chunk wrote (for metrics):
	// JSON files, documents CSV rows and line-item rows.
	OnWritten func(jsonFiles, documentRows, lineItemRows int)
}

// Exporter writes terminal documents to the output directory.
type Exporter struct {
	cfg   Config
	poke  lifecycle.Poke
	group lifecycle.Group

	mu      sync.Mutex
	actions map[string]SourceAfter // cfg.After, replaced by SetAfter
	held    map[string]error       // output files whose rows are held, and why
}

// SetAfter replaces the per-source after-actions (a reload).
func (e *Exporter) SetAfter(after map[string]SourceAfter) {
	e.mu.Lock()
	e.actions = after
	e.mu.Unlock()
}

// New returns an Exporter.
func New(cfg Config) *Exporter {
	if cfg.Chunk <= 0 {
		cfg.Chunk = 256
	}
	if cfg.Interval <= 0 {
		cfg.Interval = 5 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Layout.Location == nil {
		cfg.Layout.Location = time.Local
	}
	return &Exporter{cfg: cfg, poke: lifecycle.NewPoke(), actions: cfg.After, held: map[string]error{}}
}

// Notify wakes the exporter: documents reached a terminal outcome.
func (e *Exporter) Notify() { e.poke.Notify() }

// Start runs export passes until Stop. It returns at once.
func (e *Exporter) Start(ctx context.Context) {
	e.group.Go(ctx, func(ctx context.Context) {
		lifecycle.Loop(ctx, e.cfg.Interval, e.poke, func(ctx context.Context) {
			// A held file was logged once when it was found.
			if _, err := e.RunOnce(ctx); err != nil && ctx.Err() == nil && !errors.Is(err, ErrHeld) {
				e.cfg.Logger.Error("export failed; will retry", "err", err)
			}
		})
	})
}

// Stop waits for the current pass to end. Safe to call twice, and before
// Start.
func (e *Exporter) Stop() { e.group.Stop() }

// RunOnce exports every ready document and returns how many it exported.
func (e *Exporter) RunOnce(ctx context.Context) (int, error) {
	total := 0
	for ctx.Err() == nil {
		docs, err := e.cfg.Store.ExportCandidates(ctx, e.cfg.Chunk)
		if err != nil {
			return total, err
		}
		if len(docs) == 0 {
			return total, nil
		}
		n, err := e.exportChunk(ctx, docs)
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, ctx.Err()
}

type csvBatch struct {
	rel     string
	header  []string
	records [][]string
}

func (e *Exporter) exportChunk(ctx context.Context, docs []store.Document) (int, error) {
	files := map[string]*csvBatch{}
	var order []string
	add := func(rel string, header []string, recs ...[]string) {
		b, ok := files[rel]
		if !ok {
			b = &csvBatch{rel: rel, header: header}
			files[rel] = b
			order = append(order, rel)
		}
		b.records = append(b.records, recs...)
	}
	ids := make([]int64, 0, len(docs))
	for _, sd := range docs {
		d := toOutput(sd)
		rec, err := output.DocumentRecord(d)
		if errors.Is(err, output.ErrBadData) {
			// The API sent data the outputs cannot represent (a float for
			// money, say). The raw result stays in the store; the row says
			// what went wrong instead of blocking every later document.
			e.cfg.Logger.Error("result data unusable; exporting without extracted fields", "doc", sd.ID, "err", err)
			d.Data, d.ErrorCode, d.ErrorMessage = nil, "INVALID_RESULT", err.Error()
			rec, err = output.DocumentRecord(d)
		}
		if err == nil {
			var items [][]string
			if items, err = output.LineItemRecords(d); err == nil {
				var js []byte
				if js, err = output.MarshalJSON(d); err == nil {
					err = e.cfg.Layout.WriteFileAtomic(e.cfg.Layout.ResultPath(d), js, 0o644)
				}
				if err == nil {
					day := e.cfg.Layout.Day(d.CompletedAt)
					add(e.rel(e.cfg.Layout.DocumentsCSV(day)), output.DocumentsHeader, rec)
					if len(items) > 0 {
						add(e.rel(e.cfg.Layout.LineItemsCSV(day)), output.LineItemsHeader, items...)
					}
				}
			}
		}
		if err != nil {
			return 0, fmt.Errorf("export document %d (%s): %w", sd.ID, sd.Path, err)
		}
		ids = append(ids, sd.ID)
	}
	sizes := map[string]store.CSVFile{}
	for _, rel := range order {
		b := files[rel]
		size, err := e.append(ctx, b)
		if err != nil {
			return 0, err
		}
		sizes[rel] = size
	}
	for _, sd := range docs {
		e.after(ctx, sd)
	}
	if err := e.cfg.Store.MarkExported(ctx, ids, sizes); err != nil {
		return 0, err
	}
	if e.cfg.OnWritten != nil {
		items := 0
		for _, b := range files {
			if len(b.header) == len(output.LineItemsHeader) {
				items += len(b.records)
			}
		}
		e.cfg.OnWritten(len(ids), len(ids), items)
	}
	return len(ids), nil
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
		if err := e.cfg.Layout.CheckUnrecorded(path); err != nil {
			return store.CSVFile{}, e.hold(b.rel, err)
		}
		// The record comes first, so a crash during the first append
		// leaves a file recovery knows as the daemon's own.
		if err := e.cfg.Store.BeginCSV(ctx, b.rel); err != nil {
			return store.CSVFile{}, err
		}
	}
	c, err := e.cfg.Layout.AppendCommitted(path, output.Committed{Size: rec.Size, Tail: rec.TailSHA256}, b.header, b.records)
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
			c, err = e.cfg.Layout.AppendCommitted(path, output.Committed{Size: cur}, b.header, b.records)
		}
	}
	if errors.Is(err, output.ErrNotOurs) {
		return store.CSVFile{}, e.hold(b.rel, err)
	}
	if err != nil {
		return store.CSVFile{}, fmt.Errorf("append %s: %w", path, err)
	}
	e.release(b.rel)
	return store.CSVFile{Size: c.Size, TailSHA256: c.Tail}, nil
}

func (e *Exporter) rel(path string) string {
	r, err := filepath.Rel(e.cfg.Layout.Root, path)
	if err != nil {
		return path
	}
	return filepath.ToSlash(r)
}

// after applies the source's after-action. It runs before the exported mark,
// so a crash repeats it; a file already moved or deleted is fine.
func (e *Exporter) after(ctx context.Context, d store.Document) {
	e.mu.Lock()
	a, ok := e.actions[d.Source]
	e.mu.Unlock()
	if !ok || a.Action == AfterKeep || a.Action == "" {
		return
	}
	// A document that was retried no longer owns its file: the retry
	// needs it, and applies the after-action when it is exported.
	if newer, err := e.cfg.Store.RetriedAs(ctx, d.ID); err != nil || newer != 0 {
		if err != nil {
			e.cfg.Logger.Warn("after-export action skipped", "path", d.Path, "err", err)
		}
		return
	}
	if err := applyAfter(a, d); err != nil {
		if errors.Is(err, errChangedSince) {
			e.cfg.Logger.Info("input file changed since it was taken in; left in place", "action", a.Action, "path", d.Path)
		} else if !errors.Is(err, fs.ErrNotExist) {
			e.cfg.Logger.Warn("after-export action failed; the input file stays", "action", a.Action, "path", d.Path, "err", err)
		}
	}
}

// ErrHeld is wrapped by RunOnce's error when rows are held because their
// CSV file is not the daemon's to append to (see Held).
var ErrHeld = errors.New("rows held")

// hold records that the rows for the output file rel are held because of
// cause, logs it at ERROR the first time, and returns the error to stop
// the pass with.
func (e *Exporter) hold(rel string, cause error) error {
	e.mu.Lock()
	_, seen := e.held[rel]
	e.held[rel] = cause
	e.mu.Unlock()
	if !seen {
		e.cfg.Logger.Error("export held: the daemon never cuts or appends to a CSV file it has no record of or that was changed outside it; "+
			"the rows due for it wait. Move the file aside (the daemon then starts it anew), or restore state.db and out/ from the same backup",
			"file", filepath.Join(e.cfg.Layout.Root, rel), "reason", cause)
	}
	return fmt.Errorf("%w for %s: %w", ErrHeld, rel, cause)
}

// release forgets a hold on rel once its rows were appended.
func (e *Exporter) release(rel string) {
	e.mu.Lock()
	_, was := e.held[rel]
	delete(e.held, rel)
	e.mu.Unlock()
	if was {
		e.cfg.Logger.Info("export resumed", "file", filepath.Join(e.cfg.Layout.Root, rel))
	}
}

// Held returns an error naming each output file whose rows are held, or nil
// (the admin listener's readiness check).
func (e *Exporter) Held(context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.held) == 0 {
		return nil
	}
	names := make([]string, 0, len(e.held))
	for rel := range e.held {
		names = append(names, rel)
	}
	sort.Strings(names)
	return fmt.Errorf("rows held for %s: changed outside the daemon or unknown to the state database", strings.Join(names, ", "))
}

// toOutput maps a store document to what the outputs say about it.
func toOutput(d store.Document) output.Document {
	o := output.Document{
		LocalRef:     d.ClientReference,
		DocumentID:   d.DocumentID,
		Status:       string(d.Outcome),
		Source:       d.Path,
		FileName:     d.FileName,
		SHA256:       d.SHA256,
		SizeBytes:    d.SizeBytes,
		BatchID:      d.APIBatchID,
		SubmittedAt:  d.SubmittedAt,
		CompletedAt:  d.CompletedAt,
		ResultVia:    d.ResultVia,
		Data:         d.Result,
		ErrorCode:    d.ErrorCode,
		ErrorMessage: d.ErrorMessage,
		APITimestamp: d.APITimestamp,
	}
	if o.Status == "" {
		o.Status = string(d.State)
	}
	if d.Outcome == store.StateDuplicate {
		o.DocumentID = d.OriginalDocumentID
		o.DuplicateOf = d.OriginalPath
	}
	return o
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
