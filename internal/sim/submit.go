package sim

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"path"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/docuparse/docuparse-ingest/internal/docuparse"
)

// Limits on the text parts and on multipart framing around the files.
const (
	maxTextPart       = 4 << 10
	multipartOverhead = 1 << 20
)

// upload is one file part, read and extracted while streaming.
type upload struct {
	filename string
	size     int64
	sha256   string
	data     json.RawMessage
	err      *docuparse.Error
}

// submission is a parsed multipart request.
type submission struct {
	uploads []upload
	refs    []string
}

// apiError is a refusal with its HTTP status.
type apiError struct {
	status int
	e      docuparse.Error
}

func badRequest(format string, args ...any) *apiError {
	return &apiError{http.StatusBadRequest, docuparse.Error{Code: docuparse.CodeInvalidRequest, Message: fmt.Sprintf(format, args...)}}
}

func (s *Server) handleExtract(w http.ResponseWriter, r *http.Request) {
	s.handleSubmit(w, r, "POST /extract", false)
}

func (s *Server) handleBatches(w http.ResponseWriter, r *http.Request) {
	s.handleSubmit(w, r, "POST /batches", true)
}

// handleSubmit runs both submit endpoints: idempotency, streaming parse,
// all-or-nothing creation, then the answer (or a dropped connection).
func (s *Server) handleSubmit(w http.ResponseWriter, r *http.Request, endpoint string, isBatch bool) {
	limit := int64(docuparse.MaxFileBytes + multipartOverhead)
	if isBatch {
		limit = s.maxBatchBytes + multipartOverhead
	}
	r.Body = http.MaxBytesReader(w, r.Body, limit)

	key, hasKey, aerr := idempotencyKey(r)
	if aerr != nil {
		s.refuse(w, r, aerr)
		return
	}
	if hasKey {
		switch res, body := s.claimKey(endpoint, key); res {
		case claimReplay:
			s.count(func(st *Stats) { st.IdempotentReplays++ })
			writeBody(w, http.StatusOK, body)
			return
		case claimConflict:
			s.count(func(st *Stats) { st.IdempotencyConflicts++ })
			s.refuse(w, r, &apiError{http.StatusConflict, docuparse.Error{Code: docuparse.CodeIdempotencyConflict, Message: "a request with this Idempotency-Key is still in progress"}})
			return
		}
		if s.hooks.keyClaimed != nil {
			s.hooks.keyClaimed()
		}
	}

	r.Body = s.uploadBody(r.Context(), r.Body)
	sub, aerr := s.readSubmission(r, isBatch)
	if aerr != nil {
		if hasKey {
			s.releaseKey(endpoint, key)
		}
		s.refuse(w, r, aerr)
		return
	}

	f := s.Faults()
	if f.SubmitDelay > 0 {
		// A slow API: the upload is in flight for this long. A client that
		// goes away meanwhile creates nothing (and releases its key).
		if !pause(r.Context(), time.Duration(f.SubmitDelay)) {
			if hasKey {
				s.releaseKey(endpoint, key)
			}
			return
		}
	}
	body := s.create(sub, isBatch, endpoint, key, hasKey)

	if f.ResponseDelay > 0 {
		// The documents exist and are processing; their webhooks may
		// arrive before this answer does.
		s.count(func(st *Stats) { st.ResponsesDelayed++ })
		select {
		case <-time.After(time.Duration(f.ResponseDelay)):
		case <-r.Context().Done():
			return
		}
	}
	if s.draw(f.DropConnectionRate) {
		s.count(func(st *Stats) { st.ConnectionsDropped++ })
		s.log.Debug("sim: dropping connection after submit", "endpoint", endpoint)
		dropConnection(w)
	}
	writeBody(w, http.StatusAccepted, body)
}

// refuse drains what is left of the request body (bounded by the
// MaxBytesReader) so the client reads the answer rather than a reset, then
// writes the error.
func (s *Server) refuse(w http.ResponseWriter, r *http.Request, aerr *apiError) {
	_, _ = io.Copy(io.Discard, r.Body)
	writeError(w, aerr.status, aerr.e)
}

// idempotencyKey returns the request's Idempotency-Key, whether it has one,
// or a 400 when it is malformed or given twice.
func idempotencyKey(r *http.Request) (string, bool, *apiError) {
	vals, ok := r.Header[docuparse.HeaderIdempotencyKey]
	if !ok {
		return "", false, nil
	}
	if len(vals) != 1 || !validIdempotencyKey(vals[0]) {
		return "", false, badRequest("Idempotency-Key must be one header of 1 to %d printable ASCII characters", docuparse.MaxIdempotencyKeyLen)
	}
	return vals[0], true, nil
}

// readSubmission streams the multipart body part by part: each file is hashed
// and sized as it is read, limited to MaxFileBytes+1, extracted, and its bytes
// dropped before the next part, so memory stays at one file whatever the
// batch size.
func (s *Server) readSubmission(r *http.Request, isBatch bool) (*submission, *apiError) {
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, badRequest("body must be multipart/form-data: %v", err)
	}
	var (
		sub   submission
		total int64
		buf   bytes.Buffer
	)
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, bodyError(err, isBatch, "")
		}
		switch part.FormName() {
		case "file":
			if !isBatch && len(sub.uploads) == 1 {
				return nil, badRequest("POST /extract takes exactly one file part")
			}
			if len(sub.uploads) == docuparse.MaxBatchFiles {
				return nil, &apiError{http.StatusRequestEntityTooLarge, docuparse.Error{Code: docuparse.CodeBatchTooLarge, Message: fmt.Sprintf("a batch holds at most %d files", docuparse.MaxBatchFiles)}}
			}
			up, aerr := s.readFile(part, &buf, isBatch)
			if aerr != nil {
				return nil, aerr
			}
			total += up.size
			if isBatch && total > s.maxBatchBytes {
				return nil, &apiError{http.StatusRequestEntityTooLarge, docuparse.Error{Code: docuparse.CodeBatchTooLarge, Message: fmt.Sprintf("a batch holds at most %d bytes of files", s.maxBatchBytes), Filename: up.filename}}
			}
			sub.uploads = append(sub.uploads, up)
		case "client_reference":
			ref, aerr := readText(part, isBatch)
			if aerr != nil {
				return nil, aerr
			}
			if utf8.RuneCountInString(ref) > docuparse.MaxClientReferenceLen {
				return nil, badRequest("client_reference is longer than %d characters", docuparse.MaxClientReferenceLen)
			}
			sub.refs = append(sub.refs, ref)
		case "document_type":
			// A hint only: the simulator reads the type from the file.
			if _, aerr := readText(part, isBatch); aerr != nil {
				return nil, aerr
			}
		default:
			// Unknown parts are skipped by NextPart.
		}
		_ = part.Close()
	}
	if len(sub.uploads) == 0 {
		return nil, badRequest("missing file part")
	}
	if len(sub.refs) > len(sub.uploads) {
		return nil, badRequest("%d client_reference parts for %d files", len(sub.refs), len(sub.uploads))
	}
	return &sub, nil
}

// readFile reads one file part into buf (reset first), hashing and counting
// as it goes, and decides its outcome.
func (s *Server) readFile(part *multipart.Part, buf *bytes.Buffer, isBatch bool) (upload, *apiError) {
	name := part.FileName()
	if name == "" || name == "." || name == "/" {
		return upload{}, badRequest("file part has no filename")
	}
	if ext := strings.ToLower(path.Ext(name)); ext != ".pdf" && ext != ".csv" {
		return upload{}, &apiError{http.StatusUnsupportedMediaType, docuparse.Error{Code: docuparse.CodeUnsupportedMedia, Message: "only PDF and CSV files are supported", Filename: name}}
	}
	buf.Reset()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(h, buf), io.LimitReader(part, docuparse.MaxFileBytes+1))
	if err != nil {
		return upload{}, bodyError(err, isBatch, name)
	}
	if n > docuparse.MaxFileBytes {
		return upload{}, &apiError{http.StatusRequestEntityTooLarge, docuparse.Error{Code: docuparse.CodeFileTooLarge, Message: fmt.Sprintf("files are limited to %d bytes", docuparse.MaxFileBytes), Filename: name}}
	}
	up := upload{filename: name, size: n, sha256: hex.EncodeToString(h.Sum(nil))}
	data, eerr := s.Extract(name, buf.Bytes())
	if eerr != nil {
		up.err = eerr
	} else {
		raw, err := json.Marshal(data)
		if err != nil {
			up.err = extractionFailed()
		} else {
			up.data = raw
		}
	}
	return up, nil
}

// readText reads a small text part.
func readText(part *multipart.Part, isBatch bool) (string, *apiError) {
	b, err := io.ReadAll(io.LimitReader(part, maxTextPart+1))
	if err != nil {
		return "", bodyError(err, isBatch, "")
	}
	if len(b) > maxTextPart {
		return "", badRequest("text part %q is longer than %d bytes", part.FormName(), maxTextPart)
	}
	return string(b), nil
}

// bodyError maps a read error of the request body: over the MaxBytesReader
// limit is 413, anything else a malformed body (400).
func bodyError(err error, isBatch bool, filename string) *apiError {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		if isBatch {
			return &apiError{http.StatusRequestEntityTooLarge, docuparse.Error{Code: docuparse.CodeBatchTooLarge, Message: "request body too large", Filename: filename}}
		}
		return &apiError{http.StatusRequestEntityTooLarge, docuparse.Error{Code: docuparse.CodeFileTooLarge, Message: "request body too large", Filename: filename}}
	}
	return badRequest("malformed multipart body: %v", err)
}

// create records the submission's documents (and batch), remembers the
// response under the idempotency key, schedules processing, and returns the
// response body.
func (s *Server) create(sub *submission, isBatch bool, endpoint, key string, hasKey bool) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now().UTC()
	var b *batch
	if isBatch {
		b = &batch{id: newID("batch_"), createdAt: now, remaining: len(sub.uploads)}
		s.batches[b.id] = b
	}
	docs := make([]*document, len(sub.uploads))
	for i, up := range sub.uploads {
		d := &document{
			id:        newID("doc_"),
			filename:  up.filename,
			sha256:    up.sha256,
			createdAt: now,
			status:    docuparse.StatusProcessing,
			outData:   up.data,
			outErr:    up.err,
		}
		if i < len(sub.refs) {
			d.clientRef = sub.refs[i]
		}
		if b != nil {
			d.batchID = b.id
			b.docIDs = append(b.docIDs, d.id)
		}
		s.docs[d.id] = d
		docs[i] = d
	}
	s.count(func(st *Stats) {
		st.DocumentsCreated += len(docs)
		if b != nil {
			st.BatchesCreated++
		}
		for _, d := range docs {
			st.CreatedBySHA256[d.sha256]++
		}
	})

	var resp any
	if b != nil {
		br := docuparse.BatchResponse{BatchID: b.id, Status: docuparse.StatusProcessing, Documents: make([]docuparse.BatchDocument, 0, len(docs))}
		for _, d := range docs {
			br.Documents = append(br.Documents, docuparse.BatchDocument{DocumentID: d.id, Filename: d.filename, ClientReference: d.clientRef, Status: docuparse.StatusProcessing})
		}
		resp = br
	} else {
		d := docs[0]
		resp = docuparse.ExtractResponse{DocumentID: d.id, Status: docuparse.StatusProcessing, ClientReference: d.clientRef}
	}
	// The response types hold only strings: encoding cannot fail.
	body, _ := json.Marshal(resp)
	if hasKey {
		s.rememberLocked(endpoint, key, body)
	}
	for _, d := range docs {
		s.scheduleLocked(d.id)
	}
	return body
}
