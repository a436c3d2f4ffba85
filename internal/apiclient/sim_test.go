package apiclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"

	"github.com/docuparse/docuparse-ingest/internal/docuparse"
	"github.com/docuparse/docuparse-ingest/internal/samples"
	"github.com/docuparse/docuparse-ingest/internal/sim"
	"github.com/docuparse/docuparse-ingest/internal/testwait"
)

// The client against the project's simulator, with dropped connections: the
// sim creates the documents, then hangs up; the client must retry with the
// same key, get the original answer, and nothing is created twice.
func TestAgainstTheSimulator(t *testing.T) {
	t.Parallel()
	s, err := sim.New(sim.Config{APIKey: testKey, DropConnectionRate: 0.5, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	s.Start(context.Background())
	t.Cleanup(s.Stop)
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	c, _ := newClient(t, srv.URL+"/api/v1", nil)
	ctx := context.Background()

	dir := t.TempDir()
	demo := samples.Demo()
	var files []testFile
	for i, f := range demo {
		tf := writeFile(t, dir, f.Name, f.Content)
		tf.upload.ClientReference = fmt.Sprintf("ref-%d", i)
		files = append(files, tf)
	}
	batch, err := c.SubmitBatch(ctx, "sim-batch-1", uploads(files...), "invoice")
	if err != nil {
		t.Fatalf("SubmitBatch: %v", err)
	}
	for i, d := range batch.Documents {
		if d.Filename != PartFilename(demo[i].Name) || d.ClientReference != fmt.Sprintf("ref-%d", i) {
			t.Errorf("document %d = %+v", i, d)
		}
	}
	again, err := c.SubmitBatch(ctx, "sim-batch-1", uploads(files...), "invoice")
	if err != nil || again.BatchID != batch.BatchID || !reflect.DeepEqual(again.Documents, batch.Documents) {
		t.Errorf("replay = %+v, %v; want the original %+v", again, err, batch)
	}
	extra := samples.Generate(1, 42)[0]
	one := writeFile(t, dir, "extra-"+extra.Name, extra.Content)
	ex, err := c.Extract(ctx, "sim-extract-1", one.upload, "")
	if err != nil {
		t.Fatalf("Extract: %v", err)
	}

	// Every document reaches the outcome the simulator promises.
	check := func(id, name string, content []byte) {
		t.Helper()
		var doc *docuparse.Document
		testwait.For(t, "document "+id+" to finish", func() bool {
			var err error
			doc, err = c.GetDocument(ctx, id)
			if err != nil {
				t.Fatalf("GetDocument(%s): %v", id, err)
			}
			return doc.Status != docuparse.StatusProcessing
		})
		wantData, wantErr := sim.Extract(PartFilename(name), content)
		if wantErr != nil {
			if doc.Status != docuparse.StatusFailed || doc.Error == nil || doc.Error.Code != wantErr.Code {
				t.Errorf("%s: %+v, want failure %+v", name, doc, wantErr)
			}
			return
		}
		var got docuparse.Data
		if err := json.Unmarshal(doc.Data, &got); err != nil || doc.Status != docuparse.StatusCompleted || !reflect.DeepEqual(&got, wantData) {
			t.Errorf("%s: %s %s, want %+v", name, doc.Status, doc.Data, wantData)
		}
	}
	for i, d := range batch.Documents {
		check(d.DocumentID, demo[i].Name, demo[i].Content)
	}
	check(ex.DocumentID, one.upload.Filename, extra.Content)

	b, err := c.GetBatch(ctx, batch.BatchID)
	if err != nil {
		t.Fatal(err)
	}
	if b.Summary.Total != len(demo) || b.Summary.Succeeded+b.Summary.Failed != len(demo) {
		t.Errorf("batch summary %+v", b.Summary)
	}

	st := s.Stats()
	for sum, n := range st.CreatedBySHA256 {
		if n != 1 {
			t.Errorf("content %s created %d times", sum, n)
		}
	}
	if len(st.CreatedBySHA256) != len(demo)+1 || st.IdempotentReplays < 1 {
		t.Errorf("stats: %d contents created, %d replays", len(st.CreatedBySHA256), st.IdempotentReplays)
	}
	t.Logf("connections dropped by the sim: %d, replays: %d", st.ConnectionsDropped, st.IdempotentReplays)

	// Refusals come back typed.
	bad := writeFile(t, dir, "notes.txt", []byte("hello"))
	_, err = c.SubmitBatch(ctx, "sim-batch-2", uploads(files[0], bad), "")
	var ae *APIError
	if !errors.As(err, &ae) || ae.StatusCode != http.StatusUnsupportedMediaType || ae.Filename != "notes.txt" || !IsPermanent(err) {
		t.Errorf("unsupported file: %v", err)
	}
	if _, err := c.GetDocument(ctx, "doc_nope"); !IsNotFound(err) {
		t.Errorf("unknown document: %v", err)
	}
	wrong, _ := newClient(t, srv.URL+"/api/v1", func(cfg *Config) { cfg.APIKey = "dex_wrong" })
	if _, err := wrong.GetBatch(ctx, batch.BatchID); !errors.As(err, &ae) || ae.StatusCode != http.StatusUnauthorized || !IsPermanent(err) {
		t.Errorf("wrong key: %v", err)
	}
}
