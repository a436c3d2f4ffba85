package bucket_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/docuparse/docuparse-ingest/internal/bucket"
	"github.com/docuparse/docuparse-ingest/internal/bucketemu"
)

func open(t *testing.T, s bucketemu.Store, prefix string) *bucket.Bucket {
	t.Helper()
	b, err := bucket.Open(context.Background(), s.URL(prefix))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

func put(t *testing.T, b *bucket.Bucket, key, content string) {
	t.Helper()
	if err := b.Blob().WriteAll(context.Background(), key, []byte(content), nil); err != nil {
		t.Fatalf("put %s: %v", key, err)
	}
}

func list(t *testing.T, b *bucket.Bucket, recursive bool) map[string]bucket.Object {
	t.Helper()
	got := map[string]bucket.Object{}
	if _, err := b.List(context.Background(), b.Prefix, recursive, func(page []bucket.Object) error {
		for _, o := range page {
			got[o.Key] = o
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return got
}

// TestEveryCloudListsReadsAndDeletesOnlyTheListedVersion runs the same
// conformance checks on each emulator, through the URL a user would write.
func TestEveryCloudListsReadsAndDeletesOnlyTheListedVersion(t *testing.T) {
	for i, start := range bucketemu.All(t) {
		t.Run(bucketemu.Kinds[i], func(t *testing.T) {
			s := start(t)
			b := open(t, s, "in/")
			ctx := context.Background()
			put(t, b, "in/a.pdf", "alpha")
			put(t, b, "in/sub/b.pdf", "bravo")
			put(t, b, "other/c.pdf", "charlie")
			put(t, b, "inside.pdf", "not under in/")

			all := list(t, b, true)
			if len(all) != 2 || all["in/a.pdf"].Size != 5 || all["in/sub/b.pdf"].Size != 5 {
				t.Fatalf("recursive listing of in/: %v", all)
			}
			if top := list(t, b, false); len(top) != 1 || top["in/a.pdf"].Key == "" {
				t.Fatalf("non-recursive listing of in/: %v", top)
			}
			a := all["in/a.pdf"]
			if s.Kind != "file" && a.Version == "" {
				t.Fatalf("%s gives no version for a listed object: %+v", s.Kind, a)
			}
			st, err := b.Stat(ctx, "in/a.pdf")
			if err != nil || st.Version != a.Version || st.Size != a.Size {
				t.Fatalf("Stat = %+v, %v; listing said %+v", st, err, a)
			}

			rc, err := b.OpenVersion(ctx, a)
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(rc)
			rc.Close()
			if err != nil || string(body) != "alpha" {
				t.Fatalf("read %q, %v", body, err)
			}

			// Replaced under the same key: the listed version is gone.
			put(t, b, "in/a.pdf", "ALPHA, longer")
			if rc, err := b.OpenVersion(ctx, a); !errors.Is(err, bucket.ErrChanged) {
				if rc != nil {
					rc.Close()
				}
				t.Fatalf("reading a replaced object as its old version: %v; want ErrChanged", err)
			}
			if s.Kind == "gs" || s.Kind == "azblob" || s.Kind == "s3" {
				// The cloud itself refuses to delete another version.
				if err := b.DeleteVersion(ctx, a); !errors.Is(err, bucket.ErrChanged) {
					t.Fatalf("deleting a replaced object as its old version: %v; want ErrChanged", err)
				}
			}
			now := list(t, b, true)["in/a.pdf"]
			if err := b.DeleteVersion(ctx, now); err != nil {
				t.Fatal(err)
			}
			if _, err := b.Stat(ctx, "in/a.pdf"); !bucket.IsNotFound(err) {
				t.Fatalf("after delete, Stat: %v", err)
			}
			if err := b.DeleteVersion(ctx, now); err != nil {
				t.Fatalf("deleting what is gone: %v; want nil", err)
			}
			if _, err := b.OpenVersion(ctx, now); !bucket.IsNotFound(err) {
				t.Fatalf("reading a deleted object: %v; want not found", err)
			}
			if err := b.Copy(ctx, "done/sub/b.pdf", "in/sub/b.pdf"); err != nil {
				t.Fatal(err)
			}
			if got, err := b.Blob().ReadAll(ctx, "done/sub/b.pdf"); err != nil || string(got) != "bravo" {
				t.Fatalf("copy holds %q, %v", got, err)
			}
		})
	}
}

// TestListingIsPaged lists 2,500 objects and sees them come in pages of at
// most ListPageSize, never all at once.
func TestListingIsPaged(t *testing.T) {
	s := bucketemu.Mem(t)
	b := open(t, s, "p/")
	for i := range 2500 {
		put(t, b, fmt.Sprintf("p/%05d.pdf", i), "x")
	}
	var pages, total int
	reqs, err := b.List(context.Background(), b.Prefix, true, func(page []bucket.Object) error {
		pages++
		total += len(page)
		if len(page) > bucket.ListPageSize {
			return fmt.Errorf("a page of %d objects", len(page))
		}
		return nil
	})
	if err != nil || total != 2500 || pages != 3 || reqs != 3 {
		t.Fatalf("listed %d objects in %d pages, %d requests, %v; want 2500 in 3", total, pages, reqs, err)
	}
	stop := errors.New("enough")
	if _, err := b.List(context.Background(), b.Prefix, true, func([]bucket.Object) error { return stop }); !errors.Is(err, stop) {
		t.Fatalf("a page's error ends the listing: %v", err)
	}
}

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		raw, scheme, bucket, prefix, shown, err string
	}{
		{raw: "s3://bkt/in/?region=eu-west-1", scheme: "s3", bucket: "bkt", prefix: "in/", shown: "s3://bkt/in/"},
		{raw: "s3://bkt/in?region=eu-west-1&endpoint=http://x", scheme: "s3", bucket: "bkt", prefix: "in/", shown: "s3://bkt/in/"},
		{raw: "gs://bkt", scheme: "gs", bucket: "bkt", shown: "gs://bkt/"},
		{raw: "azblob://c/a/b/", scheme: "azblob", bucket: "c", prefix: "a/b/", shown: "azblob://c/a/b/"},
		{raw: "file:///srv/drop/?prefix=in/", scheme: "file", bucket: "/srv/drop", prefix: "in/", shown: "file:///srv/drop/in/"},
		{raw: "mem://t/x/", scheme: "mem", bucket: "t", prefix: "x/", shown: "mem://t/x/"},
		{raw: "s3:///in/", err: "names no bucket"},
		{raw: "s3://bkt/a//b/", err: "empty, '.' or '..'"},
		{raw: "s3://bkt/a/../b/", err: "empty, '.' or '..'"},
		{raw: "s3://AKIA:SECRET@bkt/in/", err: "must not contain user credentials"},
		{raw: "ftp://host/in/", err: "has scheme \"ftp\""},
		{raw: "file://host/dir/", err: "has a host"},
		{raw: "file:relative", err: "not a bucket URL"},
		{raw: "s3://bkt/in/?prefix=x/", err: "prefix twice"},
	} {
		l, err := bucket.Parse(tc.raw)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("Parse(%q) = %v; want error with %q", tc.raw, err, tc.err)
			}
			if err != nil && (strings.Contains(err.Error(), "SECRET") || strings.Contains(err.Error(), "region=")) {
				t.Errorf("Parse(%q) error shows a credential: %v", tc.raw, err)
			}
			continue
		}
		if err != nil || l.Scheme != tc.scheme || l.Bucket != tc.bucket || l.Prefix != tc.prefix || l.String() != tc.shown {
			t.Errorf("Parse(%q) = %+v (%s), %v; want %s %s %q %s", tc.raw, l, l, err, tc.scheme, tc.bucket, tc.prefix, tc.shown)
		}
		if key, ok := l.KeyOf(l.PathOf(tc.prefix + "k.pdf")); !ok || key != tc.prefix+"k.pdf" {
			t.Errorf("KeyOf(PathOf) = %q, %v", key, ok)
		}
	}
}

func TestDescribeNeverShowsAQueryOrASecret(t *testing.T) {
	err := fmt.Errorf("GET https://acct.blob.core.windows.net/c/k.pdf?sv=2020&sig=abcSECRET123 failed: AccessDenied; AccountKey=verysecret; x-amz-credential=AKIAX")
	got := bucket.Describe(err)
	for _, leak := range []string{"abcSECRET123", "sig=", "verysecret", "AKIAX"} {
		if strings.Contains(got, leak) {
			t.Fatalf("Describe shows %q: %s", leak, got)
		}
	}
	if !strings.HasPrefix(got, "access denied") || !strings.Contains(got, "https://acct.blob.core.windows.net/c/k.pdf") {
		t.Fatalf("Describe = %q; want the cause first and the URL without its query", got)
	}
}

// A link dropped in a file:// bucket is neither listed nor read through,
// nor is a file with a second hard link: the daemon must not read, and
// upload, a file from elsewhere.
func TestAFileBucketFollowsNoLink(t *testing.T) {
	s := bucketemu.File(t)
	b := open(t, s, "in/")
	put(t, b, "in/ok.pdf", "fine")
	secret := filepath.Join(t.TempDir(), "secret.pdf")
	if err := os.WriteFile(secret, []byte("the service's secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(b.Bucket, "in")
	if err := os.Symlink(secret, filepath.Join(dir, "evil.pdf")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Dir(secret), filepath.Join(dir, "linkdir")); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(filepath.Join(dir, "ok.pdf"), filepath.Join(dir, "hard.pdf")); err != nil {
		t.Fatal(err)
	}
	got := list(t, b, true)
	if _, ok := got["in/ok.pdf"]; !ok || len(got) != 2 || got["in/evil.pdf"].Key != "" {
		t.Fatalf("listing %v; want ok.pdf and hard.pdf (regular files), no link", got)
	}
	fi, err := os.Stat(secret)
	if err != nil {
		t.Fatal(err)
	}
	// Even asked for exactly the target's size and time, nothing is read
	// through the link; nor through a linked folder; nor a hard-linked file.
	for _, key := range []string{"in/evil.pdf", "in/linkdir/secret.pdf"} {
		if rc, err := b.OpenVersion(context.Background(), bucket.Object{Key: key, Size: fi.Size(), ModTime: fi.ModTime()}); !errors.Is(err, bucket.ErrChanged) {
			if rc != nil {
				rc.Close()
			}
			t.Fatalf("%s read through a link: %v", key, err)
		}
	}
	if rc, err := b.OpenVersion(context.Background(), got["in/hard.pdf"]); !errors.As(err, new(bucket.HardlinkedError)) {
		if rc != nil {
			rc.Close()
		}
		t.Fatalf("a file with two links was read: %v", err)
	}
}

// A URL the driver refuses is named without its query's values.
func TestOpenErrorsShowNoQueryValue(t *testing.T) {
	for _, u := range []string{"s3://bkt/in/?endpoint=http://x&bogus=SECRETVALUE", "gs://bkt/in/?private_key_path=/SECRETVALUE&nope=SECRETVALUE"} {
		_, err := bucket.Open(context.Background(), u)
		if err == nil || strings.Contains(err.Error(), "SECRETVALUE") || strings.Contains(err.Error(), "endpoint") {
			t.Errorf("Open(%s) = %v; want an error without the query's values", bucket.Redact(u), err)
		}
	}
}

// Describe names the usual causes first, from the clouds' own words.
func TestDescribeNamesTheCause(t *testing.T) {
	for msg, want := range map[string]string{
		"operation error S3: ListObjectsV2, https response error StatusCode: 301, api error PermanentRedirect: The bucket you are attempting to access must be addressed using the specified endpoint": "the bucket is in another region",
		"api error AuthorizationHeaderMalformed: the region 'us-east-1' is wrong; expecting 'eu-west-1'":                                                                                               "the bucket is in another region",
		"api error NoSuchBucket: The specified bucket does not exist":                                                                                                                                  "bucket not found",
		"RESPONSE 403: AuthorizationPermissionMismatch":                                                                                                                                                "access denied",
		"failed to refresh cached credentials, no EC2 IMDS role found":                                                                                                                                 "no credentials found",
		`Get "http://127.0.0.1:9/bkt": dial tcp 127.0.0.1:9: connect: connection refused`:                                                                                                              "cannot reach the storage endpoint",
	} {
		if got := bucket.Describe(errors.New(msg)); !strings.HasPrefix(got, want) {
			t.Errorf("Describe(%q) = %q; want it to begin %q", msg, got, want)
		}
	}
}
