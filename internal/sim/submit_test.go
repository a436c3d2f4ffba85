package sim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/docuparse"
	"github.com/docuparse/docuparse-ingest/internal/samples"
	"github.com/docuparse/docuparse-ingest/internal/testwait"
)

func TestExtractCreatesADocumentThatCompletesWithTheFilesData(t *testing.T) {
	t.Parallel()
	b := setup(t, Config{})
	f := samples.Demo()[0]
	r := b.submit(t, "extract", form{files: []samples.File{f}, refs: []string{"inbox/riverside.pdf"}, docType: "invoice"})
	if r.status != http.StatusAccepted {
		t.Fatalf("status %d %s", r.status, r.body)
	}
	var er docuparse.ExtractResponse
	r.decode(t, &er)
	if !strings.HasPrefix(er.DocumentID, "doc_") || er.Status != docuparse.StatusProcessing || er.ClientReference != "inbox/riverside.pdf" {
		t.Fatalf("response %+v", er)
	}
	d := b.waitDone(t, er.DocumentID)
	if d.Status != docuparse.StatusCompleted || d.BatchID != "" || d.ClientReference != "inbox/riverside.pdf" || d.CreatedAt == nil || d.CompletedAt == nil || d.Error != nil {
		t.Fatalf("document %+v", d)
	}
	want, _ := Extract(f.Name, f.Content)
	wantJSON, _ := json.Marshal(want)
	if !bytes.Equal(d.Data, wantJSON) {
		t.Errorf("data\n got %s\nwant %s", d.Data, wantJSON)
	}
	if !strings.Contains(string(d.Data), `"total":"3850.00"`) {
		t.Errorf("data %s lacks the article's total", d.Data)
	}
}

func TestDocumentStaysProcessingUntilTheDelay(t *testing.T) {
	t.Parallel()
	b := setup(t, Config{ProcessingDelay: time.Hour})
	r := b.submit(t, "extract", form{files: samples.Demo()[:1]})
	var er docuparse.ExtractResponse
	r.decode(t, &er)
	r = mustCall(t, http.MethodGet, b.api+"/documents/"+er.DocumentID, nil, "")
	for _, field := range []string{`"status":"processing"`, `"completed_at":null`, `"data":null`, `"error":null`} {
		if !strings.Contains(string(r.body), field) {
			t.Errorf("body %s lacks %s", r.body, field)
		}
	}
}

func TestFailingFileFailsWithTheArticlesError(t *testing.T) {
	t.Parallel()
	b := setup(t, Config{})
	var fail samples.File
	for _, f := range samples.Demo() {
		if bytes.Contains(f.Content, []byte(samples.FailMarker)) {
			fail = f
		}
	}
	bad := samples.File{Name: "garbage.csv", Content: []byte("no,sample,here\n")}
	for _, f := range []samples.File{fail, bad} {
		var er docuparse.ExtractResponse
		b.submit(t, "extract", form{files: []samples.File{f}}).decode(t, &er)
		d := b.waitDone(t, er.DocumentID)
		if d.Status != docuparse.StatusFailed || (d.Data != nil && string(d.Data) != "null") || d.Error == nil ||
			*d.Error != (docuparse.Error{Code: "EXTRACTION_FAILED", Message: "Document extraction failed for this file."}) {
			t.Errorf("%s: document %+v error %+v", f.Name, d, d.Error)
		}
	}
}

func TestBatchCreatesDocumentsInPartOrderAndCompletes(t *testing.T) {
	t.Parallel()
	b := setup(t, Config{})
	files := samples.Demo()
	refs := []string{"r0", "", "r2"}
	r := b.submit(t, "batches", form{files: files, refs: refs})
	if r.status != http.StatusAccepted {
		t.Fatalf("status %d %s", r.status, r.body)
	}
	var br docuparse.BatchResponse
	r.decode(t, &br)
	if !strings.HasPrefix(br.BatchID, "batch_") || br.Status != docuparse.StatusProcessing || len(br.Documents) != len(files) {
		t.Fatalf("response %+v", br)
	}
	for i, d := range br.Documents {
		wantRef := ""
		if i < len(refs) {
			wantRef = refs[i]
		}
		if d.Filename != files[i].Name || d.ClientReference != wantRef || d.Status != docuparse.StatusProcessing {
			t.Errorf("document %d: %+v", i, d)
		}
	}
	var got docuparse.Batch
	testwait.For(t, "batch to complete", func() bool {
		got = b.batch(t, br.BatchID)
		return got.Status == docuparse.StatusCompleted
	})
	if got.Summary != (docuparse.Summary{Total: 8, Succeeded: 7, Failed: 1}) || got.CompletedAt == nil || len(got.Documents) != 8 {
		t.Fatalf("batch %+v", got)
	}
	for i, d := range got.Documents {
		if d.DocumentID != br.Documents[i].DocumentID {
			t.Errorf("batch document %d is %s, want %s", i, d.DocumentID, br.Documents[i].DocumentID)
		}
		doc := b.document(t, d.DocumentID)
		if doc.BatchID != br.BatchID || doc.Status != d.Status {
			t.Errorf("document %s: batch %q status %q vs %q", d.DocumentID, doc.BatchID, doc.Status, d.Status)
		}
	}
}

// TestEveryGeneratedFileComesBackAsItsTruth runs Generate through the whole
// API: every document's data is exactly Extract's answer and nothing was
// created twice.
func TestEveryGeneratedFileComesBackAsItsTruth(t *testing.T) {
	t.Parallel()
	b := setup(t, Config{FailureRate: 0.2})
	files := samples.Generate(120, 11)
	var ids []string
	for start := 0; start < len(files); start += 50 {
		end := min(start+50, len(files))
		var br docuparse.BatchResponse
		r := b.submit(t, "batches", form{files: files[start:end]})
		r.decode(t, &br)
		for _, d := range br.Documents {
			ids = append(ids, d.DocumentID)
		}
	}
	extra := 0
	for i, id := range ids {
		d := b.waitDone(t, id)
		data, eerr := b.sim.Extract(files[i].Name, files[i].Content)
		if _, plain := Extract(files[i].Name, files[i].Content); plain == nil && eerr != nil {
			extra++
		}
		if eerr != nil {
			if d.Status != docuparse.StatusFailed || d.Error.Code != docuparse.CodeExtractionFailed {
				t.Errorf("%s: %+v, want failed", files[i].Name, d)
			}
			continue
		}
		want, _ := json.Marshal(data)
		if d.Status != docuparse.StatusCompleted || !bytes.Equal(d.Data, want) {
			t.Errorf("%s: status %s data %s, want %s", files[i].Name, d.Status, d.Data, want)
		}
	}
	if extra == 0 || extra > 60 {
		t.Errorf("FailureRate 0.2 failed %d of 120 good files", extra)
	}
	st := b.sim.Stats()
	if st.DocumentsCreated != 120 || len(st.CreatedBySHA256) != 120 {
		t.Errorf("created %d documents, %d hashes", st.DocumentsCreated, len(st.CreatedBySHA256))
	}
}

func TestSubmitRefusals(t *testing.T) {
	t.Parallel()
	b := setup(t, Config{})
	pdf := samples.Demo()[0]
	tooMany := make([]samples.File, docuparse.MaxBatchFiles+1)
	for i := range tooMany {
		tooMany[i] = samples.File{Name: fmt.Sprintf("f%03d.csv", i), Content: []byte("x")}
	}
	long := strings.Repeat("é", docuparse.MaxClientReferenceLen+1)
	cases := []struct {
		name     string
		endpoint string
		form     form
		headers  []string
		status   int
		code     string
		filename string
	}{
		{"unsupported type in a batch names the file", "batches",
			form{files: []samples.File{pdf, {Name: "photo.JPG", Content: []byte("jpg")}}}, nil,
			415, docuparse.CodeUnsupportedMedia, "photo.JPG"},
		{"unsupported type on extract", "extract",
			form{files: []samples.File{{Name: "notes.txt", Content: []byte("x")}}}, nil,
			415, docuparse.CodeUnsupportedMedia, "notes.txt"},
		{"no extension", "extract", form{files: []samples.File{{Name: "README", Content: []byte("x")}}}, nil,
			415, docuparse.CodeUnsupportedMedia, "README"},
		{"missing file part", "extract", form{refs: []string{"x"}}, nil, 400, docuparse.CodeInvalidRequest, ""},
		{"empty batch", "batches", form{}, nil, 400, docuparse.CodeInvalidRequest, ""},
		{"two files on extract", "extract", form{files: []samples.File{pdf, pdf}}, nil, 400, docuparse.CodeInvalidRequest, ""},
		{"more than 100 files", "batches", form{files: tooMany}, nil, 413, docuparse.CodeBatchTooLarge, ""},
		{"client reference over 200 characters", "extract", form{files: []samples.File{pdf}, refs: []string{long}}, nil, 400, docuparse.CodeInvalidRequest, ""},
		{"more references than files", "batches", form{files: []samples.File{pdf}, refs: []string{"a", "b"}}, nil, 400, docuparse.CodeInvalidRequest, ""},
		{"idempotency key too long", "extract", form{files: []samples.File{pdf}},
			[]string{"Idempotency-Key", strings.Repeat("k", 256)}, 400, docuparse.CodeInvalidRequest, ""},
		{"idempotency key not printable ASCII", "extract", form{files: []samples.File{pdf}},
			[]string{"Idempotency-Key", "clé"}, 400, docuparse.CodeInvalidRequest, ""},
	}
	for _, c := range cases {
		r := b.submit(t, c.endpoint, c.form, c.headers...)
		if r.status != c.status {
			t.Errorf("%s: status %d %s, want %d", c.name, r.status, r.body, c.status)
			continue
		}
		if e := r.apiError(t); e.Code != c.code || e.Filename != c.filename {
			t.Errorf("%s: error %+v, want code %s filename %q", c.name, e, c.code, c.filename)
		}
	}
	// Not multipart at all.
	r := mustCall(t, http.MethodPost, b.api+"/extract", strings.NewReader(`{"file":"x"}`), "application/json")
	if r.status != 400 || r.apiError(t).Code != docuparse.CodeInvalidRequest {
		t.Errorf("JSON body: %d %s", r.status, r.body)
	}
	// Cut-off multipart body.
	body, ct := form{files: []samples.File{pdf}}.encode()
	r = mustCall(t, http.MethodPost, b.api+"/extract", bytes.NewReader(body[:len(body)/2]), ct)
	if r.status != 400 {
		t.Errorf("truncated body: %d %s", r.status, r.body)
	}
	// A refused batch creates nothing.
	if st := b.sim.Stats(); st.DocumentsCreated != 0 || st.BatchesCreated != 0 {
		t.Errorf("refusals created %d documents, %d batches", st.DocumentsCreated, st.BatchesCreated)
	}
	// A 200-character reference of multi-byte characters is fine.
	ok := b.submit(t, "extract", form{files: []samples.File{pdf}, refs: []string{long[:2*docuparse.MaxClientReferenceLen]}})
	if ok.status != http.StatusAccepted {
		t.Errorf("200-character reference: %d %s", ok.status, ok.body)
	}
}

func TestBatchOverTheByteLimitIsRefusedWhole(t *testing.T) {
	t.Parallel()
	b := setup(t, Config{})
	b.sim.maxBatchBytes = 1 << 20 // the real 200 MB works the same way, only slower
	big := samples.File{Name: "big.pdf", Content: bytes.Repeat([]byte("a"), 600<<10)}
	r := b.submit(t, "batches", form{files: []samples.File{big, {Name: "big2.pdf", Content: big.Content}}})
	if r.status != 413 || r.apiError(t).Code != docuparse.CodeBatchTooLarge {
		t.Fatalf("status %d %s", r.status, r.body)
	}
	if st := b.sim.Stats(); st.DocumentsCreated != 0 {
		t.Errorf("created %d documents", st.DocumentsCreated)
	}
	if r := b.submit(t, "batches", form{files: []samples.File{big}}); r.status != http.StatusAccepted {
		t.Errorf("batch under the limit: %d %s", r.status, r.body)
	}
}

// TestNearTenMegabyteFileStreams sends a real sample padded to exactly the
// limit through a chunked (unknown length) body, and one byte more.
func TestNearTenMegabyteFileStreams(t *testing.T) {
	t.Parallel()
	b := setup(t, Config{})
	f := samples.Demo()[0]
	padded := make([]byte, 0, docuparse.MaxFileBytes+1)
	padded = append(padded, f.Content...)
	for len(padded) < docuparse.MaxFileBytes {
		padded = append(padded, "% padding comment line\n"[:min(23, docuparse.MaxFileBytes-len(padded))]...)
	}
	stream := func(content []byte) reply {
		pr, pw := io.Pipe()
		mw := multipart.NewWriter(pw)
		go func() {
			part, _ := mw.CreateFormFile("file", f.Name)
			for off := 0; off < len(content); off += 64 << 10 {
				if _, err := part.Write(content[off:min(off+64<<10, len(content))]); err != nil {
					pw.CloseWithError(err)
					return
				}
			}
			pw.CloseWithError(mw.Close())
		}()
		return mustCall(t, http.MethodPost, b.api+"/extract", pr, mw.FormDataContentType())
	}

	r := stream(padded)
	if r.status != http.StatusAccepted {
		t.Fatalf("exactly 10 MB: %d %s", r.status, r.body)
	}
	var er docuparse.ExtractResponse
	r.decode(t, &er)
	if d := b.waitDone(t, er.DocumentID); d.Status != docuparse.StatusCompleted || !strings.Contains(string(d.Data), "Riverside") {
		t.Errorf("padded file: %+v %s", d, d.Data)
	}

	r = stream(append(padded, '\n'))
	if r.status != http.StatusRequestEntityTooLarge {
		t.Fatalf("10 MB + 1: %d %s", r.status, r.body)
	}
	if e := r.apiError(t); e.Code != docuparse.CodeFileTooLarge || e.Filename != f.Name {
		t.Errorf("error %+v", e)
	}
	if st := b.sim.Stats(); st.DocumentsCreated != 1 {
		t.Errorf("created %d documents", st.DocumentsCreated)
	}
}

func TestIdempotentReplayReturnsTheOriginalBodyWith200(t *testing.T) {
	t.Parallel()
	b := setup(t, Config{})
	f := form{files: samples.Generate(3, 5)}
	first := b.submit(t, "batches", f, "Idempotency-Key", "batch-0001")
	if first.status != http.StatusAccepted {
		t.Fatalf("first: %d %s", first.status, first.body)
	}
	for i := 0; i < 2; i++ {
		again := b.submit(t, "batches", f, "Idempotency-Key", "batch-0001")
		if again.status != http.StatusOK || !bytes.Equal(again.body, first.body) {
			t.Fatalf("replay %d: %d %s, want 200 %s", i, again.status, again.body, first.body)
		}
	}
	// Keys are per endpoint: the same key on /extract is a new request.
	if r := b.submit(t, "extract", form{files: f.files[:1]}, "Idempotency-Key", "batch-0001"); r.status != http.StatusAccepted {
		t.Errorf("same key on /extract: %d", r.status)
	}
	st := b.sim.Stats()
	if st.DocumentsCreated != 4 || st.BatchesCreated != 1 || st.IdempotentReplays != 2 {
		t.Errorf("stats %+v", st)
	}
	if st.Requests["POST /batches"][200] != 2 || st.Requests["POST /batches"][202] != 1 {
		t.Errorf("request counts %v", st.Requests)
	}
}

func TestIdempotencyWindowIs24HoursOfTheSimClock(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	now := time.Date(2026, 5, 19, 14, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	b := setup(t, Config{Now: clock})
	f := form{files: samples.Demo()[:1]}
	first := b.submit(t, "extract", f, "Idempotency-Key", "k1")
	advance(23*time.Hour + 59*time.Minute)
	if r := b.submit(t, "extract", f, "Idempotency-Key", "k1"); r.status != 200 || !bytes.Equal(r.body, first.body) {
		t.Fatalf("within 24 h: %d %s", r.status, r.body)
	}
	advance(2 * time.Minute)
	if r := b.submit(t, "extract", f, "Idempotency-Key", "k1"); r.status != 202 || bytes.Equal(r.body, first.body) {
		t.Fatalf("after 24 h: %d %s", r.status, r.body)
	}
	var er docuparse.ExtractResponse
	first.decode(t, &er)
	if d := b.document(t, er.DocumentID); !d.CreatedAt.Equal(time.Date(2026, 5, 19, 14, 0, 0, 0, time.UTC)) {
		t.Errorf("created_at %v does not follow the sim clock", d.CreatedAt)
	}
}

func TestFailedRequestsAreNotRemembered(t *testing.T) {
	t.Parallel()
	b := setup(t, Config{})
	bad := form{files: []samples.File{{Name: "x.docx", Content: []byte("x")}}}
	if r := b.submit(t, "batches", bad, "Idempotency-Key", "k"); r.status != 415 {
		t.Fatalf("status %d", r.status)
	}
	if r := b.submit(t, "batches", form{files: samples.Demo()[:2]}, "Idempotency-Key", "k"); r.status != 202 {
		t.Fatalf("retry without the refused file: %d %s", r.status, r.body)
	}
}

func TestRepeatWhileInFlightIsAConflict(t *testing.T) {
	t.Parallel()
	b := setup(t, Config{})
	claimed := make(chan struct{})
	var once sync.Once
	b.sim.hooks.keyClaimed = func() { once.Do(func() { close(claimed) }) }

	f := samples.Demo()[0]
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	firstDone := make(chan reply, 1)
	go func() {
		r, err := call(t, http.MethodPost, b.api+"/extract", pr, mw.FormDataContentType(), "Idempotency-Key", "slow")
		if err != nil {
			t.Errorf("first request: %v", err)
		}
		firstDone <- r
	}()
	<-claimed // the first request holds the key and waits for its body

	r := b.submit(t, "extract", form{files: []samples.File{f}}, "Idempotency-Key", "slow")
	if r.status != http.StatusConflict || r.apiError(t).Code != docuparse.CodeIdempotencyConflict {
		t.Fatalf("second: %d %s", r.status, r.body)
	}

	part, _ := mw.CreateFormFile("file", f.Name)
	_, _ = part.Write(f.Content)
	_ = mw.Close()
	_ = pw.Close()
	first := <-firstDone
	if first.status != http.StatusAccepted {
		t.Fatalf("first: %d %s", first.status, first.body)
	}
	if r := b.submit(t, "extract", form{files: []samples.File{f}}, "Idempotency-Key", "slow"); r.status != 200 || !bytes.Equal(r.body, first.body) {
		t.Fatalf("after the first finished: %d %s", r.status, r.body)
	}
	if st := b.sim.Stats(); st.IdempotencyConflicts != 1 || st.DocumentsCreated != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestDroppedConnectionThenReplayGetsTheOriginalResponse(t *testing.T) {
	t.Parallel()
	b := setup(t, Config{DropConnectionRate: 1})
	f := form{files: samples.Demo()[:3]}
	body, ct := f.encode()
	if r, err := call(t, http.MethodPost, b.api+"/batches", bytes.NewReader(body), ct, "Idempotency-Key", "drop-1"); err == nil {
		t.Fatalf("expected a dropped connection, got %d %s", r.status, r.body)
	}
	r := b.submit(t, "batches", f, "Idempotency-Key", "drop-1")
	if r.status != http.StatusOK {
		t.Fatalf("replay: %d %s", r.status, r.body)
	}
	var br docuparse.BatchResponse
	r.decode(t, &br)
	if len(br.Documents) != 3 {
		t.Fatalf("replay body %s", r.body)
	}
	if got := b.batch(t, br.BatchID); got.Summary.Total != 3 {
		t.Errorf("batch %+v", got)
	}
	// The dropped request is counted when its handler returns, which may be
	// after the client saw the connection close.
	testwait.For(t, "the dropped request to be counted", func() bool { return b.sim.Stats().Requests["POST /batches"][0] == 1 })
	st := b.sim.Stats()
	if st.ConnectionsDropped != 1 || st.DocumentsCreated != 3 || st.IdempotentReplays != 1 {
		t.Errorf("stats %+v", st)
	}
	for sum, n := range st.CreatedBySHA256 {
		if n != 1 {
			t.Errorf("%s created %d times", sum, n)
		}
	}
}

// BenchmarkSubmitBatch measures one POST /batches of 50 generated files
// through loopback HTTP: multipart streaming, hashing and extraction.
func BenchmarkSubmitBatch(b *testing.B) {
	s, err := New(Config{APIKey: testKey, ProcessingDelay: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Stop()
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	body, ct := form{files: samples.Generate(50, 1)}.encode()
	client := srv.Client()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/api/v1/batches", bytes.NewReader(body))
		req.Header.Set("Content-Type", ct)
		req.Header.Set("Authorization", "Bearer "+testKey)
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted {
			b.Fatalf("status %d", resp.StatusCode)
		}
	}
}
