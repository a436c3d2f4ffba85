package ingest

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gocloud.dev/blob"

	"github.com/docuparse/docuparse-ingest/internal/bucketemu"
	"github.com/docuparse/docuparse-ingest/internal/store"
)

// A file with a second hard link in a file:// bucket is refused as in a
// folder (a rejected row, CodeHardlinked), not dropped as "changed": the
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
		if d.State != store.StateRejected || d.ErrorCode != CodeHardlinked {
			t.Errorf("%s: %s %q; want rejected %s", d.Path, d.State, d.ErrorCode, CodeHardlinked)
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
	if len(docs) != 1 || docs[0].State != store.StateRejected || docs[0].ErrorCode != CodeUnreadable ||
		!strings.Contains(docs[0].ErrorMessage, "the bucket lists") {
		t.Fatalf("recorded %+v; want one rejected row (%s) saying the read and the listing disagree", docs, CodeUnreadable)
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
