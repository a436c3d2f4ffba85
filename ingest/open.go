package ingest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// Roots maps source names to their folders. Files are opened through an
// os.Root on their source's folder, so a symlink dropped in the inbox (or a
// folder swapped for one) cannot make the daemon read, hash or upload a
// file from outside it — the service's credentials, say.
type Roots struct {
	mu sync.RWMutex
	m  map[string]string
}

// NewRoots returns Roots for the given source name → folder map.
func NewRoots(m map[string]string) *Roots {
	r := &Roots{}
	r.Set(m)
	return r
}

// Set replaces the map (a reload).
func (r *Roots) Set(m map[string]string) {
	r.mu.Lock()
	r.m = m
	r.mu.Unlock()
}

// rootOf returns the folder a file must stay within: its source's, or, for
// a source no longer configured, the file's own directory.
func (r *Roots) rootOf(source, path string) string {
	if r != nil {
		r.mu.RLock()
		root, ok := r.m[source]
		r.mu.RUnlock()
		if ok {
			if rel, err := filepath.Rel(root, path); err == nil && filepath.IsLocal(rel) {
				return root
			}
		}
	}
	return filepath.Dir(path)
}

// openUnchanged opens the file at path within its source's folder and
// checks that it is still a regular file with the given size and
// modification time (at the store's microsecond precision). A mismatch
// returns errChanged: intake uses it so that the hash it records is the
// hash of the file that settled.
func (r *Roots) openUnchanged(source, path string, size int64, mtime time.Time) (*os.File, error) {
	f, fi, err := r.openRegular(source, path)
	if err != nil {
		return nil, err
	}
	if fi.Size() != size || !sameTime(fi.ModTime(), mtime) {
		f.Close()
		return nil, errChanged
	}
	return f, nil
}

// openVerified opens the file of a queued document for upload. It checks the
// recorded size at once and the recorded SHA-256 as the bytes stream: the
// reader returns errChanged instead of io.EOF when what was read is not
// what was hashed, so a multipart body carrying other content is never
// completed and the API never accepts it under the document's hash.
//
// The modification time is deliberately not compared: a file touched or
// saved again with the same bytes while it waits for its upload is the same
// document (intake has refreshed its recorded stat), not a changed one.
func (r *Roots) openVerified(source, path string, size int64, sha256Hex string) (io.ReadCloser, error) {
	f, fi, err := r.openRegular(source, path)
	if err != nil {
		return nil, err
	}
	if fi.Size() != size {
		f.Close()
		return nil, errChanged
	}
	want, err := hex.DecodeString(sha256Hex)
	if err != nil || len(want) != sha256.Size {
		f.Close()
		return nil, fmt.Errorf("open %s: recorded sha256 %q is not a SHA-256", path, sha256Hex)
	}
	return &verifyingReader{f: f, h: sha256.New(), want: want}, nil
}

// stat returns the signature of the regular file at path within its
// source's folder; false if it is gone, unreadable or not a regular file.
func (r *Roots) stat(source, path string) (settleSig, bool) {
	f, fi, err := r.openRegular(source, path)
	if err != nil {
		return settleSig{}, false
	}
	f.Close()
	return settleSig{size: fi.Size(), mtime: fi.ModTime()}, true
}

// openRegular opens the file at path within its source's folder and checks
// that it is a regular file. It never blocks on a FIFO put in the file's
// place (O_NONBLOCK; the type is checked on the open descriptor).
func (r *Roots) openRegular(source, path string) (*os.File, os.FileInfo, error) {
	rootDir := r.rootOf(source, path)
	rel, err := filepath.Rel(rootDir, path)
	if err != nil {
		return nil, nil, fmt.Errorf("open %s: %w", path, err)
	}
	root, err := os.OpenRoot(rootDir)
	if err != nil {
		return nil, nil, err
	}
	defer root.Close()
	f, err := root.OpenFile(rel, os.O_RDONLY|syscall.O_NONBLOCK, 0)
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
	f    *os.File
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
