package apiclient

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/docuparse/docuparse-ingest/internal/samples"
	"github.com/docuparse/docuparse-ingest/internal/sim"
)

func TestReplayReturnsTheOriginalAnswerForAKnownKeyAndRefusesAnUnknownOne(t *testing.T) {
	t.Parallel()
	s, err := sim.New(sim.Config{APIKey: testKey})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	c, _ := newClient(t, srv.URL+"/api/v1", nil)
	ctx := context.Background()
	dir := t.TempDir()
	f := samples.Demo()[0]
	tf := writeFile(t, dir, f.Name, f.Content)

	batch, err := c.SubmitBatch(ctx, "replay-batch", uploads(tf), "")
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.ReplayBatch(ctx, "replay-batch")
	if err != nil || got.BatchID != batch.BatchID || len(got.Documents) != 1 || got.Documents[0].DocumentID != batch.Documents[0].DocumentID {
		t.Fatalf("ReplayBatch(known) = %+v, %v; want %+v", got, err, batch)
	}
	if _, err := c.ReplayBatch(ctx, "never-sent-batch"); !IsPermanent(err) {
		t.Fatalf("ReplayBatch(unknown) = %v, want a permanent refusal", err)
	}

	one, err := c.Extract(ctx, "replay-extract", tf.upload, "")
	if err != nil {
		t.Fatal(err)
	}
	ex, err := c.ReplayExtract(ctx, "replay-extract")
	if err != nil || ex.DocumentID != one.DocumentID {
		t.Fatalf("ReplayExtract(known) = %+v, %v; want %s", ex, err, one.DocumentID)
	}
	if _, err := c.ReplayExtract(ctx, "never-sent-extract"); !IsPermanent(err) {
		t.Fatalf("ReplayExtract(unknown) = %v, want a permanent refusal", err)
	}
	if st := s.Stats(); st.DocumentsCreated != 2 {
		t.Fatalf("replays created documents: %d created, want 2", st.DocumentsCreated)
	}
}
