package bucket

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"gocloud.dev/blob"
)

// Need is what a source's after-action needs of its credentials besides
// listing and reading.
type Need struct {
	// Delete: objects under the prefix are deleted (after = "delete" or
	// "move").
	Delete bool
	// WriteUnder, when set, is a key prefix objects are written under
	// (after = "move": <after_prefix>processed/).
	WriteUnder string
}

// Checked is what Check found.
type Checked struct {
	// Objects is how many objects the first page of the listing held.
	Objects int
	// More: the listing has more pages.
	More bool
	// Note says something worth knowing that is not a failure (a probe
	// object that could not be removed), or "".
	Note string
}

// ProbeName begins the name of the objects Check writes or deletes to
// find out what the credentials may do; intake's default exclude (".*")
// leaves them alone.
const ProbeName = ".docuparse-permission-check-"

// Check finds out, without touching any object it did not create, whether
// the credentials may list the prefix (one page), and as need says delete
// objects under it and write objects under need.WriteUnder. Its error says
// which of these failed and why (see Describe).
//
// Delete is tried on a key that does not exist: the clouds decide on the
// permission before they look (S3 answers a permitted DeleteObject with
// 204 and a refused one with 403; GCS and Azure answer 404 and 403). For
// S3 the request goes through the driver's own client, as gocloud's Delete
// asks HEAD first and stops at "not found". A file:// bucket, whose
// permission is the folder's, gets a probe file written and deleted.
// Write looks at a missing key there, writes a probe object and deletes it; when that delete is refused
// (credentials may write there but not delete), the probe stays and
// Checked.Note says so.
func (b *Bucket) Check(ctx context.Context, need Need) (Checked, error) {
	objs, next, err := b.b.ListPage(ctx, blob.FirstPageToken, ListPageSize, &blob.ListOptions{Prefix: b.Prefix})
	if err != nil {
		return Checked{}, fmt.Errorf("list %s: %w", b.Location, describedError{err})
	}
	c := Checked{More: len(next) > 0}
	for _, o := range objs {
		if !o.IsDir {
			c.Objects++
		}
	}
	if need.Delete {
		if err := b.checkDelete(ctx, b.Prefix+ProbeName+randomHex()); err != nil {
			return c, err
		}
	}
	if need.WriteUnder != "" {
		key := need.WriteUnder + ProbeName + randomHex()
		// A move looks at its destination before and after the copy: a
		// missing key there must read as missing (S3 says 403 instead
		// without s3:ListBucket on that prefix).
		if _, err := b.b.Attributes(ctx, key); !IsNotFound(err) {
			return c, fmt.Errorf("look at %s: %w", b.PathOf(key), describedError{err})
		}
		if err := b.b.WriteAll(ctx, key, []byte("docuparse-ingest check-config: permission probe, safe to delete\n"), nil); err != nil {
			return c, fmt.Errorf("write %s: %w", b.PathOf(key), describedError{err})
		}
		if err := b.b.Delete(ctx, key); err != nil && !IsNotFound(err) {
			c.Note = fmt.Sprintf("the probe %s could not be deleted (%s): delete it by hand", b.PathOf(key), Describe(err))
		}
	}
	return c, nil
}

// checkDelete finds out whether key, which does not exist, may be deleted.
func (b *Bucket) checkDelete(ctx context.Context, key string) error {
	var err error
	var client *s3.Client
	switch {
	case b.Scheme == "file":
		if err = b.b.WriteAll(ctx, key, nil, nil); err == nil {
			err = b.b.Delete(ctx, key)
		}
	case b.b.As(&client):
		_, err = client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(b.Bucket), Key: aws.String(key)})
	default:
		if err = b.b.Delete(ctx, key); IsNotFound(err) {
			err = nil
		}
	}
	if err != nil {
		return fmt.Errorf("delete under %s: %w", b.Location, describedError{err})
	}
	return nil
}

// randomHex returns 16 random hexadecimal digits.
func randomHex() string {
	var r [8]byte
	_, _ = rand.Read(r[:])
	return hex.EncodeToString(r[:])
}
