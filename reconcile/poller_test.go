package reconcile

import (
	"context"
	"fmt"
	"github.com/docuparse/docuparse-ingest/internal/testclock"
	"github.com/docuparse/docuparse-ingest/internal/testwait"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/apiclient"
	"github.com/docuparse/docuparse-ingest/internal/samples"
	"github.com/docuparse/docuparse-ingest/internal/sim"
	"github.com/docuparse/docuparse-ingest/internal/store"
)

type bundle struct {
	store  *store.Store
	sim    *sim.Server
	client *apiclient.Client
	clock  *testclock.Clock
}

func setup(t *testing.T, simCfg sim.Config) (*Poller, *bundle) {
	t.Helper()
	b := &bundle{clock: testclock.New(time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC))}
	var err error
	b.store, err = store.Open(context.Background(), filepath.Join(t.TempDir(), "state.db"), store.Options{Now: b.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.store.Close() })
	simCfg.APIKey = "dex_poll_test"
	b.sim, err = sim.New(simCfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(b.sim.Handler())
	t.Cleanup(srv.Close)
	t.Cleanup(b.sim.Stop)
	b.client, err = apiclient.New(apiclient.Config{BaseURL: srv.URL + "/api/v1", APIKey: "dex_poll_test",
		RetryWaitMin: time.Millisecond, RetryWaitMax: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	p := New(Config{Store: b.store, Client: b.client, WebhookGrace: 5 * time.Minute, PollInterval: 30 * time.Second, Now: b.clock.Now})
	return p, b
}

// submit uploads files through the real client and records them in the
// store as submitted, as the submitter would.
func (b *bundle) submit(t *testing.T, files []samples.File) []int64 {
	t.Helper()
	ctx := context.Background()
	var ids []int64
	for i, f := range files {
		r, err := b.store.Intake(ctx, store.NewFile{Source: "s", Path: fmt.Sprintf("/in/%d-%s", i, f.Name), FileName: f.Name,
			Size: int64(len(f.Content)), ModTime: b.clock.Now(), SHA256: fmt.Sprintf("sha%d", i)})
		if err != nil {
			t.Fatal(err)
		}
		batch, err := b.store.CreateBatch(ctx, store.ModeSingle, []int64{r.ID})
		if err != nil {
			t.Fatal(err)
		}
		content := f.Content
		resp, err := b.client.Extract(ctx, batch.IdempotencyKey, apiclient.Upload{Filename: f.Name, Size: int64(len(content)),
			Open: func() (ioReadCloser, error) { return newReader(content), nil }}, "")
		if err != nil {
			t.Fatal(err)
		}
		if err := b.store.RecordSubmitted(ctx, batch.ID, "", nil, []store.Submitted{{DocID: r.ID, DocumentID: resp.DocumentID}}); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, r.ID)
	}
	return ids
}

func TestDocumentsAreNotPolledBeforeTheWebhookGrace(t *testing.T) {
	p, b := setup(t, sim.Config{})
	b.submit(t, samples.Demo()[:3])
	b.clock.Advance(4 * time.Minute)
	pass, err := p.RunOnce(context.Background())
	if err != nil || pass != (Pass{}) {
		t.Fatalf("pass = %+v, %v; want nothing polled inside the grace", pass, err)
	}
	if n := b.sim.Stats().Requests["GET /documents/{id}"]; len(n) != 0 {
		t.Fatalf("API polled: %v", n)
	}
}

func TestOverdueDocumentsArePolledAndTheirResultsApplied(t *testing.T) {
	p, b := setup(t, sim.Config{})
	files := samples.Demo()
	ids := b.submit(t, files)
	b.clock.Advance(6 * time.Minute)
	// The simulator completes documents asynchronously (zero delay): wait
	// until every one is done before polling.
	waitSim(t, b.sim, len(files))
	pass, err := p.RunOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if pass.Polled != len(files) || pass.Completed+pass.Failed != len(files) {
		t.Fatalf("pass = %+v", pass)
	}
	for i, id := range ids {
		d, _ := b.store.Get(context.Background(), id)
		data, apiErr := sim.Extract(files[i].Name, files[i].Content)
		want := store.StateCompleted
		if apiErr != nil {
			want = store.StateFailed
		}
		if d.State != want || d.ResultVia != store.ViaPoll {
			t.Fatalf("%s: %s via %s, want %s via poll", files[i].Name, d.State, d.ResultVia, want)
		}
		if apiErr == nil && d.Result == nil {
			t.Fatalf("%s: no data (want %v)", files[i].Name, data.Total)
		}
	}
	if pass, _ := p.RunOnce(context.Background()); pass != (Pass{}) {
		t.Fatalf("second pass = %+v, want nothing left to poll", pass)
	}
}

func TestStillProcessingDocumentsBackOff(t *testing.T) {
	p, b := setup(t, sim.Config{ProcessingDelay: time.Hour})
	ids := b.submit(t, samples.Demo()[:1])
	ctx := context.Background()
	b.clock.Advance(6 * time.Minute)
	if pass, _ := p.RunOnce(ctx); pass.Processing != 1 {
		t.Fatalf("first poll: pass = %+v, want one still processing", pass)
	}
	for _, wait := range []time.Duration{30 * time.Second, 60 * time.Second, 120 * time.Second} {
		b.clock.Advance(wait - time.Second)
		if pass, _ := p.RunOnce(ctx); pass.Polled != 0 {
			t.Fatalf("polled before the %v backoff was over", wait)
		}
		b.clock.Advance(time.Second)
		if pass, _ := p.RunOnce(ctx); pass.Processing != 1 {
			t.Fatalf("after %v: pass = %+v, want one still processing", wait, pass)
		}
	}
	if n, _ := b.store.PollCount(ctx, ids[0]); n != 4 {
		t.Fatalf("poll count = %d, want 4", n)
	}
}

func TestADocumentTheAPIDoesNotKnowIsKeptAndRetried(t *testing.T) {
	p, b := setup(t, sim.Config{})
	ctx := context.Background()
	r, _ := b.store.Intake(ctx, store.NewFile{Source: "s", Path: "/in/x.pdf", FileName: "x.pdf", Size: 1, ModTime: b.clock.Now(), SHA256: "x"})
	batch, _ := b.store.CreateBatch(ctx, store.ModeSingle, []int64{r.ID})
	if err := b.store.RecordSubmitted(ctx, batch.ID, "", nil, []store.Submitted{{DocID: r.ID, DocumentID: "doc_gone"}}); err != nil {
		t.Fatal(err)
	}
	b.clock.Advance(6 * time.Minute)
	pass, err := p.RunOnce(ctx)
	if err != nil || pass.Errors != 1 {
		t.Fatalf("pass = %+v, %v", pass, err)
	}
	d, _ := b.store.Get(ctx, r.ID)
	if d.State != store.StateSubmitted {
		t.Fatalf("state = %s; an unknown document must stay visible, not vanish", d.State)
	}
}

func waitSim(t *testing.T, s *sim.Server, n int) {
	t.Helper()
	testwait.For(t, fmt.Sprintf("the simulator to finish %d documents", n), func() bool {
		st := s.Stats()
		return st.DocumentsCompleted+st.DocumentsFailed >= n
	})
}
