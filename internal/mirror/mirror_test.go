package mirror

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/docuparse/docuparse-ingest/internal/bucket"
	"github.com/docuparse/docuparse-ingest/internal/bucketemu"
	"github.com/docuparse/docuparse-ingest/internal/health"
	"github.com/docuparse/docuparse-ingest/internal/output"
	"github.com/docuparse/docuparse-ingest/internal/store"
	"github.com/docuparse/docuparse-ingest/internal/storefault"
	"github.com/docuparse/docuparse-ingest/internal/testlog"
	"github.com/docuparse/docuparse-ingest/internal/teststop"
)

// day is the day the test outputs belong to; clock is a time two days on,
// when day is closed.
var (
	zone  = time.UTC
	day   = "2026-11-28"
	clock = time.Date(2026, 11, 30, 3, 0, 0, 0, zone)
)

// env is one daemon's view: a real store and output directory, and the
// bucket at url.
type env struct {
	t      *testing.T
	st     *store.Store
	dbPath string
	out    string
	url    string
	now    time.Time
	health *health.Tracker
	log    *slog.Logger
	logs   *testlog.Buffer
}

func newEnv(t *testing.T, url string) *env {
	t.Helper()
	log, logs := testlog.Logger(slog.LevelDebug)
	e := &env{t: t, dbPath: filepath.Join(t.TempDir(), "state.db"), out: t.TempDir(), url: url, now: clock, log: log, logs: logs}
	e.open()
	return e
}

// open opens (or reopens, after a "crash") the store.
func (e *env) open() {
	e.t.Helper()
	st, err := store.Open(context.Background(), e.dbPath, store.Options{Now: func() time.Time { return e.now }})
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { st.Close() })
	e.st = st
}

// mirror builds a new Mirror, as a start of the daemon does.
func (e *env) mirror() *Mirror {
	e.t.Helper()
	log := e.log
	e.health = health.New(health.Options{Logger: log})
	m, err := New(context.Background(), Config{Store: e.st, Layout: output.Layout{Root: e.out, Location: zone}, URL: e.url,
		Health: e.health, Now: func() time.Time { return e.now }, Logger: log})
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(m.Stop)
	return m
}

// write writes an output file, as the exporter or the reporter does.
func (e *env) write(rel, content string) {
	e.t.Helper()
	l := output.Layout{Root: e.out}
	if err := l.WriteFileAtomic(filepath.Join(e.out, rel), []byte(content), 0o644); err != nil {
		e.t.Fatal(err)
	}
}

// csv writes a day CSV file and records it committed, as the exporter's
// append and exported mark do.
func (e *env) csv(rel, content string) {
	e.t.Helper()
	e.write(rel, content)
	ctx := context.Background()
	if err := e.st.BeginCSV(ctx, rel); err != nil {
		e.t.Fatal(err)
	}
	if err := e.st.MarkExported(ctx, nil, map[string]store.CSVFile{rel: {Size: int64(len(content))}}); err != nil {
		e.t.Fatal(err)
	}
}

// reported writes a day's complete report and notes it written, as the
// nightly schedule does.
func (e *env) reported(d, md string) {
	e.t.Helper()
	e.write("reports/reconciliation-"+d+".md", md)
	e.write("reports/reconciliation-"+d+".json", `{"day": "`+d+`", "partial": false}`)
	if err := e.st.SetMeta(context.Background(), "last_report_day", d); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) pending() int {
	e.t.Helper()
	n, err := e.st.MirrorPendingCount(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

// objects returns what the bucket holds under its prefix, key → content.
func objects(t *testing.T, raw string) map[string]string {
	t.Helper()
	ctx := context.Background()
	b, err := bucket.Open(ctx, raw)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	got := map[string]string{}
	if _, err := b.List(ctx, b.Prefix, true, func(page []bucket.Object) error {
		for _, o := range page {
			body, err := b.Blob().ReadAll(ctx, o.Key)
			if err != nil {
				return err
			}
			got[strings.TrimPrefix(o.Key, b.Prefix)] = string(body)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return got
}

// versions returns each object's version and modification time: an
// object written again has another (a new generation, ETag or time).
func versions(t *testing.T, raw string) map[string]string {
	t.Helper()
	ctx := context.Background()
	b, err := bucket.Open(ctx, raw)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	got := map[string]string{}
	for key := range objects(t, raw) {
		o, err := b.Stat(ctx, b.Prefix+key)
		if err != nil {
			t.Fatal(err)
		}
		got[key] = o.Version + "@" + o.ModTime.Format(time.RFC3339Nano)
	}
	return got
}

// stores are the emulators every test runs on: the S3 one counts its
// writes, and can be stopped and started again on the same address.
func stores(t *testing.T) map[string]func(t *testing.T) (string, *s3server) {
	all := map[string]func(t *testing.T) (string, *s3server){
		"s3": func(t *testing.T) (string, *s3server) { s := startS3(t); return s.url("out/"), s },
	}
	for i, start := range bucketemu.All(t) {
		kind := bucketemu.Kinds[i]
		if kind == "s3" {
			continue
		}
		all[kind] = func(t *testing.T) (string, *s3server) { return start(t).URL("out/"), nil }
	}
	return all
}

// TestEachOutputIsMirroredOnceUnderTheOutputLayout mirrors a result, a
// closed day's CSV files and a report into every emulator, and a second
// pass (and a restart) writes nothing again.
func TestEachOutputIsMirroredOnceUnderTheOutputLayout(t *testing.T) {
	for kind, start := range stores(t) {
		t.Run(kind, func(t *testing.T) {
			raw, s3 := start(t)
			e := newEnv(t, raw)
			e.write("results/"+day+"/doc_x.json", `{"document_id": "doc_x"}`)
			e.write("results/"+day+"/.doc_y.json.tmp-1", `half`) // an atomic write's temporary file
			e.csv("csv/documents-"+day+".csv", "\"a\",\"b\"\n")
			e.csv("csv/line_items-"+day+".csv", "\"c\"\n")
			e.reported("2026-11-27", "# report")
			m := e.mirror()
			if err := m.runOnce(context.Background()); err != nil {
				t.Fatal(err)
			}
			want := map[string]string{
				"results/" + day + "/doc_x.json":         `{"document_id": "doc_x"}`,
				"csv/documents-" + day + ".csv":          "\"a\",\"b\"\n",
				"csv/line_items-" + day + ".csv":         "\"c\"\n",
				"reports/reconciliation-2026-11-27.md":   "# report",
				"reports/reconciliation-2026-11-27.json": `{"day": "2026-11-27", "partial": false}`,
			}
			assertObjects(t, objects(t, raw), want)
			before := versions(t, raw)
			writes := s3.puts()
			if err := m.runOnce(context.Background()); err != nil {
				t.Fatal(err)
			}
			if err := e.mirror().runOnce(context.Background()); err != nil { // a restart
				t.Fatal(err)
			}
			if after := versions(t, raw); !equal(after, before) || s3.puts() != writes {
				t.Fatalf("a second pass wrote again: %v → %v (%d → %d writes)", before, after, writes, s3.puts())
			}
			if e.pending() != 0 {
				t.Fatalf("backlog %d after mirroring everything", e.pending())
			}
		})
	}
}

// TestACrashBetweenUploadAndRecordDoesNotUploadTwice fails the record of
// the upload (as a crash right after it would leave it), then starts
// again: the object already there is recognised and recorded, not
// written again.
func TestACrashBetweenUploadAndRecordDoesNotUploadTwice(t *testing.T) {
	for kind, start := range stores(t) {
		t.Run(kind, func(t *testing.T) {
			raw, s3 := start(t)
			e := newEnv(t, raw)
			e.write("results/"+day+"/doc_x.json", `{"document_id": "doc_x"}`)
			fault := storefault.Break(t, e.dbPath, "mirror", "UPDATE OF mirrored_at", "")
			if err := e.mirror().runOnce(context.Background()); err == nil || !strings.Contains(err.Error(), storefault.Message) {
				t.Fatalf("pass with the record failing: %v", err)
			}
			if got := objects(t, raw); len(got) != 1 || e.pending() != 1 {
				t.Fatalf("after the upload, before its record: bucket %v, backlog %d", got, e.pending())
			}
			before, writes := versions(t, raw), s3.puts()
			fault.Heal()
			e.st.Close()
			e.open()
			if err := e.mirror().runOnce(context.Background()); err != nil {
				t.Fatal(err)
			}
			if after := versions(t, raw); !equal(after, before) || s3.puts() != writes {
				t.Fatalf("uploaded again after the crash: %v → %v (%d → %d writes)", before, after, writes, s3.puts())
			}
			if e.pending() != 0 {
				t.Fatalf("backlog %d: the object found was not recorded", e.pending())
			}
		})
	}
}

// TestAnObjectOfSomeoneElseIsNeverOverwritten: a key that already holds
// other bytes is a conflict, logged once, and left as it is.
func TestAnObjectOfSomeoneElseIsNeverOverwritten(t *testing.T) {
	s3 := startS3(t)
	raw := s3.url("out/")
	b, err := bucket.Open(context.Background(), raw)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := b.Blob().WriteAll(context.Background(), "out/results/"+day+"/doc_x.json", []byte("theirs"), nil); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, raw)
	e.write("results/"+day+"/doc_x.json", "ours")
	m := e.mirror()
	for range 2 {
		if err := m.runOnce(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if got := objects(t, raw)["results/"+day+"/doc_x.json"]; got != "theirs" {
		t.Fatalf("the object holds %q", got)
	}
	if n := strings.Count(e.logs.String(), "another object under this name"); n != 1 || e.pending() != 0 {
		t.Fatalf("conflict logged %d times, backlog %d; want once, 0", n, e.pending())
	}
}

// TestAnOutageKeepsTheBacklogAndLosesNothing stops the bucket's server:
// the outputs found meanwhile are recorded (and survive a restart), the
// problem is raised once, and once a server answers again each output is
// written exactly once.
func TestAnOutageKeepsTheBacklogAndLosesNothing(t *testing.T) {
	s3 := startS3(t)
	raw := s3.url("out/")
	e := newEnv(t, raw)
	e.write("results/"+day+"/doc_a.json", "a")
	if err := e.mirror().runOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	s3.stop()
	e.write("results/"+day+"/doc_b.json", "b")
	e.write("results/"+day+"/doc_c.json", "c")
	m := e.mirror()
	for range 2 {
		if err := m.runOnce(context.Background()); err == nil {
			t.Fatal("a pass with the bucket down succeeded")
		}
	}
	if !e.health.Has(health.Mirror) || e.pending() != 2 {
		t.Fatalf("during the outage: problem %v, backlog %d; want true, 2", e.health.Has(health.Mirror), e.pending())
	}
	if n := strings.Count(e.logs.String(), "problem: mirror"); n != 1 {
		t.Fatalf("the outage was logged %d times; want once:\n%s", n, e.logs.String())
	}
	if l := e.logs.String(); strings.Contains(l, "test-secret-key") || strings.Contains(l, "use_path_style") || strings.Contains(l, "X-Amz-Signature") {
		t.Fatalf("a credential in the logs:\n%s", e.logs.String())
	}
	// A restart during the outage: the backlog is in the store.
	e.st.Close()
	e.open()
	m = e.mirror()
	if err := m.runOnce(context.Background()); err == nil || e.pending() != 2 {
		t.Fatalf("after a restart in the outage: %v, backlog %d", err, e.pending())
	}
	s3.restart()
	if err := m.runOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	assertObjects(t, objects(t, raw), map[string]string{
		"results/" + day + "/doc_a.json": "a", "results/" + day + "/doc_b.json": "b", "results/" + day + "/doc_c.json": "c"})
	if s3.puts() != 3 || e.pending() != 0 || e.health.Has(health.Mirror) {
		t.Fatalf("after the outage: %d writes, backlog %d, problem %v; want 3, 0, false", s3.puts(), e.pending(), e.health.Has(health.Mirror))
	}
	if !strings.Contains(e.logs.String(), "problem over: mirror") {
		t.Fatalf("the end of the outage was not logged:\n%s", e.logs.String())
	}
}

// TestADayCSVWaitsUntilItsDayIsClosed: not while the day lasts, nor while
// a document that ended that day waits for export, nor while the file has
// rows past its committed length; then once.
func TestADayCSVWaitsUntilItsDayIsClosed(t *testing.T) {
	raw := bucketemu.Mem(t).URL("out/")
	e := newEnv(t, raw)
	rel := "csv/documents-" + day + ".csv"
	e.now = time.Date(2026, 11, 28, 23, 0, 0, 0, zone)
	e.csv(rel, "\"a\"\n")
	m := e.mirror()
	pass := func(when time.Time) map[string]string {
		t.Helper()
		e.now = when
		if err := m.runOnce(context.Background()); err != nil {
			t.Fatal(err)
		}
		return objects(t, raw)
	}
	if got := pass(e.now); len(got) != 0 {
		t.Fatalf("mirrored while its day lasts: %v", got)
	}
	if got := pass(time.Date(2026, 11, 29, 0, 1, 0, 0, zone)); len(got) != 0 {
		t.Fatalf("mirrored within the grace after the day's end: %v", got)
	}
	// A document that ended at the end of that day, not exported yet.
	e.now = time.Date(2026, 11, 28, 23, 59, 59, 0, zone)
	id, err := e.st.Reject(context.Background(), store.NewFile{Source: "in", Path: "/in/a.txt", FileName: "a.txt", Size: 1,
		ModTime: e.now, SHA256: strings.Repeat("0", 64)}, "UNSUPPORTED", "not a PDF")
	if err != nil {
		t.Fatal(err)
	}
	if got := pass(time.Date(2026, 11, 29, 1, 0, 0, 0, zone)); len(got) != 0 {
		t.Fatalf("mirrored while a document of the day waits for export: %v", got)
	}
	// Exported: its row appended, not committed yet, then committed.
	f, err := os.OpenFile(filepath.Join(e.out, rel), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("\"b\"\n")
	f.Close()
	if err := e.st.MarkExported(context.Background(), []int64{id}, nil); err != nil {
		t.Fatal(err)
	}
	if got := pass(time.Date(2026, 11, 29, 1, 1, 0, 0, zone)); len(got) != 0 {
		t.Fatalf("mirrored with rows past the committed length: %v", got)
	}
	if err := e.st.MarkExported(context.Background(), nil, map[string]store.CSVFile{rel: {Size: 8}}); err != nil {
		t.Fatal(err)
	}
	if got := pass(time.Date(2026, 11, 29, 1, 2, 0, 0, zone)); got[rel] != "\"a\"\n\"b\"\n" || len(got) != 1 {
		t.Fatalf("closed day: bucket %v", got)
	}
}

// TestAReportWrittenAgainIsMirroredUnderItsHash: a partial report is not
// mirrored; the complete one is, under its name; a later, different
// content of it goes under a name with its hash, never over the first.
func TestAReportWrittenAgainIsMirroredUnderItsHash(t *testing.T) {
	raw := bucketemu.File(t).URL("out/")
	e := newEnv(t, raw)
	e.write("reports/reconciliation-"+day+".md", "partial")
	e.write("reports/reconciliation-"+day+".json", `{"partial": true}`)
	if err := e.st.SetMeta(context.Background(), "last_report_day", "2026-11-27"); err != nil {
		t.Fatal(err)
	}
	m := e.mirror()
	if err := m.runOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := objects(t, raw); len(got) != 0 {
		t.Fatalf("a partial report was mirrored: %v", got)
	}
	e.reported(day, "full")
	if err := m.runOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	e.write("reports/reconciliation-"+day+".md", "full, written again")
	if err := m.runOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := objects(t, raw)
	if got["reports/reconciliation-"+day+".md"] != "full" || len(got) != 3 {
		t.Fatalf("bucket %v", got)
	}
	again := 0
	for k, v := range got {
		if strings.HasPrefix(k, "reports/reconciliation-"+day+".") && strings.HasSuffix(k, ".md") && v == "full, written again" {
			again++
		}
	}
	if again != 1 {
		t.Fatalf("the second content is not under a name of its own: %v", got)
	}
}

func assertObjects(t *testing.T, got, want map[string]string) {
	t.Helper()
	if !equal(got, want) {
		t.Fatalf("bucket holds %v\nwant %v", got, want)
	}
}

func equal(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// s3server is gofakes3 on a fixed loopback address whose objects outlive
// the server: stop plays an outage, restart a new server at the same
// address with the same objects. It counts the object writes it served.
type s3server struct {
	t       *testing.T
	addr    string
	bucket  string
	handler http.Handler
	writes  atomic.Int64
	mu      sync.Mutex
	srv     *http.Server
}

func startS3(t *testing.T) *s3server {
	t.Helper()
	backend := s3mem.New()
	s := &s3server{t: t, bucket: "mirror-test"}
	if err := backend.CreateBucket(s.bucket); err != nil {
		t.Fatal(err)
	}
	fake := gofakes3.New(backend, gofakes3.WithAutoBucket(false)).Server()
	s.handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut || r.Method == http.MethodPost {
			s.writes.Add(1)
		}
		fake.ServeHTTP(w, r)
	})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.addr = l.Addr().String()
	s.serve(l)
	t.Cleanup(s.stop)
	t.Setenv("AWS_ACCESS_KEY_ID", "test-access-key")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test-secret-key")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	return s
}

func (s *s3server) serve(l net.Listener) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.srv = &http.Server{Handler: s.handler}
	go s.srv.Serve(l)
}

func (s *s3server) url(prefix string) string {
	q := url.Values{"endpoint": {"http://" + s.addr}, "use_path_style": {"true"}, "disable_https": {"true"}, "region": {"us-east-1"}}
	return "s3://" + s.bucket + "/" + prefix + "?" + q.Encode()
}

func (s *s3server) stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv != nil {
		s.srv.Close()
		s.srv = nil
	}
}

func (s *s3server) restart() {
	s.t.Helper()
	l, err := net.Listen("tcp", s.addr)
	if err != nil {
		s.t.Fatal(err)
	}
	s.serve(l)
}

// puts returns how many writes the server served (0 for other stores).
func (s *s3server) puts() int64 {
	if s == nil {
		return 0
	}
	return s.writes.Load()
}

// TestStartRunsAtOnceAndOnEachPokeAndStopIsSafeTwice runs the part as the
// daemon does: the first pass at once, the next on Notify (the interval
// is an hour), and Stop leaves no goroutine behind.
func TestStartRunsAtOnceAndOnEachPokeAndStopIsSafeTwice(t *testing.T) {
	raw := bucketemu.Mem(t).URL("out/")
	e := newEnv(t, raw)
	before := teststop.Goroutines("(*Mirror).")
	passes := make(chan int, 10)
	m, err := New(context.Background(), Config{Store: e.st, Layout: output.Layout{Root: e.out, Location: zone}, URL: raw,
		Interval: time.Hour, MinGap: time.Millisecond, Now: func() time.Time { return e.now }, OnPending: func(n int) { passes <- n }})
	if err != nil {
		t.Fatal(err)
	}
	m.Start(context.Background())
	<-passes
	e.write("results/"+day+"/doc_x.json", "x")
	m.Notify()
	<-passes
	if got := objects(t, raw); got["results/"+day+"/doc_x.json"] != "x" {
		t.Fatalf("after a poke the bucket holds %v", got)
	}
	teststop.Within(t, "Stop", m.Stop)
	teststop.Within(t, "a second Stop", m.Stop)
	if left := teststop.Left("(*Mirror).", before); left != "" {
		t.Fatalf("goroutines left after Stop:\n%s", left)
	}
}

// TestALinkPlantedInTheOutputsIsNeverFollowed: a symbolic link in a day
// folder (anyone who may write there could plant one) is not read, not
// mirrored, and not an error; the real results beside it are mirrored.
func TestALinkPlantedInTheOutputsIsNeverFollowed(t *testing.T) {
	raw := bucketemu.Mem(t).URL("out/")
	e := newEnv(t, raw)
	e.write("results/"+day+"/doc_x.json", "x")
	secret := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secret, []byte("not for the bucket"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(secret, filepath.Join(e.out, "results", day, "doc_y.json")); err != nil {
		t.Fatal(err)
	}
	if err := e.mirror().runOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	assertObjects(t, objects(t, raw), map[string]string{"results/" + day + "/doc_x.json": "x"})
	if strings.Contains(e.logs.String(), "level=WARN") || strings.Contains(e.logs.String(), "level=ERROR") {
		t.Fatalf("a planted link made noise:\n%s", e.logs.String())
	}
}

// TestAFileChangedAfterItsIntentionIsMirroredAsItIsNow: the bytes recorded
// before an outage are not uploaded once the file holds others; the file
// as it is now is, once.
func TestAFileChangedAfterItsIntentionIsMirroredAsItIsNow(t *testing.T) {
	s3 := startS3(t)
	raw := s3.url("out/")
	e := newEnv(t, raw)
	s3.stop()
	rel := "results/" + day + "/doc_x.json"
	e.write(rel, "first")
	// The day folder's time stays put, as a file changed in place leaves
	// it: only the dropped intention can send the sweep back into it.
	dir, old := filepath.Join(e.out, "results", day), time.Now().Add(-time.Hour)
	if err := os.Chtimes(dir, old, old); err != nil {
		t.Fatal(err)
	}
	m := e.mirror()
	if err := m.runOnce(context.Background()); err == nil || e.pending() != 1 {
		t.Fatalf("with the bucket down: %v, backlog %d; want an error, 1", err, e.pending())
	}
	e.write(rel, "second, longer")
	if err := os.Chtimes(dir, old, old); err != nil {
		t.Fatal(err)
	}
	s3.restart()
	for range 2 { // the stale intention is dropped, then the file found again
		if err := m.runOnce(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	assertObjects(t, objects(t, raw), map[string]string{rel: "second, longer"})
	if s3.puts() != 1 || e.pending() != 0 {
		t.Fatalf("%d writes, backlog %d; want 1, 0", s3.puts(), e.pending())
	}
}
