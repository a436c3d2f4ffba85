// Package bucketemu starts real object-storage servers on loopback for
// tests: an S3-compatible server (gofakes3), the GCS emulator
// (fake-gcs-server's fakestorage), Azure's Azurite (the npm package, a
// program from outside Go: see testext.Need), and gives file:// and mem://
// buckets. Each returns a Store whose URL is a source url or output_url as
// a user would write it for that cloud, so tests reach every emulator
// through gocloud's URL openers and the daemon's own code, exactly as a
// configuration does. Only tests import it.
//
// The emulators' credentials are set with t.Setenv (the clouds' normal
// environment chain), so tests that use them cannot be parallel.
package bucketemu

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/fsouza/fake-gcs-server/fakestorage"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/docuparse/docuparse-ingest/internal/testext"
)

// Store is one bucket on one emulator.
type Store struct {
	Kind   string // s3, gs, azblob, file, mem
	Bucket string
	query  string // the URL's query: endpoint options
	dir    string // file: the directory
	// Stop stops the server (to play an outage); nil where there is none.
	Stop func()
	// S3 only: requests counts the requests the server answered, by kind
	// ("list", "get", "head", "put", "delete", "copy"), and fail, while
	// set, answers every request 503 (an outage the server comes back
	// from).
	requests *counts
	fail     *atomic.Bool
}

type counts struct {
	mu sync.Mutex
	m  map[string]int
}

// Requests returns how many requests of a kind ("list", "get", "head",
// "put", "delete", "copy") the S3 server answered.
func (s Store) Requests(kind string) int {
	s.requests.mu.Lock()
	defer s.requests.mu.Unlock()
	return s.requests.m[kind]
}

// SetFailing makes the S3 server answer every request 503 SlowDown (on)
// or serve again (off).
func (s Store) SetFailing(on bool) { s.fail.Store(on) }

// s3Kind names an S3 request.
func s3Kind(r *http.Request) string {
	q := r.URL.Query()
	switch {
	case r.Method == http.MethodGet && (q.Has("list-type") || q.Has("prefix") || q.Has("delimiter") || strings.Count(strings.Trim(r.URL.Path, "/"), "/") == 0):
		return "list"
	case r.Method == http.MethodGet:
		return "get"
	case r.Method == http.MethodHead:
		return "head"
	case r.Method == http.MethodPut && r.Header.Get("X-Amz-Copy-Source") != "":
		return "copy"
	case r.Method == http.MethodPut:
		return "put"
	case r.Method == http.MethodDelete:
		return "delete"
	}
	return strings.ToLower(r.Method)
}

// URL returns the bucket URL of prefix ("" or "in/"), as a configuration
// holds it.
func (s Store) URL(prefix string) string {
	var u string
	switch s.Kind {
	case "file":
		u = "file://" + s.dir
		if prefix != "" {
			u += "?prefix=" + url.QueryEscape(prefix)
		}
		return u
	default:
		u = s.Kind + "://" + s.Bucket + "/" + prefix
	}
	if s.query != "" {
		u += "?" + s.query
	}
	return u
}

var seq atomic.Int64

func bucketName(t testing.TB) string {
	return fmt.Sprintf("dpi-%d-%d", os.Getpid()%100000, seq.Add(1))
}

// S3 starts an S3-compatible server (gofakes3) on loopback with one bucket.
func S3(t testing.TB) Store {
	t.Helper()
	backend := s3mem.New()
	fake := gofakes3.New(backend, gofakes3.WithAutoBucket(false)).Server()
	reqs, fail := &counts{m: map[string]int{}}, new(atomic.Bool)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if fail.Load() {
			w.Header().Set("Retry-After", "0")
			http.Error(w, "<Error><Code>SlowDown</Code><Message>test outage</Message></Error>", http.StatusServiceUnavailable)
			return
		}
		reqs.mu.Lock()
		reqs.m[s3Kind(r)]++
		reqs.mu.Unlock()
		fake.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	name := bucketName(t)
	if err := backend.CreateBucket(name); err != nil {
		t.Fatal(err)
	}
	return Store{Kind: "s3", Bucket: name, query: s3Query(t, srv.URL), Stop: srv.Close, requests: reqs, fail: fail}
}

// S3URL returns the URL of prefix in bucket on an S3-speaking server at
// endpoint (a test's own, answering as a hostile or broken store would),
// with the AWS environment set as for S3: test credentials, no instance
// metadata, no shared config.
func S3URL(t testing.TB, endpoint, bucket, prefix string) string {
	t.Helper()
	return "s3://" + bucket + "/" + prefix + "?" + s3Query(t, endpoint)
}

// s3Query sets the AWS environment for a test server at endpoint and
// returns the URL query that reaches it.
func s3Query(t testing.TB, endpoint string) string {
	t.Helper()
	t.Setenv("AWS_ACCESS_KEY_ID", "test-access-key")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test-secret-key")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	return url.Values{"endpoint": {endpoint}, "use_path_style": {"true"}, "disable_https": {"true"}, "region": {"us-east-1"}}.Encode()
}

// GCS starts the GCS emulator (fakestorage) on loopback with one bucket,
// reached through gcsblob's emulator setting (STORAGE_EMULATOR_HOST).
func GCS(t testing.TB) Store {
	t.Helper()
	// The Go client reads objects through the XML API at the emulator's
	// host, which fakestorage serves only under its PublicHost.
	port := freePort(t)
	host := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	srv, err := fakestorage.NewServerWithOptions(fakestorage.Options{Scheme: "http", Host: "127.0.0.1", Port: uint16(port),
		PublicHost: host, Writer: discard{}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	name := bucketName(t)
	srv.CreateBucketWithOpts(fakestorage.CreateBucketOpts{Name: name})
	u, _ := url.Parse(srv.URL())
	t.Setenv("STORAGE_EMULATOR_HOST", u.Host)
	return Store{Kind: "gs", Bucket: name, Stop: srv.Stop}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// Azurite's well-known development account.
const (
	azAccount = "devstoreaccount1"
	azKey     = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)

// Azurite starts Azure's Azurite blob emulator on loopback with one
// container. Azurite is an npm package, not Go: where azurite-blob is not
// on PATH the test skips with the install command (or fails under
// DOCUPARSE_REQUIRE_EXTERNAL=1, as in CI).
func Azurite(t testing.TB) Store {
	t.Helper()
	bin := testext.Need(t, "azurite-blob", "npm install -g azurite")
	port := freePort(t)
	dir := t.TempDir()
	cmd := exec.Command(bin, "--blobHost", "127.0.0.1", "--blobPort", strconv.Itoa(port),
		"--location", dir, "--silent", "--skipApiVersionCheck", "--loose", "--disableTelemetry")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start azurite: %v", err)
	}
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	}
	t.Cleanup(stop)
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	waitListening(t, addr, 30*time.Second)
	t.Setenv("AZURE_STORAGE_ACCOUNT", azAccount)
	t.Setenv("AZURE_STORAGE_KEY", azKey)
	cred, err := azblob.NewSharedKeyCredential(azAccount, azKey)
	if err != nil {
		t.Fatal(err)
	}
	client, err := azblob.NewClientWithSharedKeyCredential("http://"+addr+"/"+azAccount, cred, nil)
	if err != nil {
		t.Fatal(err)
	}
	name := bucketName(t)
	if _, err := client.CreateContainer(context.Background(), name, nil); err != nil {
		t.Fatalf("create container: %v", err)
	}
	q := url.Values{"localemu": {"true"}, "domain": {addr}, "protocol": {"http"}}
	return Store{Kind: "azblob", Bucket: name, query: q.Encode(), Stop: stop}
}

// File gives a file:// bucket: a new directory.
func File(t testing.TB) Store {
	t.Helper()
	return Store{Kind: "file", dir: t.TempDir()}
}

// Mem gives a mem:// bucket of its own name (see bucket.Open).
func Mem(t testing.TB) Store {
	t.Helper()
	return Store{Kind: "mem", Bucket: bucketName(t)}
}

// All returns one store of each kind, for tests that must hold for every
// cloud. Azurite is included only where it is installed (or required).
func All(t *testing.T) []func(testing.TB) Store {
	return []func(testing.TB) Store{Mem, File, S3, GCS, Azurite}
}

// Kinds names All's entries, in order.
var Kinds = []string{"mem", "file", "s3", "gs", "azblob"}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func waitListening(t testing.TB, addr string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not start listening within %s: %v", addr, within, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
