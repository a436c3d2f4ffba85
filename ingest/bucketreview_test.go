package ingest

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gocloud.dev/blob"

	"github.com/docuparse/docuparse-ingest/internal/bucket"
	"github.com/docuparse/docuparse-ingest/internal/bucketemu"
	"github.com/docuparse/docuparse-ingest/internal/store"
	"github.com/docuparse/docuparse-ingest/internal/vocab"
)

// A file with a second hard link in a file:// bucket is refused as in a
// folder (a rejected row, vocab.CodeHardlinked), not dropped as "changed": the
// bucket source hands an object over once per version, so a dropped one
// would never be taken, nor accounted for.
func TestFileBucketHardLinkedObjectIsRejectedNotLost(t *testing.T) {
	s := bucketemu.File(t)
	r := newBucketRig(t, s, BucketConfig{Recursive: true})
	r.put(t, "in/ok.pdf", "%PDF linked")
	dir := filepath.Join(r.b.Bucket, "in")
	if err := os.Link(filepath.Join(dir, "ok.pdf"), filepath.Join(dir, "hard.pdf")); err != nil {
		t.Fatal(err)
	}
	r.takeAll(t, r.list(t))
	r.takeAll(t, r.list(t))
	docs := r.st.all(t)
	if len(docs) != 2 {
		t.Fatalf("recorded %d documents for 2 hard-linked objects: %+v", len(docs), docs)
	}
	for _, d := range docs {
		if d.State != store.StateRejected || d.ErrorCode != vocab.CodeHardlinked {
			t.Errorf("%s: %s %q; want rejected %s", d.Path, d.State, d.ErrorCode, vocab.CodeHardlinked)
		}
	}
}

// An object whose read never matches its listing, though the bucket says
// it did not change — here a gzip-encoded object (gsutil cp -Z), which GCS
// serves decompressed, longer than listed — is refused with a row saying
// why, not dropped as "changed": the source hands each version over once,
// so it was never taken, never rejected and never logged.
func TestBucketObjectWhoseReadNeverMatchesItsListingIsRejected(t *testing.T) {
	s := bucketemu.GCS(t)
	r := newBucketRig(t, s, BucketConfig{Recursive: true})
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(bytes.Repeat([]byte("%PDF compressed "), 100)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := r.b.Blob().WriteAll(context.Background(), "in/z.pdf", buf.Bytes(), &blob.WriterOptions{ContentEncoding: "gzip"}); err != nil {
		t.Fatal(err)
	}
	r.takeAll(t, r.list(t))
	r.takeAll(t, r.list(t))
	docs := r.st.all(t)
	if len(docs) != 1 || docs[0].State != store.StateRejected || docs[0].ErrorCode != vocab.CodeUnreadable ||
		!strings.Contains(docs[0].ErrorMessage, "the bucket lists") {
		t.Fatalf("recorded %+v; want one rejected row (%s) saying the read and the listing disagree", docs, vocab.CodeUnreadable)
	}
}

// A first listing of a prefix full of new objects does not remember each
// one it handed over: only the latest emittedMax, enough to cover what
// intake still has in hand. It remembered them all, so a million new
// objects held a million entries (some 200 MB) until the next listing.
func TestBucketListingRemembersABoundedNumberOfHandovers(t *testing.T) {
	r := newBucketRig(t, bucketemu.Mem(t), BucketConfig{Recursive: true})
	n := emittedMax + 500
	for i := range n {
		r.put(t, fmt.Sprintf("in/%06d.pdf", i), "%PDF")
	}
	if got := len(r.list(t)); got != n {
		t.Fatalf("handed over %d objects; want %d", got, n)
	}
	if len(r.src.emitted) > emittedMax {
		t.Fatalf("the listing remembers %d objects handed over; want at most %d", len(r.src.emitted), emittedMax)
	}
}

// repeatingS3 is an S3-compatible server whose listing of in/ has two
// pages that both hold in/a.pdf (a store that repeats a key across
// pages).
func repeatingS3(t *testing.T) string {
	t.Helper()
	const page = `<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>bkt</Name><Prefix>in/</Prefix>
<KeyCount>1</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>%s</IsTruncated>%s
<Contents><Key>in/a.pdf</Key><LastModified>2026-01-01T00:00:00.000Z</LastModified><ETag>"abc"</ETag><Size>4</Size></Contents>
</ListBucketResult>`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/xml")
		if r.URL.Query().Get("continuation-token") == "" {
			fmt.Fprintf(w, page, "true", "<NextContinuationToken>p2</NextContinuationToken>")
			return
		}
		fmt.Fprintf(w, page, "false", "")
	}))
	t.Cleanup(srv.Close)
	return bucketemu.S3URL(t, srv.URL, "bkt", "in/")
}

// A key a store lists twice in one listing is handed to intake once.
func TestBucketHandsOverAKeyListedTwiceOnce(t *testing.T) {
	b, err := bucket.Open(context.Background(), repeatingS3(t))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	st := openIngestStore(t, filepath.Join(t.TempDir(), "state.db"), nil)
	out := make(chan Candidate, 10)
	src, err := NewBucket(BucketConfig{Name: "bkt", Bucket: b, Store: st.Store, Recursive: true}, out)
	if err != nil {
		t.Fatal(err)
	}
	if err := src.runOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(out) != 1 {
		t.Fatalf("handed over %d candidates for one object listed twice; want 1", len(out))
	}
}

// An upload's read of an object the store takes and never answers (no
// response headers) ends with an error the submitter holds the document
// for and retries: the upload's stall watchdog watches the body, which
// never came, so the submitter waited for ever.
func TestAnUploadReadNeverAnsweredEnds(t *testing.T) {
	old := openTimeout
	openTimeout = 200 * time.Millisecond
	t.Cleanup(func() { openTimeout = old })
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	b, err := bucket.Open(context.Background(), bucketemu.S3URL(t, srv.URL, "bkt", "in/"))
	if err != nil {
		t.Fatal(err)
	}
	defer close(release)
	roots := NewRoots(nil, nil)
	roots.SetBuckets(map[string]*bucket.Bucket{"bkt": b})
	d := store.Document{Source: "bkt", Path: b.PathOf("in/a.pdf"), SizeBytes: 4, SHA256: sha256Hex([]byte("%PDF")),
		FileID: store.FileID{Version: "etag:abc"}}
	done := make(chan error, 1)
	go func() {
		rc, err := roots.openDocument(d)
		if err == nil {
			rc.Close()
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || !heldBack(err) {
			t.Fatalf("an upload read never answered: %v; want an error the document is held for", err)
		}
	case <-time.After(30 * time.Second): // a guard, not a measure: the open timeout is 200 ms
		t.Fatal("an upload read never answered is still waiting after 30 s")
	}
}
