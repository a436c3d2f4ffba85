package ingest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/docuparse/docuparse-ingest/internal/bucket"
	"github.com/docuparse/docuparse-ingest/internal/safedir"
	"github.com/docuparse/docuparse-ingest/internal/store"
)

// Roots maps source names to their folders. Files are opened through the
// pin of their source's folder (internal/safedir), following no symbolic
// link: a symlink dropped in the inbox, or the folder swapped for one or for
// another folder, cannot make the daemon read, hash or upload a file from
// outside it — the service's credentials, or its own reports, say.
type Roots struct {
	pins    *safedir.Set
	mu      sync.RWMutex
	m       map[string]string
	buckets map[string]*bucket.Bucket // bucket sources (see objects.go)
}

// NewRoots returns Roots for the given source name → folder map, pinning
// each folder now in pins (nil: Roots keeps pins of its own). A folder that
// cannot be pinned yet is pinned when first used.
func NewRoots(m map[string]string, pins *safedir.Set) *Roots {
	if pins == nil {
		pins = safedir.NewSet(nil)
	}
	r := &Roots{pins: pins}
	r.Set(m)
	return r
}

// Set replaces the map (a reload), pinning folders not pinned yet.
func (r *Roots) Set(m map[string]string) {
	for _, dir := range m {
		_, _ = r.pins.Pin(dir) // an error is reported by the folder source
	}
	r.mu.Lock()
	r.m = m
	r.mu.Unlock()
}

// dirOf returns the pinned folder a file must stay within: its source's,
// or, for a source no longer configured, a pin of the file's own directory
// taken now with no symbolic link on its path (safedir.OpenExact; release
// closes it).
func (r *Roots) dirOf(source, path string) (d *safedir.Dir, release func(), err error) {
	if !filepath.IsAbs(path) {
		// A bucket object whose source is no longer configured (or is
		// not a bucket any more): never looked for relative to the
		// working directory.
		return nil, nil, fmt.Errorf("%s: no bucket source %q is configured: %w", path, source, fs.ErrNotExist)
	}
	if r != nil {
		r.mu.RLock()
		root, ok := r.m[source]
		r.mu.RUnlock()
		if ok {
			if rel, err := filepath.Rel(root, path); err == nil && filepath.IsLocal(rel) {
				d, err := r.pins.Pin(root)
				return d, func() {}, err
			}
		}
	}
	d, err = safedir.OpenExact(filepath.Dir(path), nil)
	if err != nil {
		return nil, nil, err
	}
	return d, func() { d.Close() }, nil
}

// openUnchanged opens the file at path within its source's folder and
// checks that it is still a regular file with the given size, modification
// time (at the store's microsecond precision) and identity (device, inode,
// change time, when known). A mismatch returns errChanged: intake uses it
// so that the hash it records is the hash of the file that settled.
func (r *Roots) openUnchanged(source, path string, size int64, mtime time.Time, id store.FileID) (*os.File, error) {
	f, fi, err := r.openRegular(source, path)
	if err != nil {
		return nil, err
	}
	if fi.Size() != size || !sameTime(fi.ModTime(), mtime) || !sigOf(fi).id.Same(id) {
		f.Close()
		return nil, errChanged
	}
	if err := singleLink(fi, path); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// openVerified opens the file of a queued document for upload. It checks the
// recorded size at once and the recorded SHA-256 as the bytes stream: the
// reader returns errChanged instead of io.EOF when what was read is not
// what was hashed, so a multipart body carrying other content is never
// completed and the API never accepts it under the document's hash.
//
// The modification time and identity are deliberately not compared: a file
// touched or saved again with the same bytes while it waits for its upload
// is the same document (intake has refreshed its recorded stat), not a
// changed one; the hash decides.
func (r *Roots) openVerified(source, path string, size int64, sha256Hex string) (io.ReadCloser, error) {
	f, fi, err := r.openRegular(source, path)
	if err != nil {
		return nil, err
	}
	if fi.Size() != size {
		f.Close()
		return nil, errChanged
	}
	if err := singleLink(fi, path); err != nil {
		f.Close()
		return nil, err
	}
	want, err := hex.DecodeString(sha256Hex)
	if err != nil || len(want) != sha256.Size {
		f.Close()
		return nil, fmt.Errorf("open %s: recorded sha256 %q is not a SHA-256", path, sha256Hex)
	}
	return &verifyingReader{f: f, h: sha256.New(), want: want}, nil
}

// openDocument opens the file or object of a queued document for upload
// (openVerified, openObjectVerified).
func (r *Roots) openDocument(d store.Document) (io.ReadCloser, error) {
	if b := r.bucketOf(d.Source); b != nil {
		return openObjectVerified(b, d)
	}
	return r.openVerified(d.Source, d.Path, d.SizeBytes, d.SHA256)
}

// ErrChanged: the file at a document's path is not the file it was taken
// in as (another size or content, or no longer a regular file).
var ErrChanged = errChanged

// Verify checks that the file at path is still the file a document was
// taken in as, the way its upload does: opened within its source's folder
// through the pin, following no symbolic link, a regular file of the
// recorded size whose content has the recorded SHA-256. It returns nil,
// an error wrapping ErrChanged or fs.ErrNotExist, or why it could not
// look. A bucket object is read as the version it was taken in as. The
// retry command uses it, so that what it promises is what the
// daemon will do.
func (r *Roots) Verify(d store.Document) error {
	rc, err := r.openDocument(d)
	if err != nil {
		return err
	}
	defer rc.Close()
	_, err = io.Copy(io.Discard, rc)
	return err
}

// stat returns the signature of the regular file at path within its
// source's folder; an error if it is gone, unreadable or not a regular
// file.
func (r *Roots) stat(source, path string) (settleSig, error) {
	if b := r.bucketOf(source); b != nil {
		return statObject(b, path)
	}
	f, fi, err := r.openRegular(source, path)
	if err != nil {
		return settleSig{}, err
	}
	f.Close()
	return sigOf(fi), nil
}

// openRegular opens the file at path within its source's folder, through
// the folder's pin and following no symbolic link, and checks that it is a
// regular file. It never blocks on a FIFO put in the file's place
// (O_NONBLOCK; the type is checked on the open descriptor).
func (r *Roots) openRegular(source, path string) (*os.File, os.FileInfo, error) {
	d, release, err := r.dirOf(source, path)
	if err != nil {
		return nil, nil, err
	}
	defer release()
	f, err := d.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK)
	if err != nil {
		return nil, nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("stat %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, nil, errChanged
	}
	return f, fi, nil
}

// verifyingReader hashes what it reads and, at the end, reports errChanged
// in place of io.EOF unless the hash is the expected one.
type verifyingReader struct {
	f    io.ReadCloser
	h    hash.Hash
	want []byte
}

func (v *verifyingReader) Read(p []byte) (int, error) {
	n, err := v.f.Read(p)
	v.h.Write(p[:n])
	if err == io.EOF && !bytes.Equal(v.h.Sum(nil), v.want) {
		return n, fmt.Errorf("%w: its content no longer has the SHA-256 it was taken in with", errChanged)
	}
	return n, err
}

func (v *verifyingReader) Close() error { return v.f.Close() }

func sameTime(a, b time.Time) bool {
	return a.Truncate(time.Microsecond).Equal(b.Truncate(time.Microsecond))
}
