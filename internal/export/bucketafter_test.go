package export

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/docuparse/docuparse-ingest/internal/bucket"
	"github.com/docuparse/docuparse-ingest/internal/bucketemu"
	"github.com/docuparse/docuparse-ingest/internal/config"
	"github.com/docuparse/docuparse-ingest/internal/docuparse"
	"github.com/docuparse/docuparse-ingest/internal/output"
	"github.com/docuparse/docuparse-ingest/internal/store"
	"github.com/docuparse/docuparse-ingest/internal/vocab"
)

// bucketRig is a rig whose source is a bucket prefix on an emulator.
type bucketRig struct {
	*rig
	b   *bucket.Bucket
	url string
}

func newBucketRig(t *testing.T, s bucketemu.Store, prefix string) *bucketRig {
	t.Helper()
	u := s.URL(prefix)
	b, err := bucket.Open(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return &bucketRig{rig: newRig(t), b: b, url: u}
}

// put writes an object (key relative to the bucket's root).
func (r *bucketRig) put(t *testing.T, key string, content []byte) {
	t.Helper()
	if err := r.b.Blob().WriteAll(t.Context(), key, content, nil); err != nil {
		t.Fatal(err)
	}
}

// object puts content at key and returns what a bucket source's intake
// records for it: its path (URL without query), size, time, version and
// SHA-256.
func (r *bucketRig) object(t *testing.T, key string, content []byte, dedupe bool) store.NewFile {
	t.Helper()
	r.put(t, key, content)
	o, err := r.b.Stat(t.Context(), key)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(content)
	return store.NewFile{Source: "inbox", Path: r.b.PathOf(key), FileName: path.Base(key), Size: o.Size, ModTime: o.ModTime,
		FileID: store.FileID{Version: o.Version}, SHA256: hex.EncodeToString(sum[:]), Dedupe: dedupe}
}

// completed records the object at key as completed.
func (r *bucketRig) completed(t *testing.T, key string, content []byte) store.NewFile {
	t.Helper()
	f := r.object(t, key, content, false)
	_, docID := r.submitFile(t, f)
	r.apply(t, store.Result{DocumentID: docID, Status: docuparse.StatusCompleted, Data: []byte(`{"document_type":"invoice"}`),
		Via: store.ViaWebhook, APITimestamp: "2026-11-28T10:00:00Z"})
	return f
}

// after is the SourceAfter the daemon gives a bucket source with this
// action.
func (r *bucketRig) after(action string) map[string]SourceAfter {
	src := config.Source{Name: "inbox", URL: r.url, After: action}
	return map[string]SourceAfter{"inbox": {Action: action, Bucket: r.b, AfterPrefix: src.ResolvedAfterPrefix()}}
}

// contents returns every object of the bucket, key → content.
func (r *bucketRig) contents(t *testing.T) map[string]string {
	t.Helper()
	got := map[string]string{}
	if _, err := r.b.List(t.Context(), "", true, func(page []bucket.Object) error {
		for _, o := range page {
			c, err := r.b.Blob().ReadAll(t.Context(), o.Key)
			if err != nil {
				return err
			}
			got[o.Key] = string(c)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return got
}

func show(m map[string]string) string {
	var lines []string
	for k, v := range m {
		lines = append(lines, k+" = "+v)
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// TestBucketAfterActionsActOnTheVersionTakenIn runs a bucket source's
// delete and move through the exporter on every emulator: completed,
// failed and duplicate objects are deleted, or moved under processed/ and
// failed/ beside the prefix keeping their relative key, never over an
// object archived before; a rejected object stays (as a folder's rejected
// file does without move_rejected_to); an object replaced under its key
// after it was taken in is another document and stays; objects outside the
// prefix are never touched.
func TestBucketAfterActionsActOnTheVersionTakenIn(t *testing.T) {
	for i, start := range bucketemu.All(t) {
		for _, action := range []string{vocab.AfterDelete, vocab.AfterMove} {
			t.Run(bucketemu.Kinds[i]+"/"+action, func(t *testing.T) {
				r := newBucketRig(t, start(t), "a/in/")
				ctx := t.Context()
				good, other := r.sample().Content, r.sample().Content
				r.completed(t, "a/in/good.pdf", good)
				failed := r.object(t, "a/in/sub/failed.pdf", other, false)
				_, docID := r.submitFile(t, failed)
				r.apply(t, store.Result{DocumentID: docID, Status: docuparse.StatusFailed, ErrorCode: docuparse.CodeExtractionFailed,
					ErrorMessage: "failed", Via: store.ViaWebhook})
				if res, err := r.st.Intake(ctx, r.object(t, "a/in/copy.pdf", good, true)); err != nil || res.State != store.StateDuplicate {
					t.Fatalf("intake of a duplicate: %+v, %v", res, err)
				}
				rej := r.object(t, "a/in/notes.txt", []byte("not a document"), false)
				rej.SHA256 = ""
				if _, err := r.st.Reject(ctx, rej, docuparse.CodeUnsupportedMedia, "not supported"); err != nil {
					t.Fatal(err)
				}
				r.completed(t, "a/in/replaced.pdf", []byte("%PDF taken in"))
				r.put(t, "a/in/replaced.pdf", []byte("%PDF saved over it"))
				r.put(t, "a/processed/good.pdf", []byte("archived before"))
				r.put(t, "a/outside.pdf", []byte("outside the prefix"))
				r.put(t, "b/in/good.pdf", []byte("another prefix"))

				r.runOnce(t, r.exporter(func(c *Config) { c.After = r.after(action) }), 5)

				want := map[string]string{
					"a/in/notes.txt":       "not a document",
					"a/in/replaced.pdf":    "%PDF saved over it",
					"a/processed/good.pdf": "archived before",
					"a/outside.pdf":        "outside the prefix",
					"b/in/good.pdf":        "another prefix",
				}
				if action == vocab.AfterMove {
					want["a/processed/good (2).pdf"] = string(good)
					want["a/processed/copy.pdf"] = string(good)
					want["a/failed/sub/failed.pdf"] = string(other)
				}
				if got := r.contents(t); show(got) != show(want) {
					t.Errorf("bucket after %s:\n%s\nwant:\n%s", action, show(got), show(want))
				}
				logs := r.logs.String()
				if strings.Contains(logs, "after-export action failed") {
					t.Errorf("an after-action failed:\n%s", logs)
				}
				if !strings.Contains(logs, "changed since it was taken in") {
					t.Errorf("the replaced object was not reported:\n%s", logs)
				}
			})
		}
	}
}

// TestBucketMoveKilledBetweenCopyAndDeleteIsFinishedOnce: a move killed
// after its copy (before the delete and the exported mark) is done again
// by the next run, which finds its copy and makes no second one, deletes
// the original, and writes the document's row once.
func TestBucketMoveKilledBetweenCopyAndDeleteIsFinishedOnce(t *testing.T) {
	for i, start := range bucketemu.All(t) {
		t.Run(bucketemu.Kinds[i], func(t *testing.T) {
			r := newBucketRig(t, start(t), "in/")
			content := r.sample().Content
			r.completed(t, "in/x/a.pdf", content)
			type killed struct{}
			setAfterHook(t, func(step string) {
				if step == "acted" {
					panic(killed{})
				}
			})
			func() {
				defer func() {
					if p := recover(); p != (killed{}) {
						t.Fatalf("the exporter was not killed after the copy: %v", p)
					}
				}()
				_, _ = r.exporter(func(c *Config) { c.After = r.after(vocab.AfterMove) }).RunOnce(t.Context())
			}()
			if got := r.contents(t); len(got) != 2 || got["processed/x/a.pdf"] != string(content) || got["in/x/a.pdf"] != string(content) {
				t.Fatalf("after the copy step:\n%s", show(got))
			}
			setAfterHook(t, nil)
			r.runOnce(t, r.exporter(func(c *Config) { c.After = r.after(vocab.AfterMove) }), 1)
			if got := r.contents(t); len(got) != 1 || got["processed/x/a.pdf"] != string(content) {
				t.Errorf("after the run that finished the move:\n%s\nwant only processed/x/a.pdf", show(got))
			}
			if rows := readCSV(t, r.documentsCSV(), output.DocumentsHeader); len(rows) != 1 {
				t.Errorf("%d rows in the documents CSV; want 1", len(rows))
			}
		})
	}
}

// TestBucketAfterActionFailingForATemporaryReasonIsTriedAgain: while the
// bucket answers 503, the exported document's move fails and its object
// stays; once the bucket answers again, the next pass finishes the move
// (HoldRetry is a nanosecond here, so the retry is due at once).
func TestBucketAfterActionFailingForATemporaryReasonIsTriedAgain(t *testing.T) {
	backend := s3mem.New()
	var failing atomic.Bool
	fake := gofakes3.New(backend).Server()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if failing.Load() {
			http.Error(w, "<Error><Code>ServiceUnavailable</Code></Error>", http.StatusServiceUnavailable)
			return
		}
		fake.ServeHTTP(w, req)
	}))
	t.Cleanup(srv.Close)
	if err := backend.CreateBucket("retry"); err != nil {
		t.Fatal(err)
	}
	_ = bucketemu.S3(t) // for its credentials in the environment; its server is not used
	q := url.Values{"endpoint": {srv.URL}, "use_path_style": {"true"}, "disable_https": {"true"}, "region": {"us-east-1"}}
	u := "s3://retry/in/?" + q.Encode()
	b, err := bucket.Open(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	r := &bucketRig{rig: newRig(t), b: b, url: u}
	content := r.sample().Content
	r.completed(t, "in/a.pdf", content)

	e := r.exporter(func(c *Config) { c.After = r.after(vocab.AfterMove); c.HoldRetry = time.Nanosecond })
	failing.Store(true)
	r.runOnce(t, e, 1)
	failing.Store(false)
	if got := r.contents(t); len(got) != 1 || got["in/a.pdf"] != string(content) {
		t.Fatalf("after the failed move:\n%s", show(got))
	}
	if !strings.Contains(r.logs.String(), "failed for a temporary reason") {
		t.Fatalf("the failure was not logged as temporary:\n%s", r.logs.String())
	}
	r.runOnce(t, e, 0)
	if got := r.contents(t); len(got) != 1 || got["processed/a.pdf"] != string(content) {
		t.Errorf("after the next pass:\n%s\nwant only processed/a.pdf", show(got))
	}
}
