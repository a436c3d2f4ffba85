package ingest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/docuparse"
	"github.com/docuparse/docuparse-ingest/internal/lifecycle"
	"github.com/docuparse/docuparse-ingest/internal/safedir"
	"github.com/docuparse/docuparse-ingest/internal/store"
	"github.com/docuparse/docuparse-ingest/internal/vocab"
)

// SupportedExtensions are the file types the API documents (PDF and CSV).
var SupportedExtensions = []string{".pdf", ".csv"}

// IntakeConfig configures an Intake.
type IntakeConfig struct {
	Store IntakeStore
	// Sources holds each source's intake policy, by source name. A source
	// missing from it has the zero policy with the default EmptyWait.
	Sources map[string]SourcePolicy
	// MaxFileSize refuses larger files without reading them. Defaults to
	// the API's documented 10 MB.
	MaxFileSize int64
	// Roots confines reading to each source's folder. Nil confines each
	// file to its own directory.
	Roots *Roots
	// RetryMin and RetryMax bound the wait before a file whose recording
	// failed (the state store locked, full or failing) is taken again; the
	// wait doubles with each failure of the same file. Default to 1 second
	// and 30 seconds.
	RetryMin, RetryMax time.Duration
	Logger             *slog.Logger
	// FirstListings, when set, is waited for once, after intake's first
	// full group (see FirstListings). Nil: intake never waits.
	FirstListings *FirstListings
}

// DefaultEmptyWait is how long an empty file is given to receive content
// before it is rejected as EMPTY_FILE.
const DefaultEmptyWait = 10 * time.Minute

// SourcePolicy is what intake does with one source's files.
type SourcePolicy struct {
	// Dedupe: same content as an earlier original becomes a duplicate row
	// instead of an upload.
	Dedupe bool
	// EmptyWait is how long an empty file may stay empty before it is
	// rejected as EMPTY_FILE: a placeholder created first and filled later
	// (by a scanner, a download, an editor) is one document, not an
	// EMPTY_FILE row and then another. Defaults to DefaultEmptyWait.
	EmptyWait time.Duration
}

// Intake turns settled candidates into store records: it hashes each file,
// refuses what the API would refuse anyway, and records the rest as queued
// (or duplicate).
//
// A source hands a file over once; a file counts as taken only when the
// store has committed its row. Until then Intake holds it and takes it
// again with backoff, so a store that is locked, full or failing for a
// while delays files but loses none.
type Intake struct {
	cfg   IntakeConfig
	in    <-chan Candidate
	group lifecycle.Group

	mu      sync.Mutex
	sources map[string]SourcePolicy // cfg.Sources, replaced by SetSources

	// Owned by the run goroutine.
	held    map[heldKey]*heldFile // files the store could not record, or read, yet
	empty   map[heldKey]*heldFile // empty files given time to be filled
	nheld   atomic.Int64          // len(held), for Held
	reasons [3]int                // held files by holdReason

	heldForListings bool   // holdForFirstListings ran
	holding         func() // tests: called when intake starts waiting for the first listings
}

// heldKey names a file held for another attempt.
type heldKey struct{ source, path string }

// heldFile is a candidate whose recording failed: the newest one offered
// for its path, when to try it again, the wait after that, and why.
type heldFile struct {
	c      Candidate
	due    time.Time // monotonic: from time.Now
	wait   time.Duration
	reason holdReason
}

// holdReason is why intake holds a file.
type holdReason int

const (
	holdStore  holdReason = iota // the store could not record it
	holdRead                     // it could not be read, for a temporary reason
	holdFolder                   // its source folder was replaced (safedir.ErrReplaced)
)

// holdLogs are what countHeld says, per holdReason, when the first file is
// held for it (at ERROR) and when the last one is taken (at INFO).
var holdLogs = [...]struct{ held, taken string }{
	holdStore: {
		held:  "cannot record files in the state store; holding them and trying again",
		taken: "the state store records files again; every file held for it is taken",
	},
	holdRead: {
		held:  "cannot read files for now (a temporary error, not the files' fault); holding them and trying again",
		taken: "files can be read again; every file held for a temporary error is taken",
	},
	holdFolder: {
		held:  "a source folder was replaced; its files are held and taken once it is back (or a reload accepts the new folder)",
		taken: "the source folders are back; every file held for them is taken",
	},
}

// SetSources replaces the per-source policies (a reload).
func (in *Intake) SetSources(sources map[string]SourcePolicy) {
	in.mu.Lock()
	in.sources = sources
	in.mu.Unlock()
}

func (in *Intake) policy(source string) SourcePolicy {
	in.mu.Lock()
	defer in.mu.Unlock()
	p := in.sources[source]
	if p.EmptyWait <= 0 {
		p.EmptyWait = DefaultEmptyWait
	}
	return p
}

// NewIntake returns an Intake reading candidates from in.
func NewIntake(cfg IntakeConfig, in <-chan Candidate) *Intake {
	if cfg.MaxFileSize <= 0 {
		cfg.MaxFileSize = docuparse.MaxFileBytes
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.RetryMin <= 0 {
		cfg.RetryMin = time.Second
	}
	if cfg.RetryMax < cfg.RetryMin {
		cfg.RetryMax = max(30*time.Second, cfg.RetryMin)
	}
	return &Intake{cfg: cfg, in: in, sources: cfg.Sources,
		held: make(map[heldKey]*heldFile), empty: make(map[heldKey]*heldFile)}
}

// Start begins consuming candidates and returns at once.
func (in *Intake) Start(ctx context.Context) { in.group.Go(ctx, in.run) }

// Held returns how many files are waiting to be taken again because the
// store could not record them, or they could not be read for a temporary
// reason (see temporary).
func (in *Intake) Held() int { return int(in.nheld.Load()) }

func (in *Intake) run(ctx context.Context) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		var due <-chan time.Time
		if next, ok := in.nextDue(); ok {
			timer.Reset(max(time.Until(next), 0))
			due = timer.C
		}
		select {
		case <-ctx.Done():
			return
		case c := <-in.in:
			group := in.gather(c)
			in.attemptGroup(ctx, group, false)
			if len(group) == maxIntakeGroup {
				in.holdForFirstListings(ctx)
			}
		case <-due:
			now := time.Now()
			for _, h := range in.held {
				if ctx.Err() == nil && !h.due.After(now) {
					in.attempt(ctx, h.c, false)
				}
			}
			for k, h := range in.empty {
				if ctx.Err() == nil && !h.due.After(now) {
					delete(in.empty, k)
					in.emptyDue(ctx, k, h)
				}
			}
		}
	}
}

// maxIntakeGroup bounds how many files one intake transaction records,
// and maxIntakeGroupBytes how much they hold together: every file of a
// group is read (hashed) before the first is recorded.
const (
	maxIntakeGroup      = 256
	maxIntakeGroupBytes = 32 << 20
)

// gather returns first and the candidates already waiting behind it, up to
// maxIntakeGroup files and maxIntakeGroupBytes: a folder found full at
// start is recorded many files per transaction (one fsync for all), while
// a lone file never waits for company.
func (in *Intake) gather(first Candidate) []Candidate {
	group, size := []Candidate{first}, first.Size
	for len(group) < maxIntakeGroup && size < maxIntakeGroupBytes {
		select {
		case c := <-in.in:
			group, size = append(group, c), size+c.Size
		default:
			return group
		}
	}
	return group
}

// attemptGroup takes each candidate, or holds it for another attempt,
// recording the files to queue in one transaction (store.IntakeMany).
// When a group's transaction fails, each file is recorded alone, so that a
// failure holds only the files it concerns. emptyDue says an empty
// candidate has had its time to be filled.
func (in *Intake) attemptGroup(ctx context.Context, cands []Candidate, emptyDue bool) {
	known, errs := in.lookUp(ctx, cands)
	var files []store.NewFile
	var at []int
	for i, c := range cands {
		if errs[i] != nil || known[i] {
			continue
		}
		f, err := in.prepare(ctx, c, emptyDue)
		if err != nil || f == nil {
			errs[i] = err
			continue
		}
		files, at = append(files, *f), append(at, i)
	}
	if len(files) > 0 {
		_, err := in.cfg.Store.IntakeMany(ctx, files)
		switch {
		case err == nil:
		case len(files) == 1:
			errs[at[0]] = err
		default:
			in.cfg.Logger.Debug("recording files together failed; recording each alone", "files", len(files), "err", err)
			for k, i := range at {
				_, errs[i] = in.cfg.Store.Intake(ctx, files[k])
			}
		}
	}
	// In candidate order, as one by one: a filled sighting forgets the
	// empty wait an earlier sighting of its path in the group set.
	for i, c := range cands {
		in.sighted(c)
		in.settle(ctx, c, errs[i])
	}
}

// attempt is attemptGroup of c alone.
func (in *Intake) attempt(ctx context.Context, c Candidate, emptyDue bool) {
	in.attemptGroup(ctx, []Candidate{c}, emptyDue)
}

// sighted forgets an empty sighting of c's path once c has content: this
// sighting replaces it.
func (in *Intake) sighted(c Candidate) {
	if c.Size > 0 {
		delete(in.empty, heldKey{c.Source, c.Path})
	}
}

// settle decides after an attempt to take c that ended with err: taken,
// given time to be filled (empty), or held for another attempt.
func (in *Intake) settle(ctx context.Context, c Candidate, err error) {
	k := heldKey{c.Source, c.Path}
	if ctx.Err() != nil {
		return // stopping: a restart lists the file again
	}
	var wait errEmptyWait
	if errors.As(err, &wait) {
		if _, ok := in.empty[k]; !ok {
			in.cfg.Logger.Info("file is empty; waiting for its content", "path", c.Path, "for", wait.left.Round(time.Second))
		}
		in.empty[k] = &heldFile{c: c, due: time.Now().Add(wait.left)}
		err = nil
	}
	h, wasHeld := in.held[k]
	if err == nil {
		if wasHeld {
			in.release(k)
		}
		return
	}
	reason := holdStore
	if errors.As(err, new(errReadLater)) {
		reason = holdRead
		if errors.Is(err, safedir.ErrReplaced) {
			reason = holdFolder
		}
	}
	if !wasHeld {
		h = &heldFile{wait: in.cfg.RetryMin, reason: reason}
		in.held[k] = h
		in.nheld.Add(1)
		in.countHeld(reason, 1, c.Path, err)
	} else if h.reason != reason {
		in.countHeld(h.reason, -1, "", nil)
		h.reason = reason
		in.countHeld(reason, 1, c.Path, err)
	}
	in.cfg.Logger.Debug("intake failed; will try again", "path", c.Path, "in", h.wait, "err", err)
	h.c, h.due = c, time.Now().Add(h.wait)
	h.wait = min(2*h.wait, in.cfg.RetryMax)
}

// release forgets a held file that is now taken.
func (in *Intake) release(k heldKey) {
	h := in.held[k]
	delete(in.held, k)
	// Logged before Held drops: whoever sees Held() == 0 finds the line
	// that says the holding ended.
	in.countHeld(h.reason, -1, "", nil)
	in.nheld.Add(-1)
}

// countHeld counts a file held for reason (delta 1) or no longer (-1), and
// says so when the first file is held for it (with that file's path and
// error) and when the last one is taken: once each, however many files
// and attempts there are in between.
func (in *Intake) countHeld(reason holdReason, delta int, path string, err error) {
	in.reasons[reason] += delta
	switch n := in.reasons[reason]; {
	case delta > 0 && n == 1:
		in.cfg.Logger.Error(holdLogs[reason].held, "path", path, "err", err)
	case delta < 0 && n == 0:
		in.cfg.Logger.Info(holdLogs[reason].taken)
	}
}

// emptyDue decides on a file that was empty when it settled and has had
// its time to be filled: still empty and untouched, it is rejected once;
// otherwise the source offers its new state (or nothing, if it is gone).
//
// A temporary error, or its folder replaced (see heldBack), says nothing
// about the file: it is looked at again with backoff, and never rejected
// or dropped on it.
func (in *Intake) emptyDue(ctx context.Context, k heldKey, h *heldFile) {
	c := h.c
	sig, err := in.cfg.Roots.stat(c.Source, c.Path)
	if heldBack(err) {
		if h.wait == 0 {
			in.cfg.Logger.Warn("cannot look at an empty file for now (a temporary error, not the file's fault); looking again",
				"path", c.Path, "err", err)
			h.wait = in.cfg.RetryMin
		}
		h.due = time.Now().Add(h.wait)
		h.wait = min(2*h.wait, in.cfg.RetryMax)
		in.empty[k] = h
		return
	}
	if err != nil || sig.size != 0 || !sameTime(sig.mtime, c.ModTime) || !sig.id.Same(c.FileID) {
		return
	}
	in.attempt(ctx, c, true)
}

// nextDue returns when the earliest held or empty file is due.
func (in *Intake) nextDue() (time.Time, bool) {
	var next time.Time
	for _, m := range []map[heldKey]*heldFile{in.held, in.empty} {
		for _, h := range m {
			if next.IsZero() || h.due.Before(next) {
				next = h.due
			}
		}
	}
	return next, !next.IsZero()
}

// errReadLater: the file could not be read for a temporary reason, or its
// folder was replaced (see heldBack); intake holds it and takes it again
// with backoff.
type errReadLater struct{ err error }

func (e errReadLater) Error() string { return "temporarily unreadable: " + e.err.Error() }
func (e errReadLater) Unwrap() error { return e.err }

// errEmptyWait: the file is empty and has time left to be filled.
type errEmptyWait struct{ left time.Duration }

func (e errEmptyWait) Error() string {
	return fmt.Sprintf("file is empty; waiting %s for its content", e.left)
}

// Stop waits for the current file to be recorded. Safe to call twice, and
// before Start.
func (in *Intake) Stop() { in.group.Stop() }

// Take records one candidate. A file already recorded with the same size
// and modification time is skipped without reading it. An empty file whose
// modification time is more recent than its source's EmptyWait is not
// recorded yet: Take returns an error saying how long it has left (the
// running Intake waits that long, then rejects it if it is still empty).
func (in *Intake) Take(ctx context.Context, c Candidate) error {
	if known, errs := in.lookUp(ctx, []Candidate{c}); errs[0] != nil || known[0] {
		return errs[0]
	}
	f, err := in.prepare(ctx, c, false)
	if err != nil || f == nil {
		return err
	}
	// The store's transition says what became of the file (the daemon
	// logs it, once, with the hash and the original of a duplicate, and
	// wakes the submitter or the exporter from it).
	_, err = in.cfg.Store.Intake(ctx, *f)
	return err
}

// lookUp reports, in known, each candidate already taken in (same source, path,
// size, modification time and identity, see store.Known), asking the store
// once per source of the group (store.KnownMany) rather than once per file:
// at start, a folder found full is looked up 256 files per query. errs[i]
// is the lookup's error for cands[i], which holds the file like any store
// error.
func (in *Intake) lookUp(ctx context.Context, cands []Candidate) (known []bool, errs []error) {
	known, errs = make([]bool, len(cands)), make([]error, len(cands))
	bySource := map[string][]int{}
	for i, c := range cands {
		bySource[c.Source] = append(bySource[c.Source], i)
	}
	for source, at := range bySource {
		files := make([]store.KnownFile, len(at))
		for k, i := range at {
			c := cands[i]
			files[k] = store.KnownFile{Path: c.Path, Size: c.Size, ModTime: c.ModTime, FileID: c.FileID}
		}
		got, err := in.cfg.Store.KnownMany(ctx, source, files)
		for k, i := range at {
			errs[i] = err
			known[i] = err == nil && got[k]
		}
	}
	return known, errs
}

// prepare does all of taking c, a candidate not known (see lookUp), but
// recording it: whether it is refused (recorded rejected here), gone or
// changed, and its hash. It returns the file to record as queued (or
// duplicate), or nil with nothing left to do, or the error that holds it.
func (in *Intake) prepare(ctx context.Context, c Candidate, emptyDue bool) (*store.NewFile, error) {
	pol := in.policy(c.Source)
	code, msg := in.refuse(c, pol)
	if code == vocab.CodeEmptyFile && !emptyDue {
		// Wall-clock age of the file, so that a restart does not start the
		// wait over; bounded to [0, EmptyWait] against clock steps.
		if left := pol.EmptyWait - max(time.Since(c.emptySince()), 0); left > 0 {
			return nil, errEmptyWait{left: min(left, pol.EmptyWait)}
		}
	}
	f := store.NewFile{Source: c.Source, Path: c.Path, FileName: c.Name, Size: c.Size, ModTime: c.ModTime,
		FileID: c.FileID, Dedupe: pol.Dedupe}
	if code != "" {
		return nil, in.reject(ctx, f, code, msg)
	}
	sum, err := in.cfg.Roots.hashFile(c)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		// Gone before we took responsibility for it: nothing to account for.
		in.cfg.Logger.Debug("file vanished before intake", "path", c.Path)
		return nil, nil
	case errors.Is(err, errChanged):
		// Still being written; the source emits it again once it settles.
		return nil, nil
	case heldBack(err):
		// Descriptors, memory, an I/O error, or the source folder replaced
		// (logged once by its pin; nothing is read through it): the host's
		// state, not the file's. Held and taken again once it passes,
		// never rejected nor dropped: the source, which has handed the
		// file over, does not offer it again.
		return nil, errReadLater{err}
	case err != nil:
		return nil, in.reject(ctx, f, unreadableCode(err), err.Error())
	}
	f.SHA256 = sum
	return &f, nil
}

func (in *Intake) reject(ctx context.Context, f store.NewFile, code, msg string) error {
	// Logged once, by the store's transition, with code and message.
	_, err := in.cfg.Store.Reject(ctx, f, code, msg)
	return err
}

// refuse returns the code and reason for a file the API would refuse.
func (in *Intake) refuse(c Candidate, pol SourcePolicy) (string, string) {
	ext := strings.ToLower(filepath.Ext(c.Name))
	supported := false
	for _, e := range SupportedExtensions {
		supported = supported || ext == e
	}
	switch {
	case !supported:
		return vocab.CodeUnsupportedMedia, fmt.Sprintf("file type %q is not supported (PDF and CSV only)", ext)
	case c.Size > in.cfg.MaxFileSize:
		return vocab.CodeFileTooLarge, fmt.Sprintf("file is %d bytes; the limit is %d", c.Size, in.cfg.MaxFileSize)
	case c.Size == 0:
		return vocab.CodeEmptyFile, fmt.Sprintf("file is empty, and stayed empty for %s", pol.EmptyWait)
	}
	return "", ""
}

// errChanged means a file no longer has the size and modification time it
// was recorded (or settled) with.
var errChanged = errors.New("file changed since it settled")

// hashFile returns the hex SHA-256 of the file, checking that it still has
// the candidate's size, modification time and identity.
func (r *Roots) hashFile(c Candidate) (string, error) {
	if b := r.bucketOf(c.Source); b != nil {
		return hashObject(b, c)
	}
	f, err := r.openUnchanged(c.Source, c.Path, c.Size, c.ModTime, c.FileID)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", fmt.Errorf("read %s: %w", c.Path, err)
	}
	if n != c.Size {
		return "", errChanged
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
