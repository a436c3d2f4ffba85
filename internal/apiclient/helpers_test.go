package apiclient

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/docuparse"
	"github.com/docuparse/docuparse-ingest/internal/testwait"
)

const testKey = "dex_test_S3CR3T_k3y_0123456789"

// gotPart is one multipart part as the fake API received it.
type gotPart struct {
	Name, Filename, ContentType string
	Size                        int64
	SHA256                      string
	Text                        string // for text parts
}

// attempt is one request as the fake API received it.
type attempt struct {
	Method, Path, Auth, IdempotencyKey, ContentType string
	ContentLength                                   int64 // header value, -1 if chunked
	Received                                        int64 // body bytes actually read
	Parts                                           []gotPart
	Complete                                        bool   // multipart body read to its end without error
	BodyErr                                         string // why not complete
}

func (a *attempt) files() []gotPart {
	var out []gotPart
	for _, p := range a.Parts {
		if p.Name == "file" {
			out = append(out, p)
		}
	}
	return out
}

// fakeAPI is a loopback server speaking the contract. It streams and hashes
// every multipart body, records each attempt, and answers with respond (or,
// when respond is nil or returns false, with the contract's success body).
type fakeAPI struct {
	srv     *httptest.Server
	mu      sync.Mutex
	log     []attempt
	respond func(n int, a *attempt, w http.ResponseWriter, r *http.Request) bool
}

func newFakeAPI(t *testing.T, respond func(n int, a *attempt, w http.ResponseWriter, r *http.Request) bool) *fakeAPI {
	t.Helper()
	f := &fakeAPI{respond: respond}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeAPI) url() string { return f.srv.URL + "/api/v1" }

func (f *fakeAPI) attempts() []attempt {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]attempt(nil), f.log...)
}

func (f *fakeAPI) serve(w http.ResponseWriter, r *http.Request) {
	a := attempt{
		Method: r.Method, Path: r.URL.EscapedPath(), Auth: r.Header.Get("Authorization"),
		IdempotencyKey: r.Header.Get(docuparse.HeaderIdempotencyKey),
		ContentType:    r.Header.Get("Content-Type"), ContentLength: r.ContentLength,
	}
	if r.Method == http.MethodPost {
		cr := &countReader{r: r.Body}
		r.Body = io.NopCloser(cr)
		a.Parts, a.Complete, a.BodyErr = readParts(r)
		a.Received = cr.n
		if a.Complete && r.ContentLength >= 0 && cr.n != r.ContentLength {
			a.Complete, a.BodyErr = false, fmt.Sprintf("read %d bytes, Content-Length %d", cr.n, r.ContentLength)
		}
	} else {
		a.Complete = true
	}
	f.mu.Lock()
	f.log = append(f.log, a)
	n := len(f.log)
	f.mu.Unlock()
	if !a.Complete {
		return // the client aborted this attempt; nobody reads an answer
	}
	if f.respond != nil && f.respond(n, &a, w, r) {
		return
	}
	f.ok(w, n, &a)
}

// ok answers like the contract's success cases.
func (f *fakeAPI) ok(w http.ResponseWriter, n int, a *attempt) {
	w.Header().Set("Content-Type", "application/json")
	switch {
	case a.Method == http.MethodPost && strings.HasSuffix(a.Path, "/batches"):
		var refs []string
		for _, p := range a.Parts {
			if p.Name == "client_reference" {
				refs = append(refs, p.Text)
			}
		}
		resp := docuparse.BatchResponse{BatchID: fmt.Sprintf("batch_%d", n), Status: docuparse.StatusProcessing}
		for i, p := range a.files() {
			d := docuparse.BatchDocument{DocumentID: fmt.Sprintf("doc_%d_%d", n, i), Filename: p.Filename}
			if i < len(refs) {
				d.ClientReference = refs[i]
			}
			resp.Documents = append(resp.Documents, d)
		}
		w.WriteHeader(http.StatusAccepted)
		_ = json.NewEncoder(w).Encode(resp)
	case a.Method == http.MethodPost && strings.HasSuffix(a.Path, "/extract"):
		resp := docuparse.ExtractResponse{DocumentID: fmt.Sprintf("doc_%d", n), Status: docuparse.StatusProcessing}
		for _, p := range a.Parts {
			if p.Name == "client_reference" {
				resp.ClientReference = p.Text
			}
		}
		w.WriteHeader(http.StatusAccepted)
		_ = json.NewEncoder(w).Encode(resp)
	default:
		writeError(w, http.StatusNotFound, docuparse.CodeNotFound, "no such route", "")
	}
}

// readParts streams a multipart body, hashing each part.
func readParts(r *http.Request) ([]gotPart, bool, string) {
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, false, err.Error()
	}
	var parts []gotPart
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return parts, false, err.Error()
		}
		_, params, _ := mime.ParseMediaType(p.Header.Get("Content-Disposition"))
		gp := gotPart{Name: params["name"], Filename: params["filename"], ContentType: p.Header.Get("Content-Type")}
		h := sha256.New()
		var text strings.Builder
		var dst io.Writer = h
		if _, isFile := params["filename"]; !isFile {
			dst = io.MultiWriter(h, &text)
		}
		n, err := io.Copy(dst, p)
		if err != nil {
			return parts, false, err.Error()
		}
		gp.Size, gp.SHA256, gp.Text = n, hex.EncodeToString(h.Sum(nil)), text.String()
		parts = append(parts, gp)
	}
	if _, err := io.Copy(io.Discard, r.Body); err != nil {
		return parts, false, err.Error()
	}
	return parts, true, ""
}

type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func writeError(w http.ResponseWriter, status int, code, msg, filename string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(docuparse.ErrorEnvelope{Error: docuparse.Error{Code: code, Message: msg, Filename: filename}})
}

// observer collects RequestInfo from Config.Observe.
type observer struct {
	mu    sync.Mutex
	infos []RequestInfo
	ch    chan RequestInfo // optional signal per attempt
}

func (o *observer) observe(i RequestInfo) {
	o.mu.Lock()
	o.infos = append(o.infos, i)
	o.mu.Unlock()
	if o.ch != nil {
		o.ch <- i
	}
}

func (o *observer) statuses() []int {
	o.mu.Lock()
	defer o.mu.Unlock()
	var s []int
	for _, i := range o.infos {
		s = append(s, i.StatusCode)
	}
	return s
}

// newClient returns a client for baseURL with fast retries, and its observer.
func newClient(t *testing.T, baseURL string, mod func(*Config)) (*Client, *observer) {
	t.Helper()
	obs := &observer{}
	cfg := Config{
		BaseURL: baseURL, APIKey: testKey,
		RetryWaitMin: time.Millisecond, RetryWaitMax: 4 * time.Millisecond,
		Timeout: 30 * time.Second, Observe: obs.observe,
	}
	if mod != nil {
		mod(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() {
		// Every attempt's writer goroutine must end once its call returned.
		testwait.For(t, "multipart writers to end", func() bool { return c.writers.Load() == 0 })
	})
	return c, obs
}

// testFile is a real file in a temp dir and its Upload.
type testFile struct {
	path   string
	sha256 string
	upload Upload
}

func writeFile(t testing.TB, dir, name string, content []byte) testFile {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, content, 0o600); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(content)
	return testFile{path: p, sha256: hex.EncodeToString(sum[:]), upload: Upload{
		Filename: name, Size: int64(len(content)),
		Open: func() (io.ReadCloser, error) { return os.Open(p) },
	}}
}

func uploads(files ...testFile) []Upload {
	var out []Upload
	for _, f := range files {
		out = append(out, f.upload)
	}
	return out
}

// recv waits for a value on ch with a generous deadline.
func recv[T any](t *testing.T, what string, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}
