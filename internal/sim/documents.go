package sim

import (
	"crypto/rand"
	"encoding/base32"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/docuparse"
)

// document is one submitted file and, once processed, its result.
type document struct {
	id        string
	batchID   string
	clientRef string
	filename  string
	sha256    string
	createdAt time.Time

	status      string
	completedAt *time.Time
	// The outcome is decided at submission (Extract) and published when
	// processing ends.
	outData json.RawMessage
	outErr  *docuparse.Error
}

// batch groups the documents of one POST /batches.
type batch struct {
	id          string
	createdAt   time.Time
	completedAt *time.Time
	docIDs      []string
	remaining   int
	succeeded   int
	failed      int
}

var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// newID returns prefix followed by 16 random lowercase characters.
func newID(prefix string) string {
	var b [10]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return prefix + idEncoding.EncodeToString(b[:])
}

// scheduleLocked arranges for the document to complete after the processing
// delay. s.mu must be held.
func (s *Server) scheduleLocked(id string) {
	if s.stopped {
		return
	}
	s.procWG.Add(1)
	s.timers[id] = time.AfterFunc(s.cfg.ProcessingDelay, func() {
		defer s.procWG.Done()
		s.complete(id)
	})
}

// complete publishes a document's outcome, finishes its batch when it was the
// last one, and queues the webhook events: the document's first, then the
// batch's, all under s.mu so that batch.completed is queued after every
// document event of its batch.
func (s *Server) complete(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.timers, id)
	d := s.docs[id]
	if d == nil || d.status != docuparse.StatusProcessing || s.stopped {
		return
	}
	now := s.now().UTC()
	d.completedAt = &now
	ts := now.Format(time.RFC3339)
	ev := docuparse.Event{DocumentID: d.id, Timestamp: ts}
	if d.outErr != nil {
		d.status = docuparse.StatusFailed
		ev.Event, ev.Error = docuparse.EventDocumentFailed, d.outErr
		s.count(func(st *Stats) { st.DocumentsFailed++ })
	} else {
		d.status = docuparse.StatusCompleted
		ev.Event, ev.Data = docuparse.EventDocumentCompleted, d.outData
		s.count(func(st *Stats) { st.DocumentsCompleted++ })
	}
	s.queueEventLocked(ev)

	b := s.batches[d.batchID]
	if b == nil {
		return
	}
	b.remaining--
	if d.status == docuparse.StatusFailed {
		b.failed++
	} else {
		b.succeeded++
	}
	if b.remaining == 0 {
		b.completedAt = &now
		s.queueEventLocked(docuparse.Event{
			Event:     docuparse.EventBatchCompleted,
			BatchID:   b.id,
			Timestamp: ts,
			Summary:   &docuparse.Summary{Total: len(b.docIDs), Succeeded: b.succeeded, Failed: b.failed},
		})
	}
}

// queueEventLocked signs nothing yet: it encodes the event once (retries
// carry the same bytes and timestamp) and hands it to the deliverer, or
// keeps it under Config.HoldWebhooks. s.mu must be held.
func (s *Server) queueEventLocked(ev docuparse.Event) {
	if s.webhookURL == "" && !s.cfg.HoldWebhooks {
		return
	}
	body, err := json.Marshal(ev)
	if err != nil {
		s.log.Warn("sim: encode webhook event", "event", ev.Event, "error", err)
		return
	}
	if s.cfg.HoldWebhooks {
		s.held = append(s.held, body)
		return
	}
	s.deliv.enqueue(ev.Event, body)
}

// handleHeldEvents serves the events kept under Config.HoldWebhooks, in
// the order they were created, one encoded body a line (json.Marshal
// writes no line break inside one).
func (s *Server) handleHeldEvents(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	held := slices.Clone(s.held)
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set("Cache-Control", "no-store")
	for _, body := range held {
		_, _ = w.Write(body)
		_, _ = w.Write([]byte{'\n'})
	}
}

func (s *Server) handleGetDocument(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	s.mu.Lock()
	d := s.docs[id]
	var out docuparse.Document
	if d != nil {
		created := d.createdAt
		out = docuparse.Document{
			DocumentID:      d.id,
			BatchID:         d.batchID,
			ClientReference: d.clientRef,
			Status:          d.status,
			CreatedAt:       &created,
		}
		if d.completedAt != nil {
			done := *d.completedAt
			out.CompletedAt = &done
		}
		switch d.status {
		case docuparse.StatusCompleted:
			out.Data = d.outData
		case docuparse.StatusFailed:
			e := *d.outErr
			out.Error = &e
		}
	}
	s.mu.Unlock()
	if d == nil {
		writeError(w, http.StatusNotFound, docuparse.Error{Code: docuparse.CodeNotFound, Message: "document " + quoteID(id) + " not found"})
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) handleGetBatch(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	s.mu.Lock()
	b := s.batches[id]
	var out docuparse.Batch
	if b != nil {
		created := b.createdAt
		out = docuparse.Batch{
			BatchID:   b.id,
			Status:    docuparse.StatusProcessing,
			CreatedAt: &created,
			Summary:   docuparse.Summary{Total: len(b.docIDs), Succeeded: b.succeeded, Failed: b.failed},
			Documents: make([]docuparse.BatchStatusDocument, 0, len(b.docIDs)),
		}
		if b.completedAt != nil {
			done := *b.completedAt
			out.CompletedAt = &done
			out.Status = docuparse.StatusCompleted
		}
		for _, did := range b.docIDs {
			out.Documents = append(out.Documents, docuparse.BatchStatusDocument{DocumentID: did, Status: s.docs[did].status})
		}
	}
	s.mu.Unlock()
	if b == nil {
		writeError(w, http.StatusNotFound, docuparse.Error{Code: docuparse.CodeNotFound, Message: "batch " + quoteID(id) + " not found"})
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// quoteID returns an id for an error message, cut short and without control
// characters, so that a hostile path cannot fill the answer.
func quoteID(id string) string {
	if len(id) > 64 {
		id = id[:64] + "…"
	}
	return `"` + strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, id) + `"`
}
