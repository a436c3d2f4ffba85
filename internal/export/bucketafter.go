package export

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"

	"github.com/docuparse/docuparse-ingest/internal/bucket"
	"github.com/docuparse/docuparse-ingest/internal/store"
	"github.com/docuparse/docuparse-ingest/internal/vocab"
)

// Folders under SourceAfter.AfterPrefix that a bucket source's move puts
// objects in.
const (
	processedDir = "processed/"
	failedDir    = "failed/"
)

// applyBucketAfter deletes or moves the object a bucket document was
// taken in as, once it is exported: the version recorded (FileID.Version),
// never another one saved under the key since — that is another document,
// and its action gives errChangedSince.
//
// Move copies that version to AfterPrefix + "processed/" (or "failed/"
// for a document the API failed) + the key relative to the source's
// prefix, under "name (2).ext", … when that key holds another object (an
// archived object is never overwritten), and then deletes the original.
// Both steps can be repeated: a copy already made is found and not made
// again (bucket.CopyVersion), a deleted original is done. So an action
// killed between them (it runs before the exported mark) is finished by
// the next run, without a second copy and without losing the object.
func applyBucketAfter(ctx context.Context, a SourceAfter, d store.Document) error {
	if a.Action != vocab.AfterDelete && a.Action != vocab.AfterMove {
		return nil
	}
	b := a.Bucket
	key, ok := b.KeyOf(d.Path)
	if !ok {
		return permanentError{fmt.Errorf("%s is not in the source's bucket %s (its url changed?)", d.Path, b.Location)}
	}
	o := bucket.Object{Key: key, Size: d.SizeBytes, ModTime: d.ModTime, Version: d.FileID.Version}
	if a.Action == vocab.AfterMove {
		err := archive(ctx, b, o, d.SHA256, a.AfterPrefix+archiveDir(d)+relKey(b, key))
		if err != nil {
			return bucketAfterError(err)
		}
		step("acted")
	}
	return bucketAfterError(b.DeleteVersion(ctx, o))
}

// archiveDir is the folder a moved document's object goes to.
func archiveDir(d store.Document) string {
	if d.State == store.StateFailed {
		return failedDir
	}
	return processedDir
}

// relKey returns key relative to the bucket's prefix (the whole key for
// one outside it).
func relKey(b *bucket.Bucket, key string) string {
	if rel, ok := strings.CutPrefix(key, b.Prefix); ok && rel != "" {
		return rel
	}
	return key
}

// archive copies version o to dst or, when dst holds another object, to
// "dst (2).ext", "dst (3).ext", …: the first name free or already holding
// o's content (a copy made by an action cut short).
func archive(ctx context.Context, b *bucket.Bucket, o bucket.Object, sum, dst string) error {
	dir, base := path.Split(dst)
	for i := 1; i <= maxNumbered; i++ {
		name := numbered(base, i)
		err := b.CopyVersion(ctx, o, sum, dir+name)
		if !errors.Is(err, bucket.ErrExists) {
			return err
		}
	}
	return permanentError{fmt.Errorf("move %s: no free name for %s", b.PathOf(o.Key), b.PathOf(dst))}
}

// permanentError is an after-action's own error that trying again cannot
// mend (bucket.IsTemporary takes any error it does not know for one that
// may pass).
type permanentError struct{ error }

func (e permanentError) Unwrap() error { return e.error }

// temporary reports whether a bucket after-action's err may pass by
// itself (see bucket.IsTemporary), so it is worth trying again.
func temporary(err error) bool {
	var p permanentError
	return bucket.IsTemporary(err) && !errors.As(err, &p)
}

// bucketAfterError turns a bucket error into what applyBucketAfter
// returns: nil for an object already gone (moved, deleted, or removed by
// someone else), errChangedSince for another version under the key.
func bucketAfterError(err error) error {
	switch {
	case err == nil, bucket.IsNotFound(err):
		return nil
	case errors.Is(err, bucket.ErrChanged):
		return fmt.Errorf("%w (%w)", errChangedSince, err)
	}
	return err
}
