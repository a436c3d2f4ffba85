package ingest

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/apiclient"
	"github.com/docuparse/docuparse-ingest/internal/store"
)

// The file (or bucket object) behind an upload: opening it for the
// request, holding it back for a temporary error, and deciding on it when
// it cannot be opened.

// finishUnopenable records a file that could not be opened for upload:
// vanished when it is gone or changed, rejected when unreadable. (A file
// held back by a temporary error or a replaced folder never gets here; see
// heldBack.)
func (s *Submitter) finishUnopenable(ctx context.Context, d store.Document, cause error) {
	to, code, msg := store.StateVanished, "", "file removed before upload"
	switch {
	case errors.Is(cause, errChanged), errors.Is(cause, apiclient.ErrSizeChanged):
		msg = "file changed before upload; its new content is a new document"
	case !errors.Is(cause, fs.ErrNotExist):
		to, code, msg = store.StateRejected, unreadableCode(cause), cause.Error()
	}
	log := s.cfg.Logger.With("doc", d.ID)
	if !s.persist(ctx, log, "the file as "+string(to), func(ctx context.Context) error {
		return s.cfg.Store.Finish(ctx, []int64{d.ID}, to, code, msg)
	}) {
		return
	}
	log.Warn("document not uploaded", "path", d.Path, "outcome", to, "reason", msg)
}

func (s *Submitter) upload(d store.Document) apiclient.Upload {
	return apiclient.Upload{
		Filename:        d.FileName,
		Size:            d.SizeBytes,
		ClientReference: d.ClientReference,
		Open: func() (io.ReadCloser, error) {
			rc, err := s.cfg.Roots.openDocument(d)
			if err == nil {
				s.readAgain(d)
			}
			return rc, err
		},
	}
}

// readLater handles a file that could not be opened or read for upload
// for a temporary reason, or because its source folder was replaced (see
// heldBack: descriptors, memory, an I/O error, a folder swapped away): it
// is not the file's fault, so the file is neither rejected nor written off
// as gone. The attempt is counted on the batch, the first
// such failure of the file is logged, and the upload is tried again, with
// the same key, after the backoff.
func (s *Submitter) readLater(ctx context.Context, log *slog.Logger, batchID int64, d store.Document, err error, backoff *time.Duration) {
	s.recordAttempt(ctx, batchID, err)
	s.mu.Lock()
	first := !s.unreadable[d.ID]
	s.unreadable[d.ID] = true
	s.mu.Unlock()
	if first {
		log.Error("cannot read a file to upload for now (a temporary error, or its folder replaced until it is back; not the file's fault); will try again",
			"path", d.Path, "err", err, "retry_in", *backoff)
	}
	s.sleep(ctx, backoff)
}

// readAgain notes that d's file opened for upload, and says so once if a
// temporary error had kept it from being read.
func (s *Submitter) readAgain(d store.Document) {
	s.mu.Lock()
	was := s.unreadable[d.ID]
	delete(s.unreadable, d.ID)
	s.mu.Unlock()
	if was {
		s.cfg.Logger.Info("a file held back (a temporary error, or its folder replaced) can be read again; its upload goes on", "path", d.Path, "doc", d.ID)
	}
}
