package bucket

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"cloud.google.com/go/storage"
	azblobblob "github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"gocloud.dev/blob"
	_ "gocloud.dev/blob/azureblob" // azblob://
	_ "gocloud.dev/blob/fileblob"  // file://
	_ "gocloud.dev/blob/gcsblob"   // gs://
	"gocloud.dev/blob/memblob"
	_ "gocloud.dev/blob/s3blob" // s3://
)

// Bucket is an open bucket at a Location.
type Bucket struct {
	Location
	b   *blob.Bucket
	raw string // the URL it was opened from (never shown: its query may hold options with secrets)
}

// Opened reports whether b was opened from exactly this URL.
func (b *Bucket) Opened(raw string) bool { return b.raw == raw }

// Open opens the bucket of a URL (see Parse) with its cloud's normal
// credential chain. It does not reach the cloud: a bucket that is missing
// or refuses access is found by the first request (see Check).
func Open(ctx context.Context, raw string) (*Bucket, error) {
	l, err := Parse(raw)
	if err != nil {
		return nil, err
	}
	b, err := l.Open(ctx)
	if err != nil {
		return nil, err
	}
	b.raw = raw
	return b, nil
}

// Open opens the bucket at l.
func (l Location) Open(ctx context.Context) (*Bucket, error) {
	if l.Scheme == "mem" {
		return &Bucket{Location: l, b: memBucket(l.Bucket)}, nil
	}
	b, err := blob.OpenBucket(ctx, l.open)
	if err != nil {
		return nil, fmt.Errorf("open %s: %s", l, Describe(err))
	}
	return &Bucket{Location: l, b: b}, nil
}

// Blob returns the gocloud bucket (keys are whole keys, prefix included).
func (b *Bucket) Blob() *blob.Bucket { return b.b }

// Close releases the bucket's connections.
func (b *Bucket) Close() error { return b.b.Close() }

var mem struct {
	sync.Mutex
	m map[string]*blob.Bucket
}

// memBucket returns the in-process bucket of a name, the same one for
// every Open in this process: mem://NAME/ is how tests and the demo hand
// objects to a daemon running in the same process.
func memBucket(name string) *blob.Bucket {
	mem.Lock()
	defer mem.Unlock()
	if mem.m == nil {
		mem.m = map[string]*blob.Bucket{}
	}
	root, ok := mem.m[name]
	if !ok {
		root = memblob.OpenBucket(nil)
		mem.m[name] = root
	}
	// A fresh handle over the shared memory: closing it leaves the others
	// (and the objects) alone. PrefixedBucket marks root itself closed, and
	// root is only ever used to make handles.
	return blob.PrefixedBucket(root, "")
}

// Object is one listed object.
type Object struct {
	Key     string
	Size    int64
	ModTime time.Time
	// Version tells this content of the key from another: "etag:…" (S3,
	// Azure), "gen:…" (GCS generation), "md5:…" (file, mem), or empty when
	// the bucket gives none (then size and modification time decide).
	Version string
}

// versionOf returns the version of a listed object (see Object.Version).
func versionOf(o *blob.ListObject) string {
	var s3o s3types.Object
	if o.As(&s3o) && s3o.ETag != nil {
		return "etag:" + strings.Trim(aws.ToString(s3o.ETag), `"`)
	}
	var gcs storage.ObjectAttrs
	if o.As(&gcs) && gcs.Generation != 0 {
		return "gen:" + strconv.FormatInt(gcs.Generation, 10)
	}
	var az container.BlobItem
	if o.As(&az) && az.Properties != nil && az.Properties.ETag != nil {
		return "etag:" + strings.Trim(string(*az.Properties.ETag), `"`)
	}
	if len(o.MD5) > 0 {
		return "md5:" + hex.EncodeToString(o.MD5)
	}
	return ""
}

// ListPageSize is how many objects one listing request asks for: the most
// S3, GCS and Azure return in one page.
const ListPageSize = 1000

// List lists the objects under prefix a page at a time, calling fn with
// each page's objects (never all of them at once). Recursive false lists
// only the objects directly under prefix. fn's error stops the listing
// and is returned; so is the bucket's, described (see Describe). A store
// that hands out a page token it gave before (a broken S3-compatible
// server) would have the listing go round for ever: it ends it, with
// ErrTokenRepeated.
func (b *Bucket) List(ctx context.Context, prefix string, recursive bool, fn func([]Object) error) (requests int, err error) {
	opts := &blob.ListOptions{Prefix: prefix}
	if !recursive {
		opts.Delimiter = "/"
	}
	var token = blob.FirstPageToken
	tokens := map[string]bool{} // one a page: a thousand for a million objects
	if b.Scheme == "file" {
		if err := b.fileDir(); err != nil {
			return 0, fmt.Errorf("list %s: %w", b.Location, err)
		}
	}
	for {
		objs, next, err := b.listPage(ctx, token, opts)
		requests++
		if err != nil {
			return requests, fmt.Errorf("list %s: %w", b.Location, describedError{err})
		}
		page := make([]Object, 0, len(objs))
		for _, o := range objs {
			if o.IsDir || b.Scheme == "file" && !b.fileListed(o) {
				continue
			}
			page = append(page, Object{Key: o.Key, Size: o.Size, ModTime: o.ModTime, Version: versionOf(o)})
		}
		if err := fn(page); err != nil {
			return requests, err
		}
		if len(next) == 0 {
			return requests, nil
		}
		if tokens[string(next)] {
			return requests, fmt.Errorf("list %s: %w", b.Location, ErrTokenRepeated)
		}
		tokens[string(next)] = true
		token = next
	}
}

// pageTimeout bounds the requests for one page of a listing. The clouds'
// HTTP clients set no time limit on a request, so one a store or a proxy
// takes and never answers would hold a listing, and the source, for ever,
// while /readyz (which judges listings that ended) said all was well.
var pageTimeout = 2 * time.Minute

// listPage asks for the page at token, within pageTimeout.
func (b *Bucket) listPage(ctx context.Context, token []byte, opts *blob.ListOptions) ([]*blob.ListObject, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, pageTimeout)
	defer cancel()
	return b.b.ListPage(ctx, token, ListPageSize, opts)
}

// ErrTokenRepeated: the store gave a listing's page token a second time.
var ErrTokenRepeated = errors.New("the storage service gave the same page token twice; the listing was ended, not repeated for ever")

// ErrChanged: the object is no longer the version asked for.
var ErrChanged = errors.New("object changed since it was listed")

// OpenVersion opens key for reading only while it is the given version:
// the cloud is asked to refuse another (If-Match on the ETag for S3 and
// Azure), and the version of what the reader actually reads (its ETag or
// GCS generation; else its size and modification time) is checked against
// the listing's, so an emulator or store that ignores the condition
// cannot slip another version in. A missing object gives an error for
// which IsNotFound is true; another version, ErrChanged.
func (b *Bucket) OpenVersion(ctx context.Context, o Object) (io.ReadCloser, error) {
	if b.Scheme == "file" {
		return b.openFile(o)
	}
	r, err := b.b.NewReader(ctx, o.Key, &blob.ReaderOptions{BeforeRead: condition(o.Version)})
	if err != nil {
		switch b.afterRefusal(ctx, o, err) {
		case nowOther:
			return nil, fmt.Errorf("read %s: %w", b.PathOf(o.Key), ErrChanged)
		case nowGone:
			return nil, fmt.Errorf("read %s: %w", b.PathOf(o.Key), describedError{errGone})
		}
		return nil, fmt.Errorf("read %s: %w", b.PathOf(o.Key), describedError{err})
	}
	got := readerVersion(r)
	switch {
	case r.Size() != o.Size,
		o.Version != "" && got != "" && got != o.Version,
		o.Version == "" && !r.ModTime().Truncate(time.Microsecond).Equal(o.ModTime.Truncate(time.Microsecond)):
		r.Close()
		return nil, fmt.Errorf("read %s: %w", b.PathOf(o.Key), ErrChanged)
	}
	return readCloser{r, b, o.Key}, nil
}

// readerVersion returns the version of what r reads, in Object.Version's
// terms, or "" where the driver does not say (file, mem: their MD5 is
// checked by the caller's hash).
func readerVersion(r *blob.Reader) string {
	var s3o s3.GetObjectOutput
	if r.As(&s3o) && s3o.ETag != nil {
		return "etag:" + strings.Trim(aws.ToString(s3o.ETag), `"`)
	}
	var gcs *storage.Reader
	if r.As(&gcs) && gcs != nil && gcs.Attrs.Generation != 0 {
		return "gen:" + strconv.FormatInt(gcs.Attrs.Generation, 10)
	}
	var az azblobblob.DownloadStreamResponse
	if r.As(&az) && az.ETag != nil {
		return "etag:" + strings.Trim(string(*az.ETag), `"`)
	}
	return ""
}

// readCloser describes the errors of a read as the bucket's.
type readCloser struct {
	r   *blob.Reader
	b   *Bucket
	key string
}

func (rc readCloser) Read(p []byte) (int, error) {
	n, err := rc.r.Read(p)
	if err != nil && err != io.EOF {
		err = fmt.Errorf("read %s: %w", rc.b.PathOf(rc.key), describedError{err})
	}
	return n, err
}

func (rc readCloser) Close() error { return rc.r.Close() }

// condition returns a BeforeRead that makes the cloud refuse the read of
// another version than v.
func condition(v string) func(func(any) bool) error {
	kind, val, _ := strings.Cut(v, ":")
	return func(as func(any) bool) error {
		switch kind {
		case "etag":
			var s3in *s3.GetObjectInput
			if as(&s3in) {
				s3in.IfMatch = aws.String(`"` + val + `"`)
				return nil
			}
			var az *azblobblob.DownloadStreamOptions
			if as(&az) {
				etag := azETag(val)
				az.AccessConditions = ifMatch(az.AccessConditions, &etag)
			}
		}
		return nil
	}
}

// DeleteVersion deletes key only while it is the given version, where the
// cloud can make the condition (GCS generation, Azure If-Match; S3
// If-Match on DeleteObject where the service supports it). A missing
// object is not an error: it is already gone.
func (b *Bucket) DeleteVersion(ctx context.Context, o Object) error {
	// Looked at first too: not every S3-compatible store honours If-Match
	// on a delete, nor does the GCS emulator honour generation conditions.
	switch now, err := b.Stat(ctx, o.Key); {
	case IsNotFound(err):
		return nil
	case err != nil:
		return fmt.Errorf("delete %s: %w", b.PathOf(o.Key), err)
	case now.Version != o.Version || o.Version == "" && (now.Size != o.Size || !now.ModTime.Equal(o.ModTime)):
		return fmt.Errorf("delete %s: %w", b.PathOf(o.Key), ErrChanged)
	}
	kind, val, _ := strings.Cut(o.Version, ":")
	err := b.b.DeleteWithOptions(ctx, o.Key, &blob.DeleteOptions{BeforeDelete: func(as func(any) bool) error {
		switch kind {
		case "gen":
			var h **storage.ObjectHandle
			if gen, err := strconv.ParseInt(val, 10, 64); err == nil && as(&h) {
				*h = (*h).If(storage.Conditions{GenerationMatch: gen})
			}
		case "etag":
			var s3in *s3.DeleteObjectInput
			if as(&s3in) {
				s3in.IfMatch = aws.String(`"` + val + `"`)
			}
			var az *azblobblob.DeleteOptions
			if as(&az) {
				etag := azETag(val)
				az.AccessConditions = ifMatch(az.AccessConditions, &etag)
			}
		}
		return nil
	}})
	if err == nil {
		return nil
	}
	switch b.afterRefusal(ctx, o, err) {
	case nowOther:
		return fmt.Errorf("delete %s: %w", b.PathOf(o.Key), ErrChanged)
	case nowGone:
		return nil
	}
	return fmt.Errorf("delete %s: %w", b.PathOf(o.Key), describedError{err})
}

// objectNow is what a key holds after a request for one version of it
// was refused.
type objectNow int

const (
	nowUnknown objectNow = iota // the refusal was about something else
	nowGone                     // nothing
	nowOther                    // another version
)

// afterRefusal looks at the key after err, from a request made for
// version o: "not found" or a failed precondition (Azure answers If-Match
// on a missing blob with 412) may mean the object is gone, or replaced.
func (b *Bucket) afterRefusal(ctx context.Context, o Object, err error) objectNow {
	if !IsNotFound(err) && gcerrCode(err) != codeFailedPrecondition {
		return nowUnknown
	}
	now, serr := b.Stat(ctx, o.Key)
	switch {
	case IsNotFound(serr):
		return nowGone
	case serr == nil && now.Version != o.Version:
		return nowOther
	}
	return nowUnknown
}

// errGone is "not found" learnt by a second look (see afterRefusal);
// IsNotFound is true for it.
var errGone = errors.New("not found (the object is gone)")

// Copy copies src to dst within the bucket.
func (b *Bucket) Copy(ctx context.Context, dst, src string) error {
	if err := b.b.Copy(ctx, dst, src, nil); err != nil {
		return fmt.Errorf("copy %s to %s: %w", b.PathOf(src), b.PathOf(dst), describedError{err})
	}
	return nil
}

// Stat returns the object at key as a listing would.
func (b *Bucket) Stat(ctx context.Context, key string) (Object, error) {
	o, _, err := b.attributes(ctx, key)
	return o, err
}
