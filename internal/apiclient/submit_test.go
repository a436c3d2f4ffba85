package apiclient

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/docuparse/docuparse-ingest/internal/docuparse"
)

func TestSubmitBatchSendsTheContractsMultipartBody(t *testing.T) {
	t.Parallel()
	api := newFakeAPI(t, nil)
	c, obs := newClient(t, api.url(), nil)
	dir := t.TempDir()
	a := writeFile(t, dir, "a.pdf", []byte("%PDF-1.4 first"))
	b := writeFile(t, dir, "B.CSV", []byte("merchant,Acme\n"))
	odd := writeFile(t, dir, "ré\tçu \"q\" \\x.bin", []byte{0, 1, 2, 3})
	ups := uploads(a, b, odd)
	ups[0].ClientReference = "ref-a"
	ups[2].ClientReference = "ref-odd"

	resp, err := c.SubmitBatch(context.Background(), "key-123", ups, "invoice")
	if err != nil {
		t.Fatalf("SubmitBatch: %v", err)
	}
	if resp.BatchID != "batch_1" || len(resp.Documents) != 3 || resp.Documents[2].DocumentID != "doc_1_2" {
		t.Fatalf("response = %+v", resp)
	}

	got := api.attempts()
	if len(got) != 1 {
		t.Fatalf("%d attempts, want 1", len(got))
	}
	at := got[0]
	if at.Path != "/api/v1/batches" || at.Auth != "Bearer "+testKey || at.IdempotencyKey != "key-123" {
		t.Errorf("request line/headers: %+v", at)
	}
	if !at.Complete || at.ContentLength < 0 || at.ContentLength != at.Received {
		t.Errorf("body: complete=%v (%s), Content-Length %d, received %d", at.Complete, at.BodyErr, at.ContentLength, at.Received)
	}
	want := []gotPart{
		{Name: "file", Filename: "a.pdf", ContentType: "application/pdf", SHA256: a.sha256},
		{Name: "file", Filename: "B.CSV", ContentType: "text/csv", SHA256: b.sha256},
		{Name: "file", Filename: "ré_çu \"q\" _x.bin", ContentType: "application/octet-stream", SHA256: odd.sha256},
		{Name: "client_reference", Text: "ref-a"},
		{Name: "client_reference", Text: ""},
		{Name: "client_reference", Text: "ref-odd"},
		{Name: "document_type", Text: "invoice"},
	}
	if len(at.Parts) != len(want) {
		t.Fatalf("parts = %+v", at.Parts)
	}
	for i, w := range want {
		p := at.Parts[i]
		if p.Name != w.Name || p.Filename != w.Filename || p.Text != w.Text ||
			(w.ContentType != "" && p.ContentType != w.ContentType) || (w.SHA256 != "" && p.SHA256 != w.SHA256) {
			t.Errorf("part %d = %+v, want %+v", i, p, w)
		}
	}
	if s := obs.statuses(); len(s) != 1 || s[0] != http.StatusAccepted {
		t.Errorf("observed statuses %v", s)
	}
	if obs.infos[0].Endpoint != EndpointSubmitBatch || obs.infos[0].Attempt != 1 {
		t.Errorf("observed %+v", obs.infos[0])
	}
}

func TestSubmitBatchWithoutReferencesOrTypeSendsOnlyFileParts(t *testing.T) {
	t.Parallel()
	api := newFakeAPI(t, nil)
	c, _ := newClient(t, api.url(), nil)
	dir := t.TempDir()
	files := uploads(writeFile(t, dir, "a.pdf", []byte("a")), writeFile(t, dir, "empty.csv", nil))
	if _, err := c.SubmitBatch(context.Background(), "k", files, ""); err != nil {
		t.Fatal(err)
	}
	at := api.attempts()[0]
	if len(at.Parts) != 2 || at.Parts[0].Name != "file" || at.Parts[1].Name != "file" || at.Parts[1].Size != 0 {
		t.Errorf("parts = %+v", at.Parts)
	}
}

func TestExtractSendsFileReferenceAndType(t *testing.T) {
	t.Parallel()
	api := newFakeAPI(t, nil)
	c, _ := newClient(t, api.url(), nil)
	f := writeFile(t, t.TempDir(), "inv.pdf", []byte("%PDF-1.4 x"))
	f.upload.ClientReference = "r1"
	resp, err := c.Extract(context.Background(), "ex-key", f.upload, "receipt")
	if err != nil {
		t.Fatal(err)
	}
	if resp.DocumentID != "doc_1" || resp.ClientReference != "r1" {
		t.Errorf("response = %+v", resp)
	}
	at := api.attempts()[0]
	if at.Path != "/api/v1/extract" || at.IdempotencyKey != "ex-key" || !at.Complete || at.ContentLength != at.Received {
		t.Errorf("attempt = %+v", at)
	}
	names := []string{}
	for _, p := range at.Parts {
		names = append(names, p.Name)
	}
	if strings.Join(names, ",") != "file,client_reference,document_type" || at.Parts[0].SHA256 != f.sha256 {
		t.Errorf("parts = %+v", at.Parts)
	}
}

func TestSubmitAcceptsAnIdempotentReplayWith200(t *testing.T) {
	t.Parallel()
	api := newFakeAPI(t, func(n int, a *attempt, w http.ResponseWriter, r *http.Request) bool {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(`{"batch_id":"batch_orig","status":"processing","new_field":1,
			"documents":[{"document_id":"doc_orig","filename":"a.pdf","extra":true}]}`))
		return true
	})
	c, _ := newClient(t, api.url(), nil)
	resp, err := c.SubmitBatch(context.Background(), "k", uploads(writeFile(t, t.TempDir(), "a.pdf", []byte("a"))), "")
	if err != nil {
		t.Fatal(err)
	}
	if resp.BatchID != "batch_orig" || resp.Documents[0].DocumentID != "doc_orig" {
		t.Errorf("response = %+v", resp)
	}
}

func TestSubmitRefusesBadArgumentsWithoutSending(t *testing.T) {
	t.Parallel()
	api := newFakeAPI(t, nil)
	c, _ := newClient(t, api.url(), nil)
	f := writeFile(t, t.TempDir(), "a.pdf", []byte("a"))
	ctx := context.Background()
	cases := map[string]func() error{
		"no files":         func() error { _, err := c.SubmitBatch(ctx, "k", nil, ""); return err },
		"empty key":        func() error { _, err := c.SubmitBatch(ctx, "", uploads(f), ""); return err },
		"key too long":     func() error { _, err := c.Extract(ctx, strings.Repeat("k", 256), f.upload, ""); return err },
		"non-ASCII key":    func() error { _, err := c.Extract(ctx, "clé", f.upload, ""); return err },
		"nil Open":         func() error { _, err := c.Extract(ctx, "k", Upload{Filename: "x.pdf"}, ""); return err },
		"empty doc id":     func() error { _, err := c.GetDocument(ctx, ""); return err },
		"empty batch id":   func() error { _, err := c.GetBatch(ctx, ""); return err },
		"key with newline": func() error { _, err := c.Extract(ctx, "a\nb", f.upload, ""); return err },
	}
	for name, call := range cases {
		if err := call(); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if n := len(api.attempts()); n != 0 {
		t.Errorf("%d requests sent, want none", n)
	}
}

func TestGetDocumentAndBatch(t *testing.T) {
	t.Parallel()
	api := newFakeAPI(t, func(n int, a *attempt, w http.ResponseWriter, r *http.Request) bool {
		w.Header().Set("Content-Type", "application/json")
		switch a.Path {
		case "/api/v1/documents/doc_1":
			_, _ = w.Write([]byte(`{"document_id":"doc_1","batch_id":"batch_1","status":"completed",
				"created_at":"2026-11-28T10:00:00Z","completed_at":"2026-11-28T10:00:05Z",
				"data":{"merchant":"Acme","total":"3850.00"},"error":null}`))
		case "/api/v1/documents/doc%2F..%2Fx":
			_, _ = w.Write([]byte(`{"document_id":"doc/../x","status":"failed","error":{"code":"EXTRACTION_FAILED","message":"no"}}`))
		case "/api/v1/documents/doc_wrong":
			_, _ = w.Write([]byte(`{"document_id":"doc_other","status":"completed"}`))
		case "/api/v1/batches/batch_1":
			_, _ = w.Write([]byte(`{"batch_id":"batch_1","status":"completed","summary":{"total":2,"succeeded":1,"failed":1},
				"documents":[{"document_id":"doc_1","status":"completed"},{"document_id":"doc_2","status":"failed"}]}`))
		default:
			writeError(w, http.StatusNotFound, docuparse.CodeNotFound, "unknown id", "")
		}
		return true
	})
	c, _ := newClient(t, api.url(), nil)
	ctx := context.Background()

	d, err := c.GetDocument(ctx, "doc_1")
	if err != nil {
		t.Fatal(err)
	}
	if d.Status != docuparse.StatusCompleted || d.CompletedAt == nil || !strings.Contains(string(d.Data), "3850.00") {
		t.Errorf("document = %+v", d)
	}
	d, err = c.GetDocument(ctx, "doc/../x")
	if err != nil {
		t.Fatalf("escaped id: %v", err)
	}
	if d.Error == nil || d.Error.Code != docuparse.CodeExtractionFailed {
		t.Errorf("failed document = %+v", d)
	}
	if _, err := c.GetDocument(ctx, "doc_wrong"); err == nil || !strings.Contains(err.Error(), "does not match") {
		t.Errorf("mismatched id: %v", err)
	}
	_, err = c.GetDocument(ctx, "doc_missing")
	if !IsNotFound(err) || !IsPermanent(err) {
		t.Errorf("unknown id: %v (not found %v)", err, IsNotFound(err))
	}

	b, err := c.GetBatch(ctx, "batch_1")
	if err != nil {
		t.Fatal(err)
	}
	if b.Summary.Total != 2 || b.Summary.Failed != 1 || len(b.Documents) != 2 {
		t.Errorf("batch = %+v", b)
	}
	if _, err := c.GetBatch(ctx, "batch_missing"); !IsNotFound(err) {
		t.Errorf("unknown batch: %v", err)
	}
}

func TestGarbageSuccessBodiesFailClearlyWithoutRetry(t *testing.T) {
	t.Parallel()
	cases := map[string]struct{ body, want string }{
		"not JSON":         {"<html>hello</html>", "not a JSON object"},
		"trailing data":    {`{"batch_id":"b","documents":[{"document_id":"d"}]} {}`, "trailing data"},
		"wrong types":      {`{"batch_id":7}`, "cannot unmarshal"},
		"no batch id":      {`{"documents":[{"document_id":"d"}]}`, "batch_id is missing"},
		"too few docs":     {`{"batch_id":"b","documents":[]}`, "0 documents for 1 files"},
		"doc without id":   {`{"batch_id":"b","documents":[{"filename":"a.pdf"}]}`, "no document_id"},
		"JSON null":        {`null`, "not a JSON object"},
		"empty":            {``, "not a JSON object"},
		"oversized (16MB)": {`{"batch_id":"` + strings.Repeat("x", maxResponseBytes) + `"}`, "exceeds"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			api := newFakeAPI(t, func(n int, a *attempt, w http.ResponseWriter, r *http.Request) bool {
				w.WriteHeader(http.StatusAccepted)
				_, _ = w.Write([]byte(tc.body))
				return true
			})
			c, _ := newClient(t, api.url(), nil)
			_, err := c.SubmitBatch(context.Background(), "k", uploads(writeFile(t, t.TempDir(), "a.pdf", []byte("a"))), "")
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "submit_batch") {
				t.Fatalf("err = %v, want it to mention %q", err, tc.want)
			}
			if n := len(api.attempts()); n != 1 {
				t.Errorf("%d attempts, want 1 (garbage is not retried)", n)
			}
		})
	}
}
