package mirror

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"testing"
	"time"

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
	t.Setenv("AWS_ACCESS_KEY_ID", "test-access-key")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test-secret-key")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	q := url.Values{"endpoint": {srv.URL}, "use_path_style": {"true"}, "disable_https": {"true"}, "region": {"us-east-1"}}
	e := newEnv(t, "s3://out-bkt/out/?"+q.Encode())
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
