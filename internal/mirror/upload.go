package mirror

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path"
	"time"

	"gocloud.dev/blob"
	"gocloud.dev/gcerrors"

	"github.com/docuparse/docuparse-ingest/internal/bucket"
	"github.com/docuparse/docuparse-ingest/internal/store"
)

// pendingChunk is how many intended objects one store read takes.
const pendingChunk = 100

// errLocalChanged: the local file is not the intended bytes any more.
var errLocalChanged = errors.New("the file changed since it was found")

// uploadPending uploads every intended object, oldest intention first. The
// first failure of the bucket (or the store) ends the pass and is
// returned: the rest waits, recorded, for the next pass.
func (m *Mirror) uploadPending(ctx context.Context) error {
	done := 0
	defer func() {
		if done > 0 {
			m.cfg.Logger.Info("outputs mirrored", "objects", done, "bucket", m.bucket.String())
		}
	}()
	for ctx.Err() == nil {
		batch, err := m.cfg.Store.MirrorPending(ctx, pendingChunk)
		if err != nil || len(batch) == 0 {
			return err
		}
		for _, o := range batch {
			ok, err := m.mirrorOne(ctx, o)
			if err != nil {
				return err
			}
			if ok {
				done++
				if m.cfg.OnUploaded != nil {
					m.cfg.OnUploaded(o.Kind)
				}
			}
		}
	}
	return ctx.Err()
}

// mirrorOne makes the bucket hold o's intended bytes at its key, once, and
// records it; it reports whether o was recorded as mirrored. The key is
// looked at first: an object already there (uploaded before a crash kept
// it from being recorded) is compared instead of written again. A missing
// key is written conditionally, so a writer that slipped in between is
// not overwritten either. A local file changed or gone since its
// intention loses the intention (see dropLocal). The error is the
// bucket's or the store's.
func (m *Mirror) mirrorOne(ctx context.Context, o store.MirrorObject) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, m.timeoutFor(o.Size))
	defer cancel()
	key := m.bucket.Prefix + o.Key
	_, err := m.bucket.Stat(ctx, key)
	switch {
	case err == nil:
		return m.settleExisting(ctx, o)
	case !bucket.IsNotFound(err):
		return false, err
	}
	err = m.write(ctx, o, key)
	switch {
	case err == nil:
	case gcerrors.Code(err) == gcerrors.FailedPrecondition:
		return m.settleExisting(ctx, o) // written meanwhile
	case errors.Is(err, errLocalChanged):
		return false, m.dropLocal(ctx, o, err)
	default:
		return false, fmt.Errorf("write %s: %s", m.bucket.PathOf(key), bucket.Describe(err))
	}
	m.cfg.Logger.Debug("output mirrored", "file", o.LocalPath, "object", m.bucket.PathOf(key))
	return true, m.cfg.Store.MirrorDone(ctx, o.Key)
}

// minRate is the slowest transfer an object's time limit allows for.
const minRate = 64 << 10 // bytes a second

// timeoutFor bounds the requests that mirror one object of size bytes: a
// look, a write and a read back, each within RequestTimeout plus its bytes
// at minRate. The clouds' HTTP clients set no limit of their own, so a
// request a store or a proxy takes and never answers would hold the
// mirror for ever, its backlog growing with no problem shown.
func (m *Mirror) timeoutFor(size int64) time.Duration {
	return 3 * (m.cfg.RequestTimeout + time.Duration(size/minRate)*time.Second)
}

// write streams the local file to key, creating the object only if the
// key holds none (IfNotExist), and only with the intended bytes: a file
// that reads otherwise aborts the write, which then creates nothing.
func (m *Mirror) write(ctx context.Context, o store.MirrorObject, key string) error {
	f, err := m.open(o.LocalPath)
	if err != nil {
		return fmt.Errorf("%w: %w", errLocalChanged, err)
	}
	defer f.Close()
	wctx, abort := context.WithCancel(ctx)
	defer abort()
	w, err := m.bucket.Blob().NewWriter(wctx, key, &blob.WriterOptions{IfNotExist: true, ContentType: contentType(o.Key)})
	if err != nil {
		return err
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(w, h), f)
	if err == nil && (n != o.Size || hex.EncodeToString(h.Sum(nil)) != o.SHA256) {
		err = errLocalChanged
	}
	if err != nil {
		abort() // before Close: the write is abandoned
		_ = w.Close()
		return err
	}
	return w.Close()
}

// settleExisting compares the object at o's key with o's intended bytes
// (size, then SHA-256 of a streamed read): the same bytes are recorded as
// mirrored; other bytes are a conflict, recorded and logged once, and the
// object is left alone.
func (m *Mirror) settleExisting(ctx context.Context, o store.MirrorObject) (bool, error) {
	key := m.bucket.Prefix + o.Key
	same, err := m.holds(ctx, key, o)
	if err != nil {
		return false, err
	}
	if same {
		m.cfg.Logger.Debug("output found mirrored already", "file", o.LocalPath, "object", m.bucket.PathOf(key))
		return true, m.cfg.Store.MirrorDone(ctx, o.Key)
	}
	why := "the bucket already holds another object under this name"
	m.cfg.Logger.Error("output not mirrored: "+why+"; it is left as it is", "file", o.LocalPath, "object", m.bucket.PathOf(key))
	return false, m.cfg.Store.MirrorConflict(ctx, o.Key, why)
}

// holds reports whether the object at key is o's intended bytes.
func (m *Mirror) holds(ctx context.Context, key string, o store.MirrorObject) (bool, error) {
	st, err := m.bucket.Stat(ctx, key)
	if err != nil {
		return false, err
	}
	if st.Size != o.Size {
		return false, nil
	}
	r, err := m.bucket.Blob().NewReader(ctx, key, nil)
	if err != nil {
		return false, fmt.Errorf("read %s: %s", m.bucket.PathOf(key), bucket.Describe(err))
	}
	defer r.Close()
	h := sha256.New()
	if _, err := io.Copy(h, r); err != nil {
		return false, fmt.Errorf("read %s: %s", m.bucket.PathOf(key), bucket.Describe(err))
	}
	return hex.EncodeToString(h.Sum(nil)) == o.SHA256, nil
}

// dropLocal forgets the intention of a file that changed or went away
// before it was uploaded (nothing was): a changed file is found again, with
// its new content, by the next sweep.
func (m *Mirror) dropLocal(ctx context.Context, o store.MirrorObject, why error) error {
	m.cfg.Logger.Warn("output changed or removed before it was mirrored; looked at again", "file", o.LocalPath, "err", why)
	m.mu.Lock()
	delete(m.reports, o.LocalPath)
	delete(m.scanned, path.Dir(o.LocalPath)) // its folder is listed again
	m.mu.Unlock()
	return m.cfg.Store.MirrorDrop(ctx, o.Key)
}

// contentType is the type an object is stored with, from its name.
func contentType(key string) string {
	switch path.Ext(key) {
	case ".json":
		return "application/json"
	case ".csv":
		return "text/csv; charset=utf-8"
	case ".md":
		return "text/markdown; charset=utf-8"
	}
	return "application/octet-stream"
}
