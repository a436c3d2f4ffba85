package apiclient

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/docuparse"
	"github.com/docuparse/docuparse-ingest/internal/sim"
	"github.com/docuparse/docuparse-ingest/internal/testwait"
)

// smallSendBuffer gives c's connections a send buffer of a real uplink. On
// loopback the kernel grows it to megabytes at once (64 KiB segments): a
// whole test body would vanish into it, and a stalled server would look
// like a fast one.
func smallSendBuffer(t *testing.T, c *Client) {
	t.Helper()
	tr, ok := c.rt.base.(*http.Transport)
	if !ok {
		t.Fatalf("base transport is %T", c.rt.base)
	}
	var d net.Dialer
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := d.DialContext(ctx, network, addr)
		if tc, ok := conn.(*net.TCPConn); ok {
			_ = tc.SetWriteBuffer(64 << 10)
		}
		return conn, err
	}
}

// startSim serves a simulator on loopback for the test.
func startSim(t *testing.T, cfg sim.Config) (*sim.Server, string) {
	t.Helper()
	cfg.APIKey = testKey
	s, err := sim.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(func() {
		srv.Close()
		s.Stop()
	})
	return s, srv.URL + "/api/v1"
}

// distinctFiles writes n files of size random bytes, each different.
func distinctFiles(t *testing.T, n, size int) []testFile {
	t.Helper()
	dir := t.TempDir()
	var files []testFile
	for i := range n {
		b := randomBytes(size)
		b[0] = byte(i)
		files = append(files, writeFile(t, dir, fmt.Sprintf("big-%d.pdf", i), b))
	}
	return files
}

// A body that takes several times api.timeout to upload but never stops
// moving is sent once: the API creates each document once, and the client
// never re-sends it.
func TestASlowUploadThatKeepsMovingIsSentInOneAttempt(t *testing.T) {
	t.Parallel()
	const (
		// Under -race on a loaded machine the longest silences seen were
		// about 150 ms while sending and 250 ms awaiting the answer.
		timeout = 1500 * time.Millisecond
		rate    = 2 << 20 // bytes per second: 100 KiB every 50 ms
	)
	s, base := startSim(t, sim.Config{UploadRate: rate})
	c, obs := newClient(t, base, func(cfg *Config) { cfg.Timeout = timeout; cfg.MaxRetries = 2 })
	smallSendBuffer(t, c)
	// 9 MiB at 2 MiB/s: 4.5 s, three times the timeout.
	files := distinctFiles(t, 2, 9<<20/2)

	resp, err := c.SubmitBatch(context.Background(), "slow-upload", uploads(files...), "")
	if err != nil {
		t.Fatalf("SubmitBatch: %v", err)
	}
	if len(resp.Documents) != 2 {
		t.Errorf("response %+v", resp)
	}
	st := s.Stats()
	if got := st.Requests["POST /batches"]; !reflect.DeepEqual(got, map[int]int{http.StatusAccepted: 1}) {
		t.Errorf("the simulator saw submits %v, want exactly one, accepted", got)
	}
	for _, f := range files {
		if n := st.CreatedBySHA256[f.sha256]; n != 1 {
			t.Errorf("%s created %d times", f.upload.Filename, n)
		}
	}
	if s := obs.statuses(); !reflect.DeepEqual(s, []int{http.StatusAccepted}) {
		t.Errorf("attempts %v, want one", s)
	}
}

// A server that stops reading the body mid-way: each attempt is aborted
// once nothing moves for api.timeout, and retried under the same key.
func TestAStalledUploadIsAbortedAndRetriedWithTheSameKey(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	var (
		mu       sync.Mutex
		keys     []string
		received []int64
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := io.CopyN(io.Discard, r.Body, 64<<10)
		mu.Lock()
		keys = append(keys, r.Header.Get(docuparse.HeaderIdempotencyKey))
		received = append(received, n)
		mu.Unlock()
		<-release // stop reading; the client must give up on its own
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) }) // runs first: lets the handlers end
	c, obs := newClient(t, srv.URL, func(cfg *Config) { cfg.Timeout = 300 * time.Millisecond; cfg.MaxRetries = 1 })
	smallSendBuffer(t, c)

	_, err := c.SubmitBatch(context.Background(), "stalled-upload", uploads(distinctFiles(t, 1, 4<<20)...), "")
	var te *TimeoutError
	if !errors.As(err, &te) || te.Stage != StageSend {
		t.Fatalf("err = %v, want a *TimeoutError of stage send", err)
	}
	if IsPermanent(err) || !strings.Contains(err.Error(), "upload stalled") {
		t.Errorf("err = %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(keys) != 2 || keys[0] != "stalled-upload" || keys[1] != keys[0] {
		t.Errorf("attempts carried keys %q, want the same key twice", keys)
	}
	if s := obs.statuses(); !reflect.DeepEqual(s, []int{0, 0}) {
		t.Errorf("attempts %v, want two without an answer", s)
	}
}

// A server that reads the whole body and never answers: the attempt ends
// api.timeout after the body was sent, and the simulator, seeing the client
// gone, creates nothing.
func TestAnUnansweredSubmitTimesOutAfterTheBodyWasSent(t *testing.T) {
	t.Parallel()
	s, base := startSim(t, sim.Config{SubmitDelay: time.Hour})
	c, _ := newClient(t, base, func(cfg *Config) { cfg.Timeout = 300 * time.Millisecond; cfg.MaxRetries = -1 })

	// A small body: it is sent at once, whatever the load of the machine.
	_, err := c.SubmitBatch(context.Background(), "unanswered", uploads(distinctFiles(t, 2, 16<<10)...), "")
	var te *TimeoutError
	if !errors.As(err, &te) || te.Stage != StageAwait {
		t.Fatalf("err = %v, want a *TimeoutError of stage await", err)
	}
	testwait.For(t, "the simulator to see the client gone", func() bool {
		return s.Stats().Requests["POST /batches"][0] == 1
	})
	if n := s.Stats().DocumentsCreated; n != 0 {
		t.Errorf("%d documents created", n)
	}
}

// An answer that trickles in for longer than api.timeout is read to its end.
func TestASlowAnswerThatKeepsComingIsRead(t *testing.T) {
	t.Parallel()
	api := newFakeAPI(t, func(n int, a *attempt, w http.ResponseWriter, r *http.Request) bool {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"document_id":"doc_1",`)
		// 30 × 50 ms: 1.5 s, three times the timeout. The pause is the
		// scenario (a slow answer), not synchronisation.
		for range 30 {
			http.NewResponseController(w).Flush()
			time.Sleep(50 * time.Millisecond)
			_, _ = io.WriteString(w, " ")
		}
		_, _ = io.WriteString(w, `"status":"processing"}`)
		return true
	})
	c, obs := newClient(t, api.url(), func(cfg *Config) { cfg.Timeout = 500 * time.Millisecond; cfg.MaxRetries = 2 })
	doc, err := c.GetDocument(context.Background(), "doc_1")
	if err != nil || doc.Status != docuparse.StatusProcessing {
		t.Fatalf("GetDocument = %+v, %v", doc, err)
	}
	if s := obs.statuses(); len(s) != 1 {
		t.Errorf("attempts %v, want one", s)
	}
}

// An answer that stops half-way is abandoned after api.timeout.
func TestAnAnswerThatStopsIsAbandoned(t *testing.T) {
	t.Parallel()
	api := newFakeAPI(t, func(n int, a *attempt, w http.ResponseWriter, r *http.Request) bool {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"document_id":"doc_1",`)
		http.NewResponseController(w).Flush()
		<-r.Context().Done() // the client hangs up
		return true
	})
	c, _ := newClient(t, api.url(), func(cfg *Config) { cfg.Timeout = 300 * time.Millisecond; cfg.MaxRetries = -1 })
	_, err := c.GetDocument(context.Background(), "doc_1")
	var te *TimeoutError
	if !errors.As(err, &te) || te.Stage != StageReceive {
		t.Fatalf("err = %v, want a *TimeoutError of stage receive", err)
	}
}
