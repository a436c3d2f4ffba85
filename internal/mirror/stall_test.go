package mirror

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/bucketemu"
	"github.com/docuparse/docuparse-ingest/internal/health"
	"github.com/docuparse/docuparse-ingest/internal/output"
)

// A request the bucket takes and never answers (a stalled proxy) ends the
// pass with an error and the mirror problem: the clouds' HTTP clients set
// no time limit of their own, so the mirror waited for ever, its backlog
// growing, with no problem shown.
func TestARequestNeverAnsweredEndsThePass(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	e := newEnv(t, bucketemu.S3URL(t, srv.URL, "out-bkt", "out/"))
	e.write("results/"+day+"/doc_a.json", "a")
	e.health = health.New(health.Options{Logger: e.log})
	m, err := New(context.Background(), Config{Store: e.st, Layout: output.Layout{Root: e.out, Location: zone}, URL: e.url,
		Health: e.health, Now: func() time.Time { return e.now }, Logger: e.log, RequestTimeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Stop)
	defer close(release) // before m.Stop, which waits for requests in flight
	done := make(chan error, 1)
	go func() { done <- m.runOnce(context.Background()) }()
	select {
	case err := <-done:
		if err == nil || !e.health.Has(health.Mirror) || e.pending() != 1 {
			t.Fatalf("a pass against a bucket that never answers: %v, problem %v, backlog %d; want an error, the problem, 1",
				err, e.health.Has(health.Mirror), e.pending())
		}
	case <-time.After(30 * time.Second): // a guard, not a measure: the request timeout is 200 ms
		t.Fatal("a pass against a bucket that never answers is still waiting after 30 s")
	}
}
