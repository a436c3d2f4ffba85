package sim

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/docuparse"
	"github.com/docuparse/docuparse-ingest/internal/samples"
	"github.com/docuparse/docuparse-ingest/internal/testwait"
)

const testKey = "dex_test_0123456789"

var testSecret = []byte("whsec_test_secret")

// bundle is a running simulator behind a loopback HTTP server.
type bundle struct {
	sim *Server
	srv *httptest.Server
	api string // base URL, .../api/v1
}

// setup builds a simulator from cfg (APIKey filled in), serves it on
// loopback, starts it, and stops everything at the end of the test.
func setup(t *testing.T, cfg Config) *bundle {
	t.Helper()
	if cfg.APIKey == "" {
		cfg.APIKey = testKey
	}
	if cfg.WebhookSecret == nil {
		cfg.WebhookSecret = testSecret
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	srv := httptest.NewServer(s.Handler())
	s.Start(context.Background())
	t.Cleanup(func() {
		s.Stop()
		srv.Close()
	})
	return &bundle{sim: s, srv: srv, api: srv.URL + "/api/v1"}
}

// form is a multipart body under construction.
type form struct {
	files []samples.File
	refs  []string
	// docType is sent once when set.
	docType string
}

// encode writes the body the way the API client does: file parts, then
// client_reference parts, then document_type.
func (f form) encode() (body []byte, contentType string) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for _, file := range f.files {
		h := make(textproto.MIMEHeader)
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="file"; filename="%s"`, strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(file.Name)))
		h.Set("Content-Type", "application/octet-stream")
		pw, _ := w.CreatePart(h)
		_, _ = pw.Write(file.Content)
	}
	for _, r := range f.refs {
		_ = w.WriteField("client_reference", r)
	}
	if f.docType != "" {
		_ = w.WriteField("document_type", f.docType)
	}
	_ = w.Close()
	return buf.Bytes(), w.FormDataContentType()
}

// reply is an HTTP answer read in full.
type reply struct {
	status int
	header http.Header
	body   []byte
}

func (r reply) apiError(t *testing.T) docuparse.Error {
	t.Helper()
	var env docuparse.ErrorEnvelope
	if err := json.Unmarshal(r.body, &env); err != nil || env.Error.Code == "" {
		t.Fatalf("status %d: body %q is not an error envelope (%v)", r.status, r.body, err)
	}
	return env.Error
}

func (r reply) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("status %d: decode %q: %v", r.status, r.body, err)
	}
}

// call makes one request; extra headers are name, value pairs.
func call(t *testing.T, method, url string, body io.Reader, contentType string, headers ...string) (reply, error) {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+testKey)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i+1] == "" && headers[i] == "Authorization" {
			req.Header.Del("Authorization")
			continue
		}
		req.Header.Set(headers[i], headers[i+1])
	}
	// A fresh transport per call: no connection reuse, so a dropped
	// connection surfaces as an error instead of a transparent retry.
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Do(req)
	if err != nil {
		return reply{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return reply{}, err
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: b}, nil
}

func mustCall(t *testing.T, method, url string, body io.Reader, contentType string, headers ...string) reply {
	t.Helper()
	r, err := call(t, method, url, body, contentType, headers...)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	return r
}

// submit posts a form to /extract or /batches ("extract" or "batches").
func (b *bundle) submit(t *testing.T, endpoint string, f form, headers ...string) reply {
	t.Helper()
	body, ct := f.encode()
	return mustCall(t, http.MethodPost, b.api+"/"+endpoint, bytes.NewReader(body), ct, headers...)
}

func (b *bundle) document(t *testing.T, id string) docuparse.Document {
	t.Helper()
	r := mustCall(t, http.MethodGet, b.api+"/documents/"+id, nil, "")
	if r.status != http.StatusOK {
		t.Fatalf("GET document %s: %d %s", id, r.status, r.body)
	}
	var d docuparse.Document
	r.decode(t, &d)
	return d
}

func (b *bundle) batch(t *testing.T, id string) docuparse.Batch {
	t.Helper()
	r := mustCall(t, http.MethodGet, b.api+"/batches/"+id, nil, "")
	if r.status != http.StatusOK {
		t.Fatalf("GET batch %s: %d %s", id, r.status, r.body)
	}
	var out docuparse.Batch
	r.decode(t, &out)
	return out
}

// waitDone polls a document until it is no longer processing.
func (b *bundle) waitDone(t *testing.T, id string) docuparse.Document {
	t.Helper()
	var d docuparse.Document
	testwait.For(t, "document "+id+" to finish", func() bool {
		d = b.document(t, id)
		return d.Status != docuparse.StatusProcessing
	})
	return d
}

// hit is one webhook delivery as the receiver saw it.
type hit struct {
	header http.Header
	body   []byte
	at     time.Time
}

// receiver is a loopback webhook endpoint. answer decides the status of the
// n-th request (1-based); nil answers 200.
type receiver struct {
	srv    *httptest.Server
	mu     sync.Mutex
	hits   []hit
	answer func(n int, r *http.Request) int
}

func newReceiver(t *testing.T, answer func(n int, r *http.Request) int) *receiver {
	t.Helper()
	rc := &receiver{answer: answer}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.hits = append(rc.hits, hit{header: r.Header.Clone(), body: body, at: time.Now()})
		n := len(rc.hits)
		rc.mu.Unlock()
		status := http.StatusOK
		if rc.answer != nil {
			status = rc.answer(n, r)
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) got() []hit {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]hit(nil), rc.hits...)
}
