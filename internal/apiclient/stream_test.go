package apiclient

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strings"
	"testing"
)

// Not parallel: it measures the process's allocations during one upload.
func TestLargeFileIsStreamedWithBoundedMemory(t *testing.T) {
	const size = 9 << 20
	f := writeFile(t, t.TempDir(), "large.pdf", randomBytes(size))

	api := newFakeAPI(t, nil)
	c, _ := newClient(t, api.url(), nil)
	small := writeFile(t, t.TempDir(), "small.csv", []byte("a,b\n"))

	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	if _, err := c.SubmitBatch(context.Background(), "k-large", uploads(f, small), "invoice"); err != nil {
		t.Fatalf("SubmitBatch: %v", err)
	}
	runtime.ReadMemStats(&after)

	at := api.attempts()[0]
	if !at.Complete || at.ContentLength != at.Received || at.Received < size {
		t.Fatalf("server got %d of %d bytes (complete %v: %s)", at.Received, at.ContentLength, at.Complete, at.BodyErr)
	}
	if fs := at.files(); fs[0].Size != size || fs[0].SHA256 != f.sha256 || fs[1].SHA256 != small.sha256 {
		t.Errorf("files = %+v", fs)
	}
	// Client and server together allocated far less than the file: nothing
	// held it in memory.
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > size/3 {
		t.Errorf("allocated %d bytes while uploading a %d-byte file", alloc, size)
	}
}

func TestFileDeletedBetweenAttemptsIsAnOpenErrorAndStopsRetrying(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	files := []testFile{
		writeFile(t, dir, "a.pdf", []byte("first")),
		writeFile(t, dir, "b.pdf", []byte("second")),
		writeFile(t, dir, "c.pdf", []byte("third")),
	}
	api := newFakeAPI(t, func(n int, a *attempt, w http.ResponseWriter, r *http.Request) bool {
		if n == 1 {
			if err := os.Remove(files[1].path); err != nil {
				t.Errorf("remove: %v", err)
			}
			writeError(w, 503, "UNAVAILABLE", "try again", "")
			return true
		}
		t.Errorf("attempt %d completed although a file is gone", n)
		return false
	})
	c, obs := newClient(t, api.url(), nil)
	_, err := c.SubmitBatch(context.Background(), "k", uploads(files...), "")
	var oe *OpenError
	if !errors.As(err, &oe) {
		t.Fatalf("err = %v, want *OpenError", err)
	}
	if oe.Index != 1 || oe.Filename != "b.pdf" || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("OpenError = %+v", oe)
	}
	if IsPermanent(err) {
		t.Error("an OpenError is not an API refusal")
	}
	if !strings.Contains(err.Error(), "submit_batch") || !strings.Contains(err.Error(), `"b.pdf"`) {
		t.Errorf("message %q", err)
	}
	if n := len(obs.statuses()); n > 2 {
		t.Errorf("%d attempts, want retrying to stop at the missing file", n)
	}
}

func TestOpenFailureOnTheFirstAttemptSendsNothingUseful(t *testing.T) {
	t.Parallel()
	api := newFakeAPI(t, nil)
	c, _ := newClient(t, api.url(), nil)
	u := Upload{Filename: "gone.pdf", Size: 3, Open: func() (io.ReadCloser, error) {
		return nil, &fs.PathError{Op: "open", Path: "/inbox/gone.pdf", Err: fs.ErrPermission}
	}}
	_, err := c.Extract(context.Background(), "k", u, "")
	var oe *OpenError
	if !errors.As(err, &oe) || oe.Index != 0 || !errors.Is(err, fs.ErrPermission) {
		t.Fatalf("err = %v", err)
	}
	for _, at := range api.attempts() {
		if at.Complete {
			t.Errorf("server received a complete body: %+v", at)
		}
	}
}

func TestAFileWhoseSizeChangedAbortsTheAttempt(t *testing.T) {
	t.Parallel()
	for name, delta := range map[string]int64{"grew": -1, "shrank": +1} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			api := newFakeAPI(t, nil)
			c, _ := newClient(t, api.url(), nil)
			dir := t.TempDir()
			ok := writeFile(t, dir, "ok.pdf", []byte("fine"))
			changed := writeFile(t, dir, "changed.pdf", bytes.Repeat([]byte("z"), 100_000))
			changed.upload.Size += delta // the size measured earlier no longer matches
			_, err := c.SubmitBatch(context.Background(), "k", uploads(ok, changed), "")
			var oe *OpenError
			if !errors.As(err, &oe) || oe.Index != 1 || !errors.Is(err, ErrSizeChanged) {
				t.Fatalf("err = %v, want OpenError{Index 1} wrapping ErrSizeChanged", err)
			}
			for _, at := range api.attempts() {
				if at.Complete {
					t.Errorf("server received a complete (corrupt) body: %+v", at)
				}
			}
		})
	}
}

func TestUnknownSizeIsSentChunked(t *testing.T) {
	t.Parallel()
	api := newFakeAPI(t, nil)
	c, _ := newClient(t, api.url(), nil)
	f := writeFile(t, t.TempDir(), "a.csv", []byte("x,y\n1,2\n"))
	f.upload.Size = -1
	if _, err := c.Extract(context.Background(), "k", f.upload, ""); err != nil {
		t.Fatal(err)
	}
	at := api.attempts()[0]
	if at.ContentLength != -1 || !at.Complete || at.Parts[0].SHA256 != f.sha256 {
		t.Errorf("attempt = %+v", at)
	}
}

func TestWriterGoroutineEndsWhenTheServerAnswersBeforeReadingTheBody(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Connection", "close")
		writeError(w, http.StatusRequestEntityTooLarge, "BATCH_TOO_LARGE", "too much", "")
	}))
	t.Cleanup(srv.Close)
	// newClient's cleanup waits until no writer goroutine is left.
	c, _ := newClient(t, srv.URL, nil)
	dir := t.TempDir()
	var files []testFile
	for _, n := range []string{"a.pdf", "b.pdf", "c.pdf"} {
		files = append(files, writeFile(t, dir, n, bytes.Repeat([]byte("y"), 3<<20)))
	}
	_, err := c.SubmitBatch(context.Background(), "k", uploads(files...), "")
	// Depending on who wins the race, the error is the 413 or the aborted
	// write; either way the call ends, and its writer goroutine with it.
	if err == nil {
		t.Fatal("no error")
	}
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.NewChaCha8([32]byte{1}).Read(b)
	return b
}
