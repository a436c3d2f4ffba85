package bucket

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"cloud.google.com/go/storage"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	azblobblob "github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"gocloud.dev/blob"
	"gocloud.dev/blob/gcsblob"
)

// ErrExists: the destination of a copy holds other content already.
var ErrExists = errors.New("the destination holds another object")

// CopyVersion copies version o of o.Key to dst, whose content must come
// out as the content taken in: sum is its SHA-256 (hex), as the daemon
// computed it while reading o.
//
// It is idempotent, so a copy cut short by a crash is finished by calling
// it again: when dst already holds o's content, it returns nil without
// copying. When dst holds anything else, it returns ErrExists and touches
// nothing (an archived object is never overwritten). When o.Key is no
// longer version o, it returns ErrChanged; when it is gone, an error for
// which IsNotFound is true.
//
// The cloud is asked to copy only version o (S3 x-amz-copy-source-if-match,
// GCS ifSourceGenerationMatch, Azure x-ms-source-if-match) and only onto
// nothing (S3 If-None-Match, GCS ifGenerationMatch=0, Azure If-None-Match:
// *). As emulators and S3-compatible stores ignore some of these, the copy
// is then checked (size, and MD5 or else SHA-256, against version o's), and
// a copy of other content is deleted again.
func (b *Bucket) CopyVersion(ctx context.Context, o Object, sum, dst string) error {
	src, srcMD5, err := b.attributes(ctx, o.Key)
	switch {
	case IsNotFound(err):
		return fmt.Errorf("copy %s: %w", b.PathOf(o.Key), describedError{errGone})
	case err != nil:
		return err
	case !isVersion(src, o):
		return fmt.Errorf("copy %s: %w", b.PathOf(o.Key), ErrChanged)
	}
	switch same, err := b.holds(ctx, dst, o, srcMD5, sum); {
	case err == nil && same:
		return nil // copied before (a copy cut short by a crash)
	case err == nil:
		return fmt.Errorf("copy %s to %s: %w", b.PathOf(o.Key), b.PathOf(dst), ErrExists)
	case !IsNotFound(err):
		return err
	}
	copyHook()
	if err := b.b.Copy(ctx, dst, o.Key, &blob.CopyOptions{BeforeCopy: copyConditions(o.Version)}); err != nil {
		return b.copyRefused(ctx, o, dst, err)
	}
	same, err := b.holds(ctx, dst, o, srcMD5, sum)
	if err != nil {
		return err // checked again by the next call
	}
	if !same {
		// Another version was copied (the store ignored the condition):
		// the copy is not an archive of what was taken in.
		if err := b.b.Delete(ctx, dst); err != nil && !IsNotFound(err) {
			return fmt.Errorf("delete %s, a copy of another version than the one taken in: %w", b.PathOf(dst), describedError{err})
		}
		return fmt.Errorf("copy %s: %w", b.PathOf(o.Key), ErrChanged)
	}
	return nil
}

// copyRefused says why the copy of version o to dst failed with err: the
// source changed or went, the destination was taken meanwhile, or err.
func (b *Bucket) copyRefused(ctx context.Context, o Object, dst string, err error) error {
	switch b.afterRefusal(ctx, o, err) {
	case nowOther:
		return fmt.Errorf("copy %s: %w", b.PathOf(o.Key), ErrChanged)
	case nowGone:
		return fmt.Errorf("copy %s: %w", b.PathOf(o.Key), describedError{errGone})
	}
	if gcerrCode(err) == codeFailedPrecondition {
		if _, serr := b.b.Attributes(ctx, dst); serr == nil {
			return fmt.Errorf("copy %s to %s: %w", b.PathOf(o.Key), b.PathOf(dst), ErrExists)
		}
	}
	return fmt.Errorf("copy %s to %s: %w", b.PathOf(o.Key), b.PathOf(dst), describedError{err})
}

// isVersion reports whether now, an object as it is, is version o.
func isVersion(now, o Object) bool {
	if o.Version != "" || now.Version != "" {
		return now.Version == o.Version
	}
	return now.Size == o.Size && now.ModTime.Truncate(time.Microsecond).Equal(o.ModTime.Truncate(time.Microsecond))
}

// holds reports whether key holds the content of version o: the same size
// and the same MD5 (srcMD5, o's, when both are known), or else the same
// SHA-256 as sum, read back. Without either, the size decides. A missing
// key gives an error for which IsNotFound is true.
func (b *Bucket) holds(ctx context.Context, key string, o Object, srcMD5 []byte, sum string) (bool, error) {
	now, md5, err := b.attributes(ctx, key)
	switch {
	case err != nil:
		return false, err
	case now.Size != o.Size:
		return false, nil
	case len(srcMD5) > 0 && len(md5) > 0:
		return bytes.Equal(srcMD5, md5), nil
	case sum == "":
		return true, nil
	}
	r, err := b.b.NewReader(ctx, key, nil)
	if err != nil {
		return false, fmt.Errorf("read %s: %w", b.PathOf(key), describedError{err})
	}
	defer r.Close()
	h := sha256.New()
	if _, err := io.Copy(h, r); err != nil {
		return false, fmt.Errorf("read %s: %w", b.PathOf(key), describedError{err})
	}
	return hex.EncodeToString(h.Sum(nil)) == sum, nil
}

// attributes returns the object at key as a listing would, and its MD5
// when the bucket knows it, from one request.
func (b *Bucket) attributes(ctx context.Context, key string) (Object, []byte, error) {
	a, err := b.b.Attributes(ctx, key)
	if err != nil {
		return Object{}, nil, fmt.Errorf("look at %s: %w", b.PathOf(key), describedError{err})
	}
	return b.objectOf(key, a), a.MD5, nil
}

// objectOf returns the object at key with attributes a, as a listing
// gives it (see Object.Version).
func (b *Bucket) objectOf(key string, a *blob.Attributes) Object {
	o := Object{Key: key, Size: a.Size, ModTime: a.ModTime}
	var gcs storage.ObjectAttrs
	switch {
	case a.As(&gcs) && gcs.Generation != 0:
		o.Version = "gen:" + strconv.FormatInt(gcs.Generation, 10)
	case a.ETag != "" && b.Scheme != "file" && b.Scheme != "mem":
		o.Version = "etag:" + strings.Trim(a.ETag, `"`)
	case len(a.MD5) > 0:
		o.Version = "md5:" + hex.EncodeToString(a.MD5)
	}
	return o
}

// copyConditions returns a BeforeCopy that asks the cloud to copy only
// version v of the source, and only onto nothing.
func copyConditions(v string) func(func(any) bool) error {
	kind, val, _ := strings.Cut(v, ":")
	return func(as func(any) bool) error {
		var s3in *s3.CopyObjectInput
		if as(&s3in) {
			s3in.IfNoneMatch = aws.String("*")
			if kind == "etag" {
				s3in.CopySourceIfMatch = aws.String(`"` + val + `"`)
			}
			return nil
		}
		var gcs *gcsblob.CopyObjectHandles
		if as(&gcs) {
			gcs.Dst = gcs.Dst.If(storage.Conditions{DoesNotExist: true})
			if gen, err := strconv.ParseInt(val, 10, 64); kind == "gen" && err == nil {
				gcs.Src = gcs.Src.If(storage.Conditions{GenerationMatch: gen})
			}
			return nil
		}
		var az *azblobblob.StartCopyFromURLOptions
		if as(&az) {
			none := azcore.ETagAny
			az.AccessConditions = withModified(az.AccessConditions, func(m *azblobblob.ModifiedAccessConditions) { m.IfNoneMatch = &none })
			if kind == "etag" {
				etag := azETag(val)
				az.SourceModifiedAccessConditions = &azblobblob.SourceModifiedAccessConditions{SourceIfMatch: &etag}
			}
		}
		return nil
	}
}

// beforeCopy, when set (tests only), is called between the checks of
// CopyVersion and the copy itself. Nil in production.
var beforeCopy func()

func copyHook() {
	if beforeCopy != nil {
		beforeCopy()
	}
}
