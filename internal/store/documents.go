package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/docuparse/docuparse-ingest/internal/vocab"
	"strings"
	"time"
)

// State is a document's place in the pipeline.
//
//	queued → submitting → submitted → completed | failed → exported
//	queued | submitting → rejected → exported      (refused locally or by the API)
//	(intake) → duplicate → exported                (same content already taken)
//	queued | submitting → vanished                 (file gone before upload)
//	submitted → failed (RESUBMITTED)               (stuck, retried: see Retry)
//	failed | rejected | stuck ⇒ a new queued document with retry_of
//
// "discovered" is held in memory by the source's settle step, not in the
// store: the watched folder or bucket is itself the durable record of a file
// not yet settled, and a restart lists it again.
//
// The names are the shared vocabulary's (internal/vocab, where each is
// described); the transitions are the store's. They are re-exported here
// because some sixty files name them through the store.
type State = vocab.State

// Document states: vocab's.
const (
	StateQueued     = vocab.StateQueued
	StateSubmitting = vocab.StateSubmitting
	StateSubmitted  = vocab.StateSubmitted
	StateCompleted  = vocab.StateCompleted
	StateFailed     = vocab.StateFailed
	StateRejected   = vocab.StateRejected
	StateDuplicate  = vocab.StateDuplicate
	StateVanished   = vocab.StateVanished
	StateExported   = vocab.StateExported
)

// States lists every state in pipeline order, for reports and metrics
// (vocab.States).
var States = vocab.States

// Result channels (vocab.ViaWebhook, vocab.ViaPoll), re-exported for the
// store's own use and its tests.
const (
	ViaWebhook = vocab.ViaWebhook
	ViaPoll    = vocab.ViaPoll
)

// Transition is one committed change of a document's state.
type Transition struct {
	DocID      int64
	Source     string // the source the document came from (config source name)
	Path       string
	From, To   State
	DocumentID string
	Reason     string // error code or note, when there is one

	// Set for a file taken in (queued, duplicate or rejected at intake)
	// or refused later, so that one log line can say everything about it.
	SHA256      string // its content's hash
	DuplicateOf int64  // a duplicate's original
	Message     string // a rejection's explanation
}

// Document is one file the daemon has taken responsibility for.
type Document struct {
	ID              int64
	Source          string
	Path            string
	FileName        string
	SizeBytes       int64
	ModTime         time.Time
	FileID          // device, inode and ctime it was taken in with; zero: unknown
	SHA256          string
	State           State
	Outcome         State // terminal outcome once known; kept after export
	ClientReference string
	BatchID         int64
	APIBatchID      string
	Solo            bool
	DocumentID      string
	DuplicateOf     int64
	// RetryOf is the local id of the document this one retries (the
	// retry command's link, column retry_of); 0 for a first attempt.
	RetryOf      int64
	DiscoveredAt time.Time
	SubmittedAt  time.Time
	CompletedAt  time.Time
	ResultVia    string
	Result       json.RawMessage
	APITimestamp string
	ErrorCode    string
	ErrorMessage string
	ExportedAt   time.Time
	PollCount    int // polls made while waiting for a result
	// ExportError says why the exporter holds the document (its output
	// path is unsafe); empty when it is not held. ExportAttempts counts
	// the failed tries, NextExportAt is when it is tried again.
	ExportError    string
	ExportAttempts int
	NextExportAt   time.Time

	// Filled for duplicates by ExportCandidates: the original's API id,
	// path and outcome (empty while it has none).
	OriginalDocumentID string
	OriginalPath       string
	OriginalOutcome    State

	// Filled for retries by ExportCandidates: the retried document's
	// client reference and API id ("" when it had none).
	RetryOfReference  string
	RetryOfDocumentID string
}

const docColumns = `d.id, d.source, d.path, d.file_name, d.size_bytes, d.mtime, d.sha256, d.state,
	d.outcome, d.client_reference, d.batch_id, b.api_batch_id, d.solo, d.document_id, d.duplicate_of,
	d.discovered_at, d.submitted_at, d.completed_at, d.result_via, (SELECT res.data FROM results res WHERE res.doc_id = d.id), d.api_timestamp,
	d.error_code, d.error_message, d.exported_at, d.poll_count,
	d.export_error, d.export_attempts, d.next_export_at, d.dev, d.inode, d.ctime, d.retry_of, d.version`

const docFrom = ` FROM documents d LEFT JOIN batches b ON b.id = d.batch_id `

type rowScanner interface{ Scan(...any) error }

func scanDocument(sc rowScanner, extra ...any) (*Document, error) {
	var (
		d                                                       Document
		mtime, discovered                                       string
		outcome, apiBatch, docID, via, result, apiTS, code, msg sql.NullString
		submitted, completed, exported                          sql.NullString
		exportErr, nextExport, ctime, version                   sql.NullString
		batchID, dupOf, dev, inode, retryOf                     sql.NullInt64
		solo                                                    int
	)
	dest := []any{&d.ID, &d.Source, &d.Path, &d.FileName, &d.SizeBytes, &mtime, &d.SHA256, &d.State,
		&outcome, &d.ClientReference, &batchID, &apiBatch, &solo, &docID, &dupOf,
		&discovered, &submitted, &completed, &via, &result, &apiTS, &code, &msg, &exported, &d.PollCount,
		&exportErr, &d.ExportAttempts, &nextExport, &dev, &inode, &ctime, &retryOf, &version}
	if err := sc.Scan(append(dest, extra...)...); err != nil {
		return nil, err
	}
	d.ModTime = parseTime(sql.NullString{String: mtime, Valid: true})
	d.DiscoveredAt = parseTime(sql.NullString{String: discovered, Valid: true})
	d.Outcome = State(outcome.String)
	d.BatchID = batchID.Int64
	d.APIBatchID = apiBatch.String
	d.Solo = solo != 0
	d.DocumentID = docID.String
	d.DuplicateOf = dupOf.Int64
	d.RetryOf = retryOf.Int64
	d.SubmittedAt = parseTime(submitted)
	d.CompletedAt = parseTime(completed)
	d.ResultVia = via.String
	if result.Valid {
		d.Result = json.RawMessage(result.String)
	}
	d.APITimestamp = apiTS.String
	d.ErrorCode = code.String
	d.ErrorMessage = msg.String
	d.ExportedAt = parseTime(exported)
	d.ExportError = exportErr.String
	d.NextExportAt = parseTime(nextExport)
	d.FileID = scanFileID(dev, inode, ctime, version)
	return &d, nil
}

func queryDocuments(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, where string, args ...any) ([]Document, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+docColumns+docFrom+where, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Document
	for rows.Next() {
		d, err := scanDocument(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *d)
	}
	return out, rows.Err()
}

// Get returns the document with local id id, or ErrNotFound.
func (s *Store) Get(ctx context.Context, id int64) (*Document, error) {
	return s.getOne(ctx, `WHERE d.id = ?`, id)
}

// GetByDocumentID returns the document the API knows as documentID.
func (s *Store) GetByDocumentID(ctx context.Context, documentID string) (*Document, error) {
	return s.getOne(ctx, `WHERE d.document_id = ?`, documentID)
}

// getOne returns the one document where (a "WHERE …" clause on key)
// selects, or ErrNotFound; its errors name the document by key.
func (s *Store) getOne(ctx context.Context, where string, key any) (*Document, error) {
	docs, err := queryDocuments(ctx, s.r, where, key)
	if err != nil {
		return nil, fmt.Errorf("get document %v: %w", key, err)
	}
	if len(docs) == 0 {
		return nil, fmt.Errorf("get document %v: %w", key, ErrNotFound)
	}
	return &docs[0], nil
}

// Documents returns the documents in state st (all states when empty),
// oldest first, at most limit (0 = no limit).
func (s *Store) Documents(ctx context.Context, st State, limit int) ([]Document, error) {
	where, args := `WHERE 1 = 1`, []any{}
	if st != "" {
		where, args = `WHERE d.state = ?`, append(args, st)
	}
	where += ` ORDER BY d.id`
	if limit > 0 {
		where += fmt.Sprintf(` LIMIT %d`, limit)
	}
	docs, err := queryDocuments(ctx, preparedReads{s}, where, args...)
	if err != nil {
		return nil, fmt.Errorf("list %s documents: %w", st, err)
	}
	return docs, nil
}

// Known reports whether the newest document recorded for source/path has
// this size and modification time and is the same file (device, inode and
// change time, where both sides know them): the file was already taken in,
// so a rescan need not hash it again. A different file copied over with the
// same size and mtime is not known.
func (s *Store) Known(ctx context.Context, source, path string, size int64, mtime time.Time, id FileID) (bool, error) {
	var (
		gotSize              int64
		gotMtime             string
		dev, inode           sql.NullInt64
		gotCtime, gotVersion sql.NullString
	)
	// A vanished document does not make its path known: a file that comes
	// back unchanged (moved away and back, cp -p) is taken in again.
	err := s.r.QueryRowContext(ctx, `SELECT size_bytes, mtime, dev, inode, ctime, version FROM documents WHERE source = ? AND path = ? AND state <> 'vanished'
		ORDER BY id DESC LIMIT 1`, source, path).Scan(&gotSize, &gotMtime, &dev, &inode, &gotCtime, &gotVersion)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("look up %s: %w", path, err)
	}
	return gotSize == size && gotMtime == formatTime(mtime) && scanFileID(dev, inode, gotCtime, gotVersion).Same(id), nil
}

// FileID tells one file from another with the same size and modification
// time: for a file in a folder, its device, inode and change time (ctime),
// which a file written again (cp -p, rsync -t, unzip) cannot keep; for a
// bucket object, its version (ETag, GCS generation or MD5, see
// internal/bucket). The zero value is unknown.
type FileID struct {
	Dev, Inode uint64
	ChangeTime time.Time
	Version    string // a bucket object's version; empty for files
}

// Known reports whether the identity was recorded.
func (f FileID) Known() bool { return f.Inode != 0 || f.Dev != 0 || f.Version != "" }

// Same reports whether f and o name the same file as it was: equal when
// both are known (change times at the store's microsecond precision), and
// true when either is unknown — then size and mtime decide alone.
func (f FileID) Same(o FileID) bool {
	if !f.Known() || !o.Known() {
		return true
	}
	return f.Dev == o.Dev && f.Inode == o.Inode && formatTime(f.ChangeTime) == formatTime(o.ChangeTime) && f.Version == o.Version
}

// fileIDArgs returns f as the dev, inode, ctime and version columns (NULL
// unknown).
func fileIDArgs(f FileID) (dev, inode, ctime, version any) {
	if f.Version != "" {
		version = f.Version
	}
	if f.Inode == 0 && f.Dev == 0 {
		return nil, nil, nil, version
	}
	return int64(f.Dev), int64(f.Inode), formatTime(f.ChangeTime), version
}

func scanFileID(dev, inode sql.NullInt64, ctime, version sql.NullString) FileID {
	var f FileID
	if dev.Valid && inode.Valid {
		f = FileID{Dev: uint64(dev.Int64), Inode: uint64(inode.Int64), ChangeTime: parseTime(ctime)}
	}
	f.Version = version.String
	return f
}

// NewFile describes a settled file handed to the store by intake.
type NewFile struct {
	Source   string
	Path     string
	FileName string
	Size     int64
	ModTime  time.Time
	FileID          // device, inode and ctime; zero when unknown
	SHA256   string // empty when the file could not be read
	Dedupe   bool   // same content as an earlier original → duplicate
}

// IntakeResult says what the store made of a new file.
type IntakeResult struct {
	ID          int64
	State       State // queued, duplicate, rejected; or "" when Known
	Known       bool  // same path and content as a document already recorded
	DuplicateOf int64
}

// Intake records a settled, hashed file in one transaction: nothing new when
// the same path already has this content (its stat is refreshed), a
// duplicate when dedupe is on and an original with this content exists,
// otherwise a queued document.
func (s *Store) Intake(ctx context.Context, f NewFile) (IntakeResult, error) {
	res, err := s.IntakeMany(ctx, []NewFile{f})
	if err != nil {
		return IntakeResult{}, err
	}
	return res[0], nil
}

// IntakeMany records several settled, hashed files in one transaction —
// one fsync for all of them — each as Intake would, in order: a file sees
// the ones before it (a second copy of a content in the group is a
// duplicate of the first; the same path twice is known the second time).
// All or nothing: on an error no file of the group is recorded.
func (s *Store) IntakeMany(ctx context.Context, files []NewFile) ([]IntakeResult, error) {
	if len(files) == 0 {
		return nil, nil
	}
	results := make([]IntakeResult, len(files))
	var trs []Transition
	failed := -1 // the file whose recording failed, if one did
	err := s.tx(ctx, func(tx *sql.Tx) error {
		trs = trs[:0]
		for i, f := range files {
			res, tr, err := s.intakeTx(ctx, tx, f)
			if err != nil {
				failed = i
				return err
			}
			results[i] = res
			if tr != nil {
				trs = append(trs, *tr)
			}
		}
		return nil
	})
	if err != nil {
		if failed < 0 && len(files) > 1 { // BEGIN or COMMIT
			return nil, fmt.Errorf("intake of %d files: %w", len(files), err)
		}
		return nil, fmt.Errorf("intake %s: %w", files[max(failed, 0)].Path, err)
	}
	s.notify(trs)
	return results, nil
}

// intakeTx records one file inside tx (see Intake) and returns the
// transition it made, if any.
func (s *Store) intakeTx(ctx context.Context, tx *sql.Tx, f NewFile) (IntakeResult, *Transition, error) {
	var (
		id  int64
		sha string
	)
	// A vanished document does not count: the file that is back (or
	// was only touched) is taken in again.
	err := s.queryRowTx(ctx, tx, qLatestAtPath, f.Source, f.Path).Scan(&id, &sha)
	switch {
	case err == nil && sha == f.SHA256 && sha != "":
		return IntakeResult{ID: id, Known: true}, nil, s.refreshStat(ctx, tx, id, f)
	case err != nil && !errors.Is(err, sql.ErrNoRows):
		return IntakeResult{}, nil, err
	}
	state := StateQueued
	var dupOf sql.NullInt64
	if f.Dedupe {
		err := s.queryRowTx(ctx, tx, qDuplicateOf, f.SHA256).Scan(&dupOf)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return IntakeResult{}, nil, err
		}
		if dupOf.Valid {
			state = StateDuplicate
		}
	}
	id, err = s.insertDocument(ctx, tx, f, state, dupOf, "", "")
	if err != nil {
		return IntakeResult{}, nil, err
	}
	return IntakeResult{ID: id, State: state, DuplicateOf: dupOf.Int64},
		&Transition{DocID: id, Path: f.Path, To: state, Source: f.Source, SHA256: f.SHA256, DuplicateOf: dupOf.Int64}, nil
}

// Reject records a file refused before it was queued (too large, not a
// supported type, unreadable, empty) as a rejected document.
//
// A file refused before for the same reason (touched since, so its stat
// changed) keeps its one rejected document: its stat is refreshed and its
// id returned, with no new row.
func (s *Store) Reject(ctx context.Context, f NewFile, code, message string) (int64, error) {
	var id int64
	var inserted bool
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var prevCode sql.NullString
		var outcome sql.NullString
		err := tx.QueryRowContext(ctx, `SELECT id, outcome, error_code FROM documents WHERE source = ? AND path = ? AND state <> 'vanished'
			ORDER BY id DESC LIMIT 1`, f.Source, f.Path).Scan(&id, &outcome, &prevCode)
		switch {
		case err == nil && outcome.String == string(StateRejected) && prevCode.String == code:
			return s.refreshStat(ctx, tx, id, f)
		case err != nil && !errors.Is(err, sql.ErrNoRows):
			return err
		}
		id, err = s.insertDocument(ctx, tx, f, StateRejected, sql.NullInt64{}, code, message)
		inserted = err == nil
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("reject %s: %w", f.Path, err)
	}
	if inserted {
		s.notify([]Transition{{DocID: id, Path: f.Path, To: StateRejected, Reason: code, Source: f.Source, SHA256: f.SHA256, Message: message}})
	}
	return id, nil
}

// refreshStat records a known file's current stat (touched, or saved again
// with the same content) on its document.
func (s *Store) refreshStat(ctx context.Context, tx *sql.Tx, id int64, f NewFile) error {
	dev, inode, ctime, version := fileIDArgs(f.FileID)
	_, err := s.execTx(ctx, tx, qRefreshStat,
		f.Size, formatTime(f.ModTime), dev, inode, ctime, version, s.now(), id)
	return err
}

func (s *Store) insertDocument(ctx context.Context, tx *sql.Tx, f NewFile, state State, dupOf sql.NullInt64, code, msg string) (int64, error) {
	now := s.now()
	var outcome, completed sql.NullString
	if state == StateDuplicate || state == StateRejected {
		outcome = nullString(string(state))
		completed = nullString(now)
	}
	// The reference is made unique by a random part first and rewritten to
	// carry the row id once the id is known, in the same transaction.
	tmpRef := "tmp-" + randomHex(12)
	dev, inode, ctime, version := fileIDArgs(f.FileID)
	r, err := s.execTx(ctx, tx, qInsertDocument,
		f.Source, f.Path, f.FileName, f.Size, formatTime(f.ModTime), f.SHA256, state, outcome, tmpRef,
		dupOf, now, completed, nullString(code), nullString(msg), now, dev, inode, ctime, version)
	if err != nil {
		return 0, err
	}
	id, err := r.LastInsertId()
	if err != nil {
		return 0, err
	}
	_, err = s.execTx(ctx, tx, qSetReference,
		fmt.Sprintf("dpi-%s-%d", s.installID, id), id)
	return id, err
}

// OldestQueued returns when the oldest queued document was discovered, and
// false when nothing is queued.
func (s *Store) OldestQueued(ctx context.Context) (time.Time, bool, error) {
	var v sql.NullString
	err := s.r.QueryRowContext(ctx, `SELECT MIN(discovered_at) FROM documents WHERE state = 'queued'`).Scan(&v)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("oldest queued: %w", err)
	}
	return parseTime(v), v.Valid, nil
}

func (s *Store) notify(trs []Transition) {
	if s.opts.OnTransition == nil {
		return
	}
	for _, t := range trs {
		s.opts.OnTransition(t)
	}
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

func int64Args(ids []int64) []any {
	out := make([]any, len(ids))
	for i, id := range ids {
		out[i] = id
	}
	return out
}
