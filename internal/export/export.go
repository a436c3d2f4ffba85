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
	"maps"
	"path/filepath"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/docuparse/docuparse-ingest/internal/bucket"
	"github.com/docuparse/docuparse-ingest/internal/lifecycle"
	"github.com/docuparse/docuparse-ingest/internal/output"
	"github.com/docuparse/docuparse-ingest/internal/safedir"
	"github.com/docuparse/docuparse-ingest/internal/store"
	"github.com/docuparse/docuparse-ingest/internal/vocab"
)

// SourceAfter says what to do with a source's input files after export.
type SourceAfter struct {
	Action string // keep | move | delete
	Root   string // the source's folder, to keep the relative path on move
	MoveTo string // destination folder for move
	// MoveRejectedTo is where move takes rejected files (never read, or
	// refused); empty: they stay where they are. Delete never removes them.
	MoveRejectedTo string
	// Bucket is a bucket source's open bucket (nil for a folder source):
	// the after-action acts on the object version each document was taken
	// in as (see applyBucketAfter), not on a file.
	Bucket *bucket.Bucket
	// AfterPrefix is where a bucket source's move puts processed/ and
	// failed/ (config.Source.ResolvedAfterPrefix).
	AfterPrefix string
}

// Config configures an Exporter.
type Config struct {
	Store  Store
	Layout output.Layout
	// After per source name; sources not listed keep their files.
	After map[string]SourceAfter
	// Chunk is how many documents one pass writes per CSV append. Defaults to 256.
	Chunk  int
	Logger *slog.Logger
	// Interval is the safety-net pass period. Defaults to 5 seconds.
	Interval time.Duration
	// HoldRetry is the first wait before a held document (one whose output
	// path is unsafe) is tried again; the wait doubles with each try up to
	// HoldRetryMax. Default 30 seconds and 10 minutes.
	HoldRetry, HoldRetryMax time.Duration
	// OnWritten, when set, is told what each chunk wrote (for metrics):
	// JSON files, documents CSV rows and line-item rows.
	OnWritten func(jsonFiles, documentRows, lineItemRows int)
	// CSVBOM begins each new CSV file with a UTF-8 byte-order mark
	// (output.csv_bom).
	CSVBOM bool
	// LineItemsContext gives each new line items file the context columns
	// of output.LineItemsContextHeader (output.line_items_context). A file
	// already begun keeps its columns either way.
	LineItemsContext bool
	// OnPass, when set, is told after each pass of the running exporter
	// how many documents it exported and its error (nil, ErrHeld, or the
	// failure logged as "export failed; will retry"), for readiness and
	// metrics.
	OnPass func(exported int, err error)
	// Pins holds the pinned source and move_to folders the after-actions
	// act in (see internal/safedir), shared with the sources. Nil: the
	// exporter pins each folder when it first acts in it.
	Pins *safedir.Set
}

// Exporter writes terminal documents to the output directory.
type Exporter struct {
	cfg   Config
	poke  lifecycle.Poke
	group lifecycle.Group

	mu      sync.Mutex
	actions map[string]SourceAfter // cfg.After, replaced by SetAfter
	held    map[string]error       // output files whose rows are held, and why
	pending map[int64]pendingAfter // bucket after-actions to try again, by document

	// The pass's own (one goroutine's): when this exporter was made, and
	// the result folders swept of an interrupted export's temporaries.
	born  time.Time
	swept map[string]bool
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
	if cfg.HoldRetry <= 0 {
		cfg.HoldRetry = 30 * time.Second
	}
	if cfg.HoldRetryMax < cfg.HoldRetry {
		cfg.HoldRetryMax = max(10*time.Minute, cfg.HoldRetry)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Layout.Location == nil {
		cfg.Layout.Location = time.Local
	}
	if cfg.Pins == nil {
		cfg.Pins = safedir.NewSet(cfg.Logger)
	}
	return &Exporter{cfg: cfg, poke: lifecycle.NewPoke(), actions: cfg.After, held: map[string]error{},
		pending: map[int64]pendingAfter{}, born: time.Now(), swept: map[string]bool{}}
}

// Notify wakes the exporter: documents reached a terminal outcome.
func (e *Exporter) Notify() { e.poke.Notify() }

// Start runs export passes until Stop. It returns at once.
func (e *Exporter) Start(ctx context.Context) {
	e.group.Go(ctx, func(ctx context.Context) {
		lifecycle.Loop(ctx, e.cfg.Interval, e.poke, func(ctx context.Context) {
			// A held file was logged once when it was found.
			n, err := e.RunOnce(ctx)
			if ctx.Err() != nil {
				return
			}
			if err != nil && !errors.Is(err, ErrHeld) {
				e.cfg.Logger.Error("export failed; will retry", "err", err)
			}
			if e.cfg.OnPass != nil {
				e.cfg.OnPass(n, err)
			}
		})
	})
}

// Stop waits for the current pass to end. Safe to call twice, and before
// Start.
func (e *Exporter) Stop() { e.group.Stop() }

// RunOnce exports every ready document and returns how many it exported.
func (e *Exporter) RunOnce(ctx context.Context) (int, error) {
	e.retryAfters(ctx)
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

// dayRows are a chunk's documents of one day (the day of their CSV files)
// whose JSON files are written, and their CSV rows.
type dayRows struct {
	day   string
	docs  []store.Document
	rows  [][]string // documents CSV
	items [][]string // line items CSV
}

// errUnformattable marks a document whose result the outputs cannot
// represent even without its data: it is held, never retried in a loop.
var errUnformattable = errors.New("result cannot be formatted")

// exportChunk exports docs: their JSON files first, durable together
// (see writeResults), then, day by day, their CSV rows, then the
// after-actions, then the exported mark with the CSV files' new lengths. A
// document whose own output path is unsafe (see holdable) is held instead,
// and so is every document of a day whose CSV file is: a held day's
// appended rows are not committed, so they are cut off before that file's
// next append and written again once, with its documents, when they are
// exported. Any other error (a full disk) stops the chunk; nothing of it
// is committed and the next pass does it again.
func (e *Exporter) exportChunk(ctx context.Context, docs []store.Document) (int, error) {
	written, holds, err := e.writeResults(docs)
	if err != nil {
		return 0, err
	}
	var days []*dayRows
	byDay := map[string]*dayRows{}
	for _, f := range written {
		dr := byDay[f.day]
		if dr == nil {
			dr = &dayRows{day: f.day}
			byDay[f.day] = dr
			days = append(days, dr)
		}
		dr.docs = append(dr.docs, f.sd)
		dr.rows = append(dr.rows, f.rec)
		dr.items = append(dr.items, f.items...)
	}
	explained := map[int64]bool{} // holds already logged, by document
	sizes := map[string]store.CSVFile{}
	var done []store.Document
	items := 0
	for _, dr := range days {
		daySizes, err := e.appendDay(ctx, dr)
		if holdable(err) {
			for _, sd := range dr.docs {
				holds = append(holds, store.ExportHold{ID: sd.ID, Reason: err.Error()})
				if errors.Is(err, ErrHeld) {
					explained[sd.ID] = true // hold logged the file and how to recover
				}
			}
			continue
		}
		if err != nil {
			return 0, err
		}
		maps.Copy(sizes, daySizes)
		done = append(done, dr.docs...)
		items += len(dr.items)
	}
	return e.finish(ctx, done, sizes, items, holds, explained)
}

// formatted is a document's outputs: its result file, its day and its CSV
// rows.
type formatted struct {
	sd    store.Document
	file  output.AtomicFile
	day   string
	rec   []string
	items [][]string
}

// writeResults formats docs and writes their JSON files, durable together
// (output.Layout.WriteFilesAtomic: one fsync per file and one per folder,
// not two per file), before any of their CSV rows is appended. It returns
// the documents whose files are written, and holds for those whose result
// cannot be formatted or whose output path is unsafe. Any other error
// stops the chunk.
func (e *Exporter) writeResults(docs []store.Document) ([]formatted, []store.ExportHold, error) {
	var holds []store.ExportHold
	var ok []formatted
	for _, sd := range docs {
		f, err := e.formatDocument(sd)
		if holdable(err) {
			holds = append(holds, store.ExportHold{ID: sd.ID, Reason: err.Error()})
			continue
		}
		if err != nil {
			return nil, nil, fmt.Errorf("export document %d (%s): %w", sd.ID, sd.Path, err)
		}
		ok = append(ok, f)
	}
	files := make([]output.AtomicFile, len(ok))
	for i, f := range ok {
		files[i] = f.file
		e.sweep(filepath.Dir(f.file.Path))
	}
	errs, err := e.cfg.Layout.WriteFilesAtomic(files, output.FilePerm)
	if err != nil {
		return nil, nil, err
	}
	written := ok[:0]
	for i, f := range ok {
		if err := errs[i]; holdable(err) {
			holds = append(holds, store.ExportHold{ID: f.sd.ID, Reason: err.Error()})
			continue
		} else if err != nil {
			return nil, nil, fmt.Errorf("export document %d (%s): %w", f.sd.ID, f.sd.Path, err)
		}
		written = append(written, f)
	}
	return written, holds, nil
}

// sweep removes, the first time this exporter writes into the result
// folder dir, the temporaries an export interrupted before this exporter
// was made left there (a kill -9 between writing a result and renaming
// it). Every document such an export was writing is still awaiting
// export, so its folder is swept before it is written again. A folder
// that is unsafe to write is left to the write, which holds it.
func (e *Exporter) sweep(dir string) {
	if e.swept[dir] {
		return
	}
	e.swept[dir] = true
	n, err := e.cfg.Layout.SweepTemporaries(dir, e.born)
	if n > 0 {
		e.cfg.Logger.Info("removed temporary files an interrupted export left", "folder", dir, "count", n)
	}
	if err != nil && !errors.Is(err, output.ErrUnsafePath) {
		e.cfg.Logger.Warn("cannot remove the temporary files an interrupted export left", "folder", dir, "err", err)
	}
}

// finish applies the after-actions of the exported documents done, marks
// them exported with the CSV files' sizes, and holds the documents holds.
// A hold in explained was logged already (its CSV file's ERROR line).
func (e *Exporter) finish(ctx context.Context, done []store.Document, sizes map[string]store.CSVFile, items int,
	holds []store.ExportHold, explained map[int64]bool) (int, error) {
	ids := make([]int64, 0, len(done))
	for _, sd := range done {
		e.after(ctx, sd)
		ids = append(ids, sd.ID)
	}
	if err := e.cfg.Store.MarkExported(ctx, ids, sizes); err != nil {
		return 0, err
	}
	for _, sd := range done {
		if sd.ExportError != "" {
			e.cfg.Logger.Info("held document exported", "doc", sd.ID, "path", sd.Path, "tries", sd.ExportAttempts+1)
		}
	}
	if len(ids) > 0 {
		// One line per pass: a document's own "document exported" line is
		// at debug (see the daemon's transition).
		e.cfg.Logger.Info("documents exported", "count", len(ids), "line_items", items, "held", len(holds))
		if e.cfg.OnWritten != nil {
			e.cfg.OnWritten(len(ids), len(ids), items)
		}
	}
	if len(holds) == 0 {
		return len(ids), nil
	}
	fresh, err := e.cfg.Store.HoldExport(ctx, holds, e.cfg.HoldRetry, e.cfg.HoldRetryMax)
	if err != nil {
		return len(ids), err
	}
	for _, h := range fresh {
		if explained[h.ID] {
			continue
		}
		e.cfg.Logger.Error("document held from export: its output path is unsafe; the others go on, and it is tried again with backoff",
			"doc", h.ID, "reason", h.Reason)
	}
	e.cfg.Logger.Debug("documents held from export", "count", len(holds), "new", len(fresh))
	return len(ids), nil
}

// formatDocument formats sd's result file and CSV rows.
func (e *Exporter) formatDocument(sd store.Document) (formatted, error) {
	d := toOutput(sd)
	rec, err := output.DocumentRecord(d)
	if errors.Is(err, output.ErrBadData) {
		// The API sent data the outputs cannot represent (a float for
		// money, say). The raw result stays in the store; the row says
		// what went wrong instead of blocking every later document.
		e.cfg.Logger.Error("result data unusable; exporting without extracted fields", "doc", sd.ID, "err", err)
		d.Data, d.ErrorCode, d.ErrorMessage = nil, vocab.CodeInvalidResult, err.Error()
		rec, err = output.DocumentRecord(d)
	}
	var js []byte
	var items [][]string
	if err == nil {
		items, err = output.LineItemRecordsWithContext(d)
	}
	if err == nil {
		js, err = output.MarshalJSON(d)
	}
	if err != nil {
		return formatted{}, fmt.Errorf("%w: %w", errUnformattable, err)
	}
	return formatted{sd: sd, file: output.AtomicFile{Path: e.cfg.Layout.ResultPath(d), Data: js},
		day: e.cfg.Layout.Day(d.CompletedAt), rec: rec, items: items}, nil
}

// holdable reports whether err concerns one output path rather than the
// output directory as a whole: a symbolic link or a non-regular file where
// a file or folder of the layout belongs, a folder where a file belongs, a
// file or folder the daemon may not write, or a result the outputs cannot
// represent; or a CSV file that is not the daemon's to append to (ErrHeld:
// unknown to the state database, or changed outside the daemon). Those
// documents are held; a full disk or an I/O error is not holdable and
// stops the whole pass, to be tried again.
func holdable(err error) bool {
	return err != nil && (errors.Is(err, output.ErrUnsafePath) || errors.Is(err, errUnformattable) || errors.Is(err, ErrHeld) ||
		errors.Is(err, fs.ErrPermission) || errors.Is(err, unix.EISDIR) || errors.Is(err, unix.ENOTDIR) ||
		errors.Is(err, unix.ENOTEMPTY) || errors.Is(err, unix.ENAMETOOLONG))
}

// toOutput maps a store document to what the outputs say about it.
func toOutput(d store.Document) output.Document {
	o := output.Document{
		LocalRef:     d.ClientReference,
		DocumentID:   d.DocumentID,
		Status:       d.Outcome,
		Source:       d.Path,
		SourceName:   d.Source,
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
		o.Status = d.State
	}
	if d.RetryOf != 0 {
		o.RetryOf = &output.RetryLink{ID: d.RetryOf, LocalRef: d.RetryOfReference, DocumentID: d.RetryOfDocumentID}
	}
	if d.Outcome == store.StateDuplicate {
		o.DocumentID = d.OriginalDocumentID
		o.DuplicateOf = d.OriginalPath
	}
	return o
}
