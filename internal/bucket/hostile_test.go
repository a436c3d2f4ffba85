package bucket_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/bucket"
	"github.com/docuparse/docuparse-ingest/internal/bucketemu"
)

// A file:// bucket's listing unescapes names (fileblob writes "__0x2e__"
// for "." and so on), so a folder named "__0x2e____0x2e__" under the
// prefix is listed as "..": a writer of the prefix must not get the daemon
// to read a file outside the prefix (another partner's, say) by planting
// a decoy of its size and time under such a name.
func TestAFileBucketReadsNothingOutsideThePrefixThroughAnEscapedName(t *testing.T) {
	s := bucketemu.File(t)
	b := open(t, s, "in/")
	const secret = "partner B's invoice"
	real := filepath.Join(b.Bucket, "other", "secret.pdf")
	decoy := filepath.Join(b.Bucket, "in", "__0x2e____0x2e__", "other", "secret.pdf")
	when := time.Now().Add(-time.Hour).Truncate(time.Second)
	for path, content := range map[string]string{real: secret, decoy: strings.Repeat("x", len(secret))} {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(path, when, when); err != nil {
			t.Fatal(err)
		}
	}
	for key, o := range list(t, b, true) {
		if !strings.HasPrefix(key, "in/") || strings.Contains(key, "..") {
			t.Errorf("listed %q under in/", key)
		}
		rc, err := b.OpenVersion(context.Background(), o)
		if err != nil {
			continue
		}
		got, _ := io.ReadAll(rc)
		rc.Close()
		if string(got) == secret {
			t.Fatalf("listing in/ read %s, outside the prefix, as %q", real, key)
		}
	}
}

// loopingS3 is an S3-compatible server whose listing never ends: every
// page, asked for with any token, holds in/a.pdf and says the listing goes
// on with the token "loop". It counts the listings it answered, and calls
// enough when it has answered limit of them.
func loopingS3(t *testing.T, limit int, enough func()) string {
	t.Helper()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if int(n.Add(1)) == limit {
			enough()
		}
		w.Header().Set("Content-Type", "application/xml")
		fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>bkt</Name><Prefix>in/</Prefix>
<KeyCount>1</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>true</IsTruncated><NextContinuationToken>loop</NextContinuationToken>
<Contents><Key>in/a.pdf</Key><LastModified>2026-01-01T00:00:00.000Z</LastModified><ETag>"abc"</ETag><Size>3</Size></Contents>
</ListBucketResult>`)
	}))
	t.Cleanup(srv.Close)
	return bucketemu.S3URL(t, srv.URL, "bkt", "in/")
}

// A store that answers every page with the same next-page token must not
// keep a listing going for ever (the source's next listing never comes,
// and it hands the same objects over again and again): the listing ends
// with an error saying so.
func TestListingEndsWhenTheStoreRepeatsAPageToken(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	raw := loopingS3(t, 5000, cancel) // gocloud fills a page of 1,000 one request at a time
	b, err := bucket.Open(ctx, raw)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	pages := 0
	reqs, err := b.List(ctx, b.Prefix, true, func([]bucket.Object) error { pages++; return nil })
	if err == nil || ctx.Err() != nil || reqs > 3 {
		t.Fatalf("listing a store that repeats its page token: %d requests, %d pages, %v (ended by the test: %v)", reqs, pages, err, ctx.Err() != nil)
	}
	if !strings.Contains(err.Error(), "page token") {
		t.Fatalf("error %q does not say why the listing ended", err)
	}
}

// A file:// bucket whose directory is removed (or a mount that went
// away) is a listing error, as a missing bucket is for a cloud: fileblob
// skips what it cannot read, and so listed nothing, successfully, for
// ever, and /readyz said all was well.
func TestAFileBucketWhoseDirectoryIsGoneCannotBeListed(t *testing.T) {
	s := bucketemu.File(t)
	b := open(t, s, "in/")
	put(t, b, "in/a.pdf", "alpha")
	if err := os.RemoveAll(b.Bucket); err != nil {
		t.Fatal(err)
	}
	_, err := b.List(context.Background(), b.Prefix, true, func(page []bucket.Object) error { return nil })
	if err == nil || !bucket.IsNotFound(err) || !strings.Contains(err.Error(), b.Bucket) {
		t.Fatalf("listing a file bucket whose directory is gone: %v; want a not-found error naming it", err)
	}
}

// silentS3 is an S3-compatible server that takes every request and never
// answers it (a stalled proxy, a half-open connection), until the test
// ends.
func silentS3(t *testing.T) string {
	t.Helper()
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	return bucketemu.S3URL(t, srv.URL, "bkt", "in/")
}

// A listing request the store never answers ends with an error after the
// page timeout: the clouds' HTTP clients have no request timeout of their
// own, so the source's listing waited for ever, and /readyz, which looks
// at the last listing that ended, said all was well.
func TestAListingRequestNeverAnsweredEnds(t *testing.T) {
	bucket.SetPageTimeout(t, 200*time.Millisecond)
	b, err := bucket.Open(context.Background(), silentS3(t))
	if err != nil {
		t.Fatal(err)
	}
	// Not closed: Close waits for a listing in flight, which, on failure,
	// waits for the server, which waits for the end of the test.
	done := make(chan error, 1)
	go func() {
		_, err := b.List(context.Background(), b.Prefix, true, func([]bucket.Object) error { return nil })
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || !bucket.IsTemporary(err) {
			t.Fatalf("a listing never answered ended with %v; want a temporary error", err)
		}
	case <-time.After(30 * time.Second): // a guard, not a measure: the page timeout is 200 ms
		t.Fatal("a listing request never answered is still waiting after 30 s")
	}
}
