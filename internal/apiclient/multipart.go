package apiclient

import (
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/textproto"
	"path"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// Upload is one file to send. Its content is read from Open on every attempt
// and streamed into the request; nothing holds a whole file in memory.
type Upload struct {
	// Filename is the file's base name, sent in the part header after
	// PartFilename. It also chooses the part's Content-Type.
	Filename string
	// Size is the exact number of bytes Open yields; it lets the client send
	// an exact Content-Length. If the content turns out longer or shorter, the
	// attempt fails with an *OpenError wrapping ErrSizeChanged before the body
	// is complete. Negative means unknown: the body is then sent chunked and
	// the size is not checked.
	Size int64
	// ClientReference is echoed by GET /documents/{id} (≤ 200 characters).
	// Empty means none.
	ClientReference string
	// Open returns a fresh reader of the content. It is called afresh on
	// every attempt, from another goroutine; its error ends the call with an
	// *OpenError without further retries.
	Open func() (io.ReadCloser, error)
}

// Form field names of the contract.
const (
	fieldFile            = "file"
	fieldClientReference = "client_reference"
	fieldDocumentType    = "document_type"
)

// PartFilename is the filename the client puts in a file part's header for
// name: every invalid UTF-8 byte, control character and path separator ('/'
// and '\', which receivers would treat as a directory and strip) becomes '_';
// an empty result becomes "_". Other characters, non-ASCII included, are kept.
// The API echoes this name in BatchDocument.Filename and APIError.Filename.
func PartFilename(name string) string {
	var b strings.Builder
	b.Grow(len(name))
	for i := 0; i < len(name); {
		r, size := utf8.DecodeRuneInString(name[i:])
		i += size
		switch {
		case r == utf8.RuneError && size == 1, unicode.IsControl(r), r == '/', r == '\\':
			b.WriteByte('_')
		default:
			b.WriteRune(r)
		}
	}
	if b.Len() == 0 {
		return "_"
	}
	return b.String()
}

// partContentType chooses a file part's Content-Type from its extension.
func partContentType(name string) string {
	switch strings.ToLower(path.Ext(name)) {
	case ".pdf":
		return "application/pdf"
	case ".csv":
		return "text/csv"
	}
	return "application/octet-stream"
}

// formPart is one part of a multipart body: a file or a text field.
type formPart struct {
	name  string
	text  string
	file  *Upload
	index int // position of file in the caller's slice
}

// multipartBody describes a request body; it is written afresh per attempt.
type multipartBody struct {
	boundary string
	parts    []formPart
	length   int64 // exact byte count, or -1 when a file size is unknown
}

// newMultipartBody checks the uploads and computes the exact length by
// writing the framing to a counting writer.
func newMultipartBody(parts []formPart) (*multipartBody, error) {
	b := &multipartBody{boundary: multipart.NewWriter(io.Discard).Boundary(), parts: parts}
	known := true
	for _, p := range parts {
		if p.file == nil {
			continue
		}
		if p.file.Open == nil {
			return nil, &OpenError{Index: p.index, Filename: p.file.Filename, Err: errors.New("Upload.Open is nil")}
		}
		known = known && p.file.Size >= 0
	}
	b.length = -1
	if known {
		var cw countingWriter
		err := b.write(&cw, func(_ io.Writer, p formPart, _ []byte) error {
			cw.n += p.file.Size
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("measure multipart body: %w", err)
		}
		b.length = cw.n
	}
	return b, nil
}

// hasFiles reports whether the body carries a file (an upload, not a
// replay of a key alone); false for a nil body.
func (b *multipartBody) hasFiles() bool {
	if b == nil {
		return false
	}
	for _, p := range b.parts {
		if p.file != nil {
			return true
		}
	}
	return false
}

func (b *multipartBody) contentType() string {
	return "multipart/form-data; boundary=" + b.boundary
}

// write writes the whole body to w, calling content for each file part.
func (b *multipartBody) write(w io.Writer, content func(io.Writer, formPart, []byte) error) error {
	mw := multipart.NewWriter(w)
	if err := mw.SetBoundary(b.boundary); err != nil {
		return err
	}
	var buf []byte // one copy buffer per attempt, shared by its files
	for _, p := range b.parts {
		h := make(textproto.MIMEHeader, 2)
		if p.file != nil {
			h.Set("Content-Disposition", multipart.FileContentDisposition(p.name, PartFilename(p.file.Filename)))
			h.Set("Content-Type", partContentType(p.file.Filename))
		} else {
			h.Set("Content-Disposition", `form-data; name="`+p.name+`"`)
		}
		pw, err := mw.CreatePart(h)
		if err != nil {
			return err
		}
		if p.file == nil {
			if _, err := io.WriteString(pw, p.text); err != nil {
				return err
			}
			continue
		}
		if buf == nil {
			buf = make([]byte, 32<<10)
		}
		if err := content(pw, p, buf); err != nil {
			return err
		}
	}
	return mw.Close()
}

// copyFile streams one upload into w, checking its size. Failures of the file
// (open, read, size) come back as *OpenError; a failure to write (the
// transport closed the pipe) comes back as is.
func copyFile(w io.Writer, p formPart, buf []byte) error {
	u := p.file
	fail := func(err error) error { return &OpenError{Index: p.index, Filename: u.Filename, Err: err} }
	rc, err := u.Open()
	if err != nil {
		return fail(err)
	}
	defer rc.Close()
	src := &readTracker{r: rc}
	if u.Size < 0 {
		_, err := io.CopyBuffer(w, src, buf)
		if src.err != nil {
			return fail(fmt.Errorf("read: %w", src.err))
		}
		return err
	}
	n, err := io.CopyBuffer(w, io.LimitReader(src, u.Size), buf)
	if src.err != nil {
		return fail(fmt.Errorf("read: %w", src.err))
	}
	if err != nil {
		return err
	}
	if n < u.Size {
		return fail(fmt.Errorf("%w: expected %d bytes, found only %d", ErrSizeChanged, u.Size, n))
	}
	var one [1]byte
	m, _ := io.ReadFull(src, one[:])
	if src.err != nil {
		return fail(fmt.Errorf("read: %w", src.err))
	}
	if m > 0 {
		return fail(fmt.Errorf("%w: more than the expected %d bytes", ErrSizeChanged, u.Size))
	}
	return nil
}

// readTracker remembers a read error other than io.EOF, so copyFile can tell
// a failing file from a closed pipe.
type readTracker struct {
	r   io.Reader
	err error
}

func (t *readTracker) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if err != nil && err != io.EOF {
		t.err = err
	}
	return n, err
}

type countingWriter struct{ n int64 }

func (w *countingWriter) Write(p []byte) (int, error) {
	w.n += int64(len(p))
	return len(p), nil
}

// lazyPipe is the request body of one attempt. Its writer goroutine starts
// on the first Read, so a body that is never read (retryablehttp probes its
// ReaderFunc once when the request is built) opens no file and starts
// nothing. Close ends the goroutine: its next write fails and it returns.
type lazyPipe struct {
	start func() *io.PipeReader

	mu     sync.Mutex
	pr     *io.PipeReader
	closed bool
}

func (l *lazyPipe) reader() (*io.PipeReader, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil, io.ErrClosedPipe
	}
	if l.pr == nil {
		l.pr = l.start()
	}
	return l.pr, nil
}

// Read implements io.Reader.
func (l *lazyPipe) Read(p []byte) (int, error) {
	pr, err := l.reader()
	if err != nil {
		return 0, err
	}
	return pr.Read(p)
}

// Close implements io.Closer; it is safe to call concurrently with Read.
func (l *lazyPipe) Close() error {
	l.mu.Lock()
	l.closed = true
	pr := l.pr
	l.mu.Unlock()
	if pr != nil {
		return pr.Close()
	}
	return nil
}

// bodyReader returns a fresh streaming reader of b for one attempt.
func (c *Client) bodyReader(b *multipartBody) io.ReadCloser {
	return &lazyPipe{start: func() *io.PipeReader {
		pr, pw := io.Pipe()
		c.writers.Add(1)
		go func() {
			defer c.writers.Add(-1)
			err := b.write(pw, copyFile)
			if err == nil && c.bodyEnded != nil {
				c.bodyEnded()
			}
			pw.CloseWithError(err) // nil error: the reader sees io.EOF
		}()
		return pr
	}}
}
