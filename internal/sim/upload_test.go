package sim

import (
	"bytes"
	"context"
	"io"
	"mime/multipart"
	"net/http"
	"testing"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/docuparse"
	"github.com/docuparse/docuparse-ingest/internal/samples"
	"github.com/docuparse/docuparse-ingest/internal/testwait"
)

// The pace is kept on a fake clock: reading 1000 bytes at 100 bytes/s takes
// 10 s of sleeping, in steps of at most rate/20 bytes.
func TestAPacedBodyKeepsToItsRate(t *testing.T) {
	t.Parallel()
	clock := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	start := clock
	b := &slowBody{
		ReadCloser: io.NopCloser(bytes.NewReader(make([]byte, 1000))),
		ctx:        context.Background(), rate: 100, stallAt: -1,
		now:   func() time.Time { return clock },
		sleep: func(_ context.Context, d time.Duration) bool { clock = clock.Add(d); return true },
	}
	buf := make([]byte, 64)
	total := 0
	for {
		n, err := b.Read(buf)
		if n > 5 {
			t.Fatalf("read %d bytes at once, want at most rate/20 = 5", n)
		}
		total += n
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if elapsed := clock.Sub(start); total != 1000 || elapsed < 10*time.Second-paceQuantum || elapsed > 10*time.Second {
		t.Errorf("read %d bytes in %v of the fake clock, want 1000 in 10s", total, elapsed)
	}
}

func TestAPacedUploadCreatesItsDocuments(t *testing.T) {
	t.Parallel()
	b := setup(t, Config{UploadRate: 4 << 20})
	r := b.submit(t, "batches", form{files: samples.Demo()[:3]}, "Idempotency-Key", "paced")
	if r.status != http.StatusAccepted {
		t.Fatalf("status %d %s", r.status, r.body)
	}
	if st := b.sim.Stats(); st.DocumentsCreated != 3 || st.UploadsStalled != 0 {
		t.Errorf("stats %+v", st)
	}
}

// A stalled upload stops reading, then goes on: the request still succeeds.
func TestAStalledUploadResumesAfterTheStall(t *testing.T) {
	t.Parallel()
	b := setup(t, Config{UploadStallRate: 1, UploadStallAfter: 100, UploadStall: 50 * time.Millisecond})
	stalled := make(chan struct{}, 1)
	b.sim.hooks.uploadStalled = func() { stalled <- struct{}{} }
	r := b.submit(t, "batches", form{files: samples.Demo()[:2]}, "Idempotency-Key", "stall-1")
	if r.status != http.StatusAccepted {
		t.Fatalf("status %d %s", r.status, r.body)
	}
	select {
	case <-stalled:
	default:
		t.Error("the upload did not stall")
	}
	if st := b.sim.Stats(); st.UploadsStalled != 1 || st.DocumentsCreated != 2 {
		t.Errorf("stats %+v", st)
	}
}

// A client that gives up on a stalled upload has sent an incomplete body:
// nothing is created and its key is free for the retry.
func TestAStalledUploadThatTheClientAbandonsCreatesNothing(t *testing.T) {
	t.Parallel()
	b := setup(t, Config{UploadStallRate: 1, UploadStallAfter: 10, UploadStall: 20 * time.Millisecond})
	stalled := make(chan struct{}, 2)
	b.sim.hooks.uploadStalled = func() { stalled <- struct{}{} }

	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		part, _ := mw.CreateFormFile("file", "a.pdf")
		_, _ = part.Write(bytes.Repeat([]byte("x"), 1000))
		// The rest of the body never comes: the client gives up.
	}()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, b.api+"/batches", pr)
	req.Header.Set("Authorization", "Bearer "+testKey)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set(docuparse.HeaderIdempotencyKey, "abandoned")
	done := make(chan error, 1)
	go func() {
		resp, err := (&http.Client{Transport: &http.Transport{DisableKeepAlives: true}}).Do(req)
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	<-stalled
	cancel()
	_ = pw.CloseWithError(context.Canceled)
	if err := <-done; err == nil {
		t.Fatal("the abandoned request got an answer")
	}
	testwait.For(t, "the abandoned submit to end", func() bool {
		n := 0
		for _, c := range b.sim.Stats().Requests["POST /batches"] {
			n += c
		}
		return n == 1
	})
	if st := b.sim.Stats(); st.DocumentsCreated != 0 {
		t.Fatalf("an incomplete body created %d documents", st.DocumentsCreated)
	}
	r := b.submit(t, "batches", form{files: samples.Demo()[:1]}, "Idempotency-Key", "abandoned")
	if r.status != http.StatusAccepted {
		t.Fatalf("retry under the same key: %d %s", r.status, r.body)
	}
}
