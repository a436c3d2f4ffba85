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

	"github.com/docuparse/docuparse-ingest/internal/docuparse"
	"github.com/docuparse/docuparse-ingest/internal/lifecycle"
	"github.com/docuparse/docuparse-ingest/internal/store"
)

// Local refusal codes, used in error_code of rejected rows. They mirror the
// API's codes where one exists, so a report groups them together.
const (
	CodeFileTooLarge     = docuparse.CodeFileTooLarge
	CodeUnsupportedMedia = docuparse.CodeUnsupportedMedia
	CodeEmptyFile        = "EMPTY_FILE"
	CodeUnreadable       = store.CodeUnreadable
)

// SupportedExtensions are the file types the API documents (PDF and CSV).
var SupportedExtensions = []string{".pdf", ".csv"}

// IntakeConfig configures an Intake.
type IntakeConfig struct {
	Store *store.Store
	// Dedupe per source name: same content as an earlier original becomes a
	// duplicate row instead of an upload.
	Dedupe map[string]bool
	// MaxFileSize refuses larger files without reading them. Defaults to
	// the API's documented 10 MB.
	MaxFileSize int64
	// Roots confines reading to each source's folder. Nil confines each
	// file to its own directory.
	Roots *Roots
	// OnQueued is called after a document is queued (to wake the batcher).
	OnQueued func()
	// OnDone is called after a document reaches a terminal outcome at intake
	// (duplicate or rejected: ready to export).
	OnDone func()
	Logger *slog.Logger
}

// Intake turns settled candidates into store records: it hashes each file,
// refuses what the API would refuse anyway, and records the rest as queued
// (or duplicate).
type Intake struct {
	cfg   IntakeConfig
	in    <-chan Candidate
	group lifecycle.Group

	mu     sync.Mutex
	dedupe map[string]bool // cfg.Dedupe, replaced by SetDedupe
}

// SetDedupe replaces the per-source dedupe setting (a reload).
func (in *Intake) SetDedupe(dedupe map[string]bool) {
	in.mu.Lock()
	in.dedupe = dedupe
	in.mu.Unlock()
}

// NewIntake returns an Intake reading candidates from in.
func NewIntake(cfg IntakeConfig, in <-chan Candidate) *Intake {
	if cfg.MaxFileSize <= 0 {
		cfg.MaxFileSize = docuparse.MaxFileBytes
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Intake{cfg: cfg, in: in, dedupe: cfg.Dedupe}
}

// Start begins consuming candidates and returns at once.
func (in *Intake) Start(ctx context.Context) {
	in.group.Go(ctx, func(ctx context.Context) {
		for {
			select {
			case <-ctx.Done():
				return
			case c := <-in.in:
				if err := in.Take(ctx, c); err != nil && ctx.Err() == nil {
					// The file stays in the folder: the next rescan offers
					// it again, so a store hiccup loses nothing.
					in.cfg.Logger.Error("intake failed; will retry on the next scan", "path", c.Path, "err", err)
				}
			}
		}
	})
}

// Stop waits for the current file to be recorded. Safe to call twice, and
// before Start.
func (in *Intake) Stop() { in.group.Stop() }

// Take records one candidate. A file already recorded with the same size
// and modification time is skipped without reading it.
func (in *Intake) Take(ctx context.Context, c Candidate) error {
	st := in.cfg.Store
	known, err := st.Known(ctx, c.Source, c.Path, c.Size, c.ModTime)
	if err != nil || known {
		return err
	}
	f := store.NewFile{Source: c.Source, Path: c.Path, FileName: c.Name, Size: c.Size, ModTime: c.ModTime,
		Dedupe: in.dedupeFor(c.Source)}
	if code, msg := in.refuse(c); code != "" {
		return in.reject(ctx, f, code, msg)
	}
	sum, err := in.cfg.Roots.hashFile(c)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		// Gone before we took responsibility for it: nothing to account for.
		in.cfg.Logger.Debug("file vanished before intake", "path", c.Path)
		return nil
	case errors.Is(err, errChanged):
		// Still being written; the source emits it again once it settles.
		return nil
	case err != nil:
		return in.reject(ctx, f, CodeUnreadable, err.Error())
	}
	f.SHA256 = sum
	res, err := st.Intake(ctx, f)
	if err != nil {
		return err
	}
	switch res.State {
	case store.StateQueued:
		in.cfg.Logger.Debug("document queued", "path", c.Path, "doc", res.ID, "sha256", sum[:12])
		if in.cfg.OnQueued != nil {
			in.cfg.OnQueued()
		}
	case store.StateDuplicate:
		in.cfg.Logger.Debug("document is a duplicate", "path", c.Path, "doc", res.ID, "duplicate_of", res.DuplicateOf)
		if in.cfg.OnDone != nil {
			in.cfg.OnDone()
		}
	}
	return nil
}

func (in *Intake) reject(ctx context.Context, f store.NewFile, code, msg string) error {
	id, err := in.cfg.Store.Reject(ctx, f, code, msg)
	if err != nil {
		return err
	}
	in.cfg.Logger.Warn("document rejected", "path", f.Path, "doc", id, "code", code, "reason", msg)
	if in.cfg.OnDone != nil {
		in.cfg.OnDone()
	}
	return nil
}

// refuse returns the code and reason for a file the API would refuse.
func (in *Intake) refuse(c Candidate) (string, string) {
	ext := strings.ToLower(filepath.Ext(c.Name))
	supported := false
	for _, e := range SupportedExtensions {
		supported = supported || ext == e
	}
	switch {
	case !supported:
		return CodeUnsupportedMedia, fmt.Sprintf("file type %q is not supported (PDF and CSV only)", ext)
	case c.Size > in.cfg.MaxFileSize:
		return CodeFileTooLarge, fmt.Sprintf("file is %d bytes; the limit is %d", c.Size, in.cfg.MaxFileSize)
	case c.Size == 0:
		return CodeEmptyFile, "file is empty"
	}
	return "", ""
}

// errChanged means a file no longer has the size and modification time it
// was recorded (or settled) with.
var errChanged = errors.New("file changed since it settled")

// hashFile returns the hex SHA-256 of the file, checking that it still has
// the candidate's size and modification time.
func (r *Roots) hashFile(c Candidate) (string, error) {
	f, err := r.openUnchanged(c.Source, c.Path, c.Size, c.ModTime)
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

func (in *Intake) dedupeFor(source string) bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.dedupe[source]
}
