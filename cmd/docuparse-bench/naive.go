package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/docuparse"
)

// naiveBatch is the naive client's batch size: the API's largest.
const naiveBatch = docuparse.MaxBatchFiles

// naiveMain is the naive baseline's process: everything in memory, nothing
// fsynced. It listens for webhooks on -listen, reads every file under
// -inbox, uploads them to -api in batches of 100 with -concurrency
// requests in flight, and appends a CSV line to -out for each document's
// first document.completed or document.failed event. When every file has
// its line it flushes the file (no fsync), prints "done N" and waits for
// its standard input to close, so that the driver can read its /proc
// entries first.
func naiveMain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("naive", flag.ContinueOnError)
	fs.SetOutput(stderr)
	inbox := fs.String("inbox", "", "folder to upload")
	api := fs.String("api", "", "the API's base URL")
	listen := fs.String("listen", "", "webhook listener address")
	out := fs.String("out", "", "CSV file to append to")
	conc := fs.Int("concurrency", 8, "uploads in flight")
	if err := fs.Parse(args); err != nil {
		return err
	}
	f, err := os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	c := &naive{names: map[string]string{}, early: map[string]docuparse.Event{}, written: map[string]bool{},
		w: bufio.NewWriter(f), done: make(chan struct{})}
	c.csv = csv.NewWriter(c.w)
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: http.HandlerFunc(c.webhook), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	n, err := c.run(ctx, *inbox, *api, *conc)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "done %d\n", n)
	_, _ = io.Copy(io.Discard, os.Stdin) // until the driver has read /proc
	return nil
}

// naive is the baseline client's state, all in memory.
type naive struct {
	mu      sync.Mutex
	names   map[string]string          // document id → file name, from the submit answers
	early   map[string]docuparse.Event // events that came before their submit answer
	written map[string]bool            // documents with their CSV line
	want    int
	w       *bufio.Writer
	csv     *csv.Writer
	done    chan struct{}
	err     error
}

// run reads the inbox, uploads it, and waits until every document has its
// line; it returns the number of files.
func (c *naive) run(ctx context.Context, inbox, api string, conc int) (int, error) {
	files, err := readTree(inbox)
	if err != nil {
		return 0, err
	}
	c.mu.Lock()
	c.want = len(files)
	c.mu.Unlock()
	if err := upload(ctx, api, files, conc, c.submitted); err != nil {
		return 0, err
	}
	select {
	case <-c.done:
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return 0, c.err
	}
	c.csv.Flush()
	if err := c.csv.Error(); err != nil {
		return 0, err
	}
	return len(files), c.w.Flush()
}

// webhook receives one delivery: the signature is checked, and a
// document's first result gets its line.
func (c *naive) webhook(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, "read", http.StatusBadRequest)
		return
	}
	if !docuparse.Verify([][]byte{[]byte(webhookSecret)}, body, r.Header.Get(docuparse.HeaderSignature)) {
		http.Error(w, "signature", http.StatusUnauthorized)
		return
	}
	var ev docuparse.Event
	if err := json.Unmarshal(body, &ev); err != nil {
		http.Error(w, "json", http.StatusBadRequest)
		return
	}
	if ev.Event == docuparse.EventDocumentCompleted || ev.Event == docuparse.EventDocumentFailed {
		c.mu.Lock()
		if name, ok := c.names[ev.DocumentID]; ok {
			c.line(ev, name)
		} else {
			c.early[ev.DocumentID] = ev
		}
		c.mu.Unlock()
	}
	w.WriteHeader(http.StatusOK)
}

// submitted records a batch's answer: document ids in file order.
func (c *naive) submitted(names []string, docs []docuparse.BatchDocument) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, d := range docs {
		c.names[d.DocumentID] = names[i]
		if ev, ok := c.early[d.DocumentID]; ok {
			delete(c.early, d.DocumentID)
			c.line(ev, names[i])
		}
	}
}

// line appends ev's CSV line unless its document has one; c.mu is held.
func (c *naive) line(ev docuparse.Event, name string) {
	if c.written[ev.DocumentID] {
		return
	}
	var d docuparse.Data
	status := docuparse.StatusFailed
	if ev.Event == docuparse.EventDocumentCompleted {
		status = docuparse.StatusCompleted
		if err := json.Unmarshal(ev.Data, &d); err != nil && c.err == nil {
			c.err = fmt.Errorf("document %s: data: %w", ev.DocumentID, err)
		}
	}
	if err := c.csv.Write([]string{ev.DocumentID, name, status, d.Merchant, d.Currency, d.Total}); err != nil && c.err == nil {
		c.err = err
	}
	c.written[ev.DocumentID] = true
	if len(c.written) == c.want {
		close(c.done)
	}
}

// errShortAnswer is a batch answer that does not list every file.
var errShortAnswer = errors.New("the batch answer does not list every file")
