package ingest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/bucket"
	"github.com/docuparse/docuparse-ingest/internal/store"
)

// This file is the bucket side of Roots: the objects of a bucket source
// are hashed, looked at and uploaded through the source's open bucket,
// one version at a time (see internal/bucket), as files are through their
// folder's pin.

// objectTimeout bounds intake's read of one object (at most the API's
// 10 MB: 10 minutes is 17 KB/s) and a look at one; the upload's read is
// bounded by the upload's own stall watchdog (api.timeout).
const objectTimeout = 10 * time.Minute

// openTimeout bounds the opening of an object for upload, until the
// bucket's answer begins: the upload's stall watchdog watches its body,
// and the clouds' HTTP clients set no limit, so a read the store takes
// and never answers held the submitter for ever.
var openTimeout = 2 * time.Minute

// errBucket: a bucket request failed for a reason that is the bucket's,
// the network's or the credentials', not the object's (anything but "not
// found" and "changed"): the object is held and tried again, never
// rejected (see heldBack). An object the credentials may not read is a
// configuration problem, reported once while it lasts.
type errBucket struct{ err error }

func (e errBucket) Error() string { return e.err.Error() }
func (e errBucket) Unwrap() error { return e.err }

// objectErr maps a bucket error to the terms intake and the submitter
// decide on: fs.ErrNotExist (gone), errChanged (another version),
// errHardlinked (a file:// bucket's file with other names: refused, as in
// a folder) or errBucket (held).
func objectErr(err error) error {
	var linked bucket.HardlinkedError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &linked):
		return errHardlinked{path: linked.Key, links: linked.Links}
	case errors.Is(err, bucket.ErrChanged):
		return fmt.Errorf("%w: %v", errChanged, err)
	case bucket.IsNotFound(err):
		return fmt.Errorf("%w: %v", fs.ErrNotExist, err)
	}
	return errBucket{err}
}

// SetBuckets replaces the open buckets of bucket sources, by source name
// (a reload). A source in neither map confines its files to their own
// directory, as before.
func (r *Roots) SetBuckets(m map[string]*bucket.Bucket) {
	r.mu.Lock()
	r.buckets = m
	r.mu.Unlock()
}

// HasBucket reports whether source is a bucket source with an open bucket.
func (r *Roots) HasBucket(source string) bool { return r.bucketOf(source) != nil }

// bucketOf returns the open bucket of a bucket source, or nil.
func (r *Roots) bucketOf(source string) *bucket.Bucket {
	if r == nil {
		return nil
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.buckets[source]
}

// object returns the bucket object a candidate or document names.
func object(b *bucket.Bucket, path string, size int64, mtime time.Time, id store.FileID) (bucket.Object, error) {
	key, ok := b.KeyOf(path)
	if !ok {
		return bucket.Object{}, fmt.Errorf("%s is not in %s", path, b.Location)
	}
	return bucket.Object{Key: key, Size: size, ModTime: mtime, Version: id.Version}, nil
}

// hashObject returns the hex SHA-256 of the object version c was listed
// as, streamed from the bucket. An object whose read is not what was
// listed, though the bucket says it did not change, is an error of its
// own, not errChanged (see readDisagrees).
func hashObject(b *bucket.Bucket, c Candidate) (string, error) {
	o, err := object(b, c.Path, c.Size, c.ModTime, c.FileID)
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(context.Background(), objectTimeout)
	defer cancel()
	sum, err := hashVersion(ctx, b, o)
	if errors.Is(err, errChanged) && readDisagrees(ctx, b, o) {
		return "", fmt.Errorf("reading the object does not give the %d bytes (version %q) the bucket lists, and the bucket "+
			"says it has not changed: it is stored transformed (Content-Encoding: gzip, say) and is not taken", o.Size, o.Version)
	}
	return sum, err
}

// hashVersion returns the hex SHA-256 of the object version o.
func hashVersion(ctx context.Context, b *bucket.Bucket, o bucket.Object) (string, error) {
	rc, err := b.OpenVersion(ctx, o)
	if err != nil {
		return "", objectErr(err)
	}
	defer rc.Close()
	h := sha256.New()
	n, err := io.Copy(h, rc)
	if err != nil {
		return "", objectErr(err)
	}
	if n != o.Size {
		return "", errChanged
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// readDisagrees reports whether the bucket still says the object is the
// version o, after a read of it found another: then the read will never
// match (GCS serves a gzip-encoded object decompressed, say). Intake drops
// a changed object, as the source hands over its next version; the source
// hands each version over once, so one that never reads as listed would
// be taken never, nor rejected, nor logged.
func readDisagrees(ctx context.Context, b *bucket.Bucket, o bucket.Object) bool {
	now, err := b.Stat(ctx, o.Key)
	return err == nil && now.Size == o.Size && now.Version == o.Version && (o.Version != "" || now.ModTime.Equal(o.ModTime))
}

// statObject returns the settle signature of the object at path now.
func statObject(b *bucket.Bucket, path string) (settleSig, error) {
	key, ok := b.KeyOf(path)
	if !ok {
		return settleSig{}, fmt.Errorf("%s is not in %s: %w", path, b.Location, fs.ErrNotExist)
	}
	ctx, cancel := context.WithTimeout(context.Background(), objectTimeout)
	defer cancel()
	o, err := b.Stat(ctx, key)
	if err != nil {
		return settleSig{}, objectErr(err)
	}
	return settleSig{size: o.Size, mtime: o.ModTime, id: store.FileID{Version: o.Version}}, nil
}

// openObjectVerified opens the object version of a queued document for
// upload: the bucket refuses (or the reader's version betrays) another
// version, and the content streams through the same SHA-256 check as a
// file's (see openVerified). The bucket's answer must begin within
// openTimeout; then the request lives as long as the upload reads it:
// cancel is called by Close.
func openObjectVerified(b *bucket.Bucket, d store.Document) (io.ReadCloser, error) {
	o, err := object(b, d.Path, d.SizeBytes, d.ModTime, d.FileID)
	if err != nil {
		return nil, err
	}
	want, err := hex.DecodeString(d.SHA256)
	if err != nil || len(want) != sha256.Size {
		return nil, fmt.Errorf("open %s: recorded sha256 %q is not a SHA-256", d.Path, d.SHA256)
	}
	ctx, cancel := context.WithCancel(context.Background())
	late := time.AfterFunc(openTimeout, cancel)
	rc, err := b.OpenVersion(ctx, o)
	if !late.Stop() && err == nil {
		rc.Close() // opened as the time ran out: its request is ended
		err = fmt.Errorf("open %s: %w", d.Path, context.DeadlineExceeded)
	}
	if err != nil {
		cancel()
		return nil, objectErr(err)
	}
	return &verifyingReader{f: objectReader{rc, cancel}, h: sha256.New(), want: want}, nil
}

// objectReader reads an object, mapping its errors (see objectErr), and
// ends its request on Close.
type objectReader struct {
	rc     io.ReadCloser
	cancel context.CancelFunc
}

func (o objectReader) Read(p []byte) (int, error) {
	n, err := o.rc.Read(p)
	if err != nil && err != io.EOF {
		err = objectErr(err)
	}
	return n, err
}

func (o objectReader) Close() error {
	err := o.rc.Close()
	o.cancel()
	return err
}
