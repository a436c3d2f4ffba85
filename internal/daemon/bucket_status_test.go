package daemon_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/bucket"
	"github.com/docuparse/docuparse-ingest/internal/bucketemu"
	"github.com/docuparse/docuparse-ingest/internal/config"
	"github.com/docuparse/docuparse-ingest/internal/daemon"
	"github.com/docuparse/docuparse-ingest/internal/e2e"
	"github.com/docuparse/docuparse-ingest/internal/samples"
	"github.com/docuparse/docuparse-ingest/internal/sim"
	"github.com/docuparse/docuparse-ingest/internal/sourcestate"
	"github.com/docuparse/docuparse-ingest/internal/testlog"
)

// outage stands between the daemon and an S3-compatible server: while
// down, every connection is cut, as when the bucket's endpoint is
// unreachable; up again, requests pass.
type outage struct {
	down atomic.Bool
	url  string // the bucket URL of prefix "in/" through the proxy
}

func newOutage(t *testing.T, s bucketemu.Store) *outage {
	t.Helper()
	u, err := url.Parse(s.URL("in/"))
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	target, err := url.Parse(q.Get("endpoint"))
	if err != nil {
		t.Fatal(err)
	}
	o := &outage{}
	proxy := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if o.down.Load() {
			if c, _, err := http.NewResponseController(w).Hijack(); err == nil {
				c.Close()
			}
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	q.Set("endpoint", srv.URL)
	u.RawQuery = q.Encode()
	o.url = u.String()
	return o
}

// waitListings polls the sources file status reads until cond holds.
func waitListings(t *testing.T, stateDir, what string, cond func(map[string]sourcestate.Listing) bool) map[string]sourcestate.Listing {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		snap, err := sourcestate.Read(stateDir)
		if err != nil {
			t.Fatal(err)
		}
		if cond(snap.Sources) {
			return snap.Sources
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; sources file: %+v", what, snap.Sources)
		}
		<-tick.C
	}
}

// TestAnUnreachableBucketShowsInReadyzAndStatusWhileOtherSourcesGoOn cuts
// one bucket source's endpoint off: /readyz's sources check names the
// source and the bucket, the sources file status reads shows the error
// (and keeps the last successful listing and its objects), another bucket
// source keeps taking objects in; once the endpoint is back, both clear.
func TestAnUnreachableBucketShowsInReadyzAndStatusWhileOtherSourcesGoOn(t *testing.T) {
	s3 := bucketemu.S3(t)
	out := newOutage(t, s3)
	mem := bucketemu.Mem(t)
	h := &harness{dir: t.TempDir(), tr: e2e.NewTracker()}
	h.sim = e2e.StartSim(t, sim.Config{Seed: 5})
	text := h.sim.BucketConfig(h.dir, out.url, "") + `
[[source]]
name   = "other"
url    = "` + mem.URL("in/") + `"
settle = "400ms"
poll_interval = "300ms"
`
	cfg, err := config.Parse(strings.NewReader(text), "e2e.toml", e2e.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	h.cfg = cfg
	direct, err := bucket.Open(context.Background(), s3.URL("in/"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { direct.Close() })
	first := e2e.DropObjects(t, direct, samples.Generate(2, 21))
	logger, logs := testlog.Logger(slog.LevelInfo)
	d, err := daemon.New(context.Background(), h.cfg, daemon.Options{OnTransition: h.tr.Observe, SubmitBackoff: 50 * time.Millisecond, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	h.sim.SetWebhookURL("http://" + d.ReceiverAddr() + h.cfg.Receiver.Path)
	if err := d.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Stop)
	h.tr.WaitFor(t, "the first objects exported", 60*time.Second, h.tr.AllEnded(first))
	waitListings(t, cfg.StateDir, "both sources listed", func(m map[string]sourcestate.Listing) bool {
		return m["bucket"].Objects == 2 && m["other"].LastSuccess != nil
	})
	if err := d.CheckSources(context.Background()); err != nil {
		t.Fatalf("sources check before the outage: %v", err)
	}

	out.down.Store(true)
	l := waitListings(t, cfg.StateDir, "the failing listing recorded", func(m map[string]sourcestate.Listing) bool {
		return m["bucket"].Error != ""
	})["bucket"]
	where := "s3://" + s3.Bucket + "/in/"
	if l.Bucket != where || l.FailingSince == nil || l.LastSuccess == nil || l.Objects != 2 || l.Errors == 0 {
		t.Fatalf("failing source recorded as %+v; want bucket %s, failing since, last success and 2 objects kept", l, where)
	}
	err = d.CheckSources(context.Background())
	if err == nil || !strings.Contains(err.Error(), `"bucket"`) || !strings.Contains(err.Error(), where) {
		t.Fatalf("sources check during the outage: %v; want it to name source \"bucket\" and %s", err, where)
	}
	for _, secret := range []string{"test-secret-key", "endpoint="} {
		if strings.Contains(err.Error()+l.Error, secret) {
			t.Fatalf("the error shows %q: %v / %s", secret, err, l.Error)
		}
	}
	others := e2e.DropObjects(t, mustOpen(t, mem.URL("in/")), samples.Generate(3, 22))
	h.tr.WaitFor(t, "the other source's objects exported during the outage", 60*time.Second, h.tr.AllEnded(others))

	waitListings(t, cfg.StateDir, "a second failed listing", func(m map[string]sourcestate.Listing) bool {
		return m["bucket"].Errors >= 2
	})
	out.down.Store(false)
	waitListings(t, cfg.StateDir, "the source listed again", func(m map[string]sourcestate.Listing) bool {
		b := m["bucket"]
		return b.Error == "" && b.FailingSince == nil && b.LastSuccess.After(*l.FailingSince)
	})
	if err := d.CheckSources(context.Background()); err != nil {
		t.Fatalf("sources check after the outage: %v", err)
	}
	// Said once when the failures started and once when they ended, for
	// all the listings that failed in between.
	if n, m := logs.Count("cannot list the bucket"), logs.Count("the bucket can be listed again"); n != 1 || m != 1 {
		t.Fatalf("logged the failure %d times and its end %d times; want once each:\n%s", n, m, logs)
	}
}

func mustOpen(t *testing.T, raw string) *bucket.Bucket {
	t.Helper()
	b, err := bucket.Open(context.Background(), raw)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}
