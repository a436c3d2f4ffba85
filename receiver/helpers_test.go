package receiver_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"github.com/docuparse/docuparse-ingest/internal/testlog"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/docuparse"
	"github.com/docuparse/docuparse-ingest/internal/store"
	"github.com/docuparse/docuparse-ingest/receiver"
)

const hookPath = "/webhooks/docuparse"

var (
	secretA = []byte("whsec_A_do-not-leak-7f3c9e")
	secretB = []byte("whsec_B_do-not-leak-41aa0d")
)

// lockedBuffer collects log output written from other goroutines.
type lockedBuffer = testlog.Buffer

// debugLogger logs everything, debug included, into a buffer.
func debugLogger() (*slog.Logger, *lockedBuffer) { return testlog.Logger(slog.LevelDebug) }

func openStore(t *testing.T) *store.Store {
	t.Helper()
	return openStoreWith(t, store.Options{})
}

// openStoreWith is openStore with the store's hooks set (OnJournaled,
// OnTransition: the daemon's one wake path).
func openStoreWith(t *testing.T, opts store.Options) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "state.db"), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// receiverURL serves a handler over st on loopback and returns the
// webhook URL. The server stops at the end of the test.
func receiverURL(t *testing.T, cfg receiver.HandlerConfig, st *store.Store, opts ...receiver.ServerOption) string {
	t.Helper()
	srv, err := receiver.NewServer("127.0.0.1:0", hookPath, receiver.NewHandler(cfg, st), cfg.Logger, opts...)
	if err != nil {
		t.Fatal(err)
	}
	srv.Start(context.Background())
	t.Cleanup(srv.Stop)
	return "http://" + srv.Addr() + hookPath
}

type answer struct {
	status int
	header http.Header
	body   string
}

// post sends body as a signed-or-not webhook delivery with the given
// headers and returns the answer.
func post(t *testing.T, url string, body []byte, headers map[string]string) answer {
	t.Helper()
	return send(t, url, delivery{body: body, headers: headers})
}

// delivery is one HTTP request to the receiver.
type delivery struct {
	method  string // POST when empty
	path    string // replaces the webhook path when set
	body    []byte
	chunked bool // no Content-Length: the body goes out chunked
	headers map[string]string
}

func send(t *testing.T, url string, d delivery) answer {
	t.Helper()
	if d.method == "" {
		d.method = http.MethodPost
	}
	if d.path != "" {
		url = strings.TrimSuffix(url, hookPath) + d.path
	}
	var body io.Reader = bytes.NewReader(d.body)
	if d.chunked {
		body = io.MultiReader(body) // a reader of unknown length
	}
	req, err := http.NewRequest(d.method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	if d.chunked {
		req.ContentLength = -1
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range d.headers {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", d.method, url, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return answer{status: res.StatusCode, header: res.Header, body: string(b)}
}

// signed returns the signature header for body under secret.
func signed(secret, body []byte) map[string]string {
	return map[string]string{docuparse.HeaderSignature: docuparse.Sign(secret, body)}
}

func eventCounts(t *testing.T, st *store.Store) map[string]int {
	t.Helper()
	c, err := st.EventCounts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func totalEvents(t *testing.T, st *store.Store) int {
	t.Helper()
	n := 0
	for _, v := range eventCounts(t, st) {
		n += v
	}
	return n
}

func applyPending(t *testing.T, st *store.Store) int {
	t.Helper()
	n, err := receiver.ApplyPending(context.Background(), st)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// completedEvent is a document.completed body as the article shows it.
func completedEvent(documentID string) []byte {
	return []byte(`{"event":"document.completed","document_id":"` + documentID + `","timestamp":"2026-05-19T14:00:00Z",` +
		`"data":{"merchant":"Test Vendor","total":"100.00","currency":"USD","date":"2026-05-19","line_items":[]}}`)
}

func failedEvent(documentID string) []byte {
	return []byte(`{"event":"document.failed","document_id":"` + documentID + `","timestamp":"2026-05-19T14:00:01Z",` +
		`"error":{"code":"EXTRACTION_FAILED","message":"unreadable scan"}}`)
}

// submitted records one document as submitted to the API under documentID
// (intake, batch, submit response), the way the submitter does.
func submitted(t *testing.T, st *store.Store, name, documentID string) int64 {
	t.Helper()
	id, batch := submitting(t, st, name)
	recordSubmitted(t, st, batch, id, documentID)
	return id
}

// submitting records one document as queued and then sent in a batch whose
// answer is not recorded yet. It returns the document's and batch's ids.
func submitting(t *testing.T, st *store.Store, name string) (doc, batch int64) {
	t.Helper()
	ctx := context.Background()
	r, err := st.Intake(ctx, store.NewFile{Source: "inbox", Path: "/in/" + name, FileName: name, Size: 42,
		ModTime: time.Unix(1_780_000_000, 0), SHA256: fmt.Sprintf("%x", sha256.Sum256([]byte(name)))})
	if err != nil {
		t.Fatal(err)
	}
	b, err := st.CreateBatch(ctx, store.ModeBatch, []int64{r.ID})
	if err != nil {
		t.Fatal(err)
	}
	return r.ID, b.ID
}

// recordSubmitted records the API's answer: doc of batch is documentID,
// the batch is batch_<documentID>.
func recordSubmitted(t *testing.T, st *store.Store, batch, doc int64, documentID string) {
	t.Helper()
	if err := st.RecordSubmitted(context.Background(), batch, "batch_"+documentID, []byte(`{}`),
		[]store.Submitted{{DocID: doc, DocumentID: documentID}}); err != nil {
		t.Fatal(err)
	}
}

func documentState(t *testing.T, st *store.Store, documentID string) *store.Document {
	t.Helper()
	d, err := st.GetByDocumentID(context.Background(), documentID)
	if err != nil {
		t.Fatal(err)
	}
	return d
}
