// Package safedir owns the folders the daemon reads, moves and deletes in on
// behalf of less-trusted users — the source folders and move_to — and every
// path resolved beneath them.
//
// A folder is pinned once, by the device and inode of a descriptor opened
// with O_DIRECTORY|O_NOFOLLOW at start. Every operation first re-verifies
// that the folder's path still leads to the pinned folder (no symbolic link
// anywhere on it): a folder swapped for a symlink, removed, or replaced by
// another folder is refused with ErrReplaced, logged at ERROR once per
// change, until the pinned folder is back (or Set.Repin accepts a real
// folder at the same path). A failure to look that says nothing about the
// folder (EMFILE, ENOMEM, ESTALE...) is returned with its errno instead,
// for the caller to treat as temporary. Paths beneath a pinned folder are
// resolved from its descriptor with openat2(RESOLVE_BENEATH|
// RESOLVE_NO_SYMLINKS|RESOLVE_NO_MAGICLINKS) — or, where the kernel lacks
// openat2, one openat with O_NOFOLLOW per component — so no symbolic link
// is ever followed, and folders created beneath one (under move_to) are
// made component by component the same way. Linux only.
package safedir

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// ErrReplaced: the pinned folder's path no longer leads to it (it was
// removed, renamed, swapped for a symbolic link or for another folder).
var ErrReplaced = errors.New("folder was replaced since it was pinned; nothing is read, moved or deleted through it")

// errReleased: the pin was closed (the folder is no longer configured, see
// Set.Retain). It is an ErrReplaced, so that its holder tries again
// through the new configuration.
var errReleased = fmt.Errorf("pin released: the folder is no longer configured (%w)", ErrReplaced)

// ErrSymlink: a path beneath a pinned folder is, or passes through, a
// symbolic link. Links are never followed.
var ErrSymlink = errors.New("is or passes through a symbolic link, which is not followed")

// ident is what a path led to: a folder's device and inode, or why not.
type ident struct {
	dev, ino uint64
	problem  string // "" when a folder was found
}

// Dir is a pinned folder. Its methods are safe for concurrent use.
type Dir struct {
	path string // as configured; paths handed to methods are beneath it
	real string // path with the symbolic links it had at pin time resolved
	log  *slog.Logger

	mu      sync.RWMutex // guards fd and pin against Repin and Close
	fd      int
	pin     ident
	badMu   sync.Mutex
	bad     bool  // the last check failed
	badSeen ident // what the path led to then, so a change is logged once
}

// Open pins the folder at path. Symbolic links on path itself (the
// operator's, at start) are resolved once, here; from then on the resolved
// path must lead to the same folder with no link on the way.
func Open(path string, log *slog.Logger) (*Dir, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return nil, fmt.Errorf("pin folder %s: %w", path, err)
	}
	d := &Dir{path: filepath.Clean(path), real: real, log: log}
	fd, id, err := openPinned(real)
	if err != nil {
		return nil, fmt.Errorf("pin folder %s: %w", path, err)
	}
	d.fd, d.pin = fd, id
	return d, nil
}

// OpenExact pins the folder at path, which must be reached with no
// symbolic link anywhere on it (RESOLVE_NO_SYMLINKS; nothing is resolved
// first, unlike Open). It is for a folder the operator did not name — the
// directory of a file whose source is no longer configured — where a link
// on the way may be an inbox user's, not the operator's.
func OpenExact(path string, log *slog.Logger) (*Dir, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	clean := filepath.Clean(path)
	fd, id, err := openPinned(clean)
	if err != nil {
		return nil, fmt.Errorf("pin folder %s: %w", path, pathError("open", clean, err))
	}
	return &Dir{path: clean, real: clean, log: log, fd: fd, pin: id}, nil
}

// Path returns the folder's path as configured.
func (d *Dir) Path() string { return d.path }

// Close releases the folder's descriptor.
func (d *Dir) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.fd < 0 {
		return nil
	}
	err := unix.Close(d.fd)
	d.fd = -1
	return err
}

// openPinned opens the folder at real, refusing a symbolic link anywhere
// on the path, and returns its descriptor and identity.
func openPinned(real string) (int, ident, error) {
	fd, err := openat2(unix.AT_FDCWD, real, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, unix.RESOLVE_NO_SYMLINKS|unix.RESOLVE_NO_MAGICLINKS)
	if err != nil {
		return -1, ident{}, err
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return -1, ident{}, err
	}
	return fd, ident{dev: st.Dev, ino: st.Ino}, nil
}

// Check verifies that the folder's path still leads to the pinned folder.
// A mismatch — the path missing, a symbolic link or not a folder, not
// accessible, or another folder — is logged at ERROR once per change (and
// its end at INFO) and returned as ErrReplaced. Any other failure to look
// (no descriptor left, no memory, a stale network handle) says nothing
// about the folder: it is returned with its errno, for the caller's
// handling of temporary errors, and not logged here.
func (d *Dir) Check() error {
	cur, err := d.identify()
	if err != nil {
		return fmt.Errorf("check folder %s: %w", d.path, err)
	}
	d.mu.RLock()
	ok := cur == d.pin
	d.mu.RUnlock()
	d.badMu.Lock()
	defer d.badMu.Unlock()
	if ok {
		if d.bad {
			d.bad, d.badSeen = false, ident{}
			d.log.Info("pinned folder is back; it is read and acted on again", "path", d.path)
		}
		return nil
	}
	if !d.bad || d.badSeen != cur {
		d.log.Error("folder was replaced since start ("+cur.describe()+"); nothing is read, moved or deleted through it "+
			"until the original folder is back, or a reload or restart accepts a new one", "path", d.path)
	}
	d.bad, d.badSeen = true, cur
	return fmt.Errorf("%s: %w", d.path, ErrReplaced)
}

// identify returns what the folder's resolved path leads to now, or the
// error that kept it from looking (see Check).
func (d *Dir) identify() (ident, error) {
	fd, id, err := openPinned(d.real)
	switch {
	case err == nil:
		unix.Close(fd)
		return id, nil
	case errors.Is(err, unix.ELOOP), errors.Is(err, unix.ENOTDIR):
		return ident{problem: "a symbolic link or not a folder"}, nil
	case errors.Is(err, unix.ENOENT):
		return ident{problem: "missing"}, nil
	case errors.Is(err, unix.EACCES), errors.Is(err, unix.EPERM):
		return ident{problem: "not accessible"}, nil
	default:
		return ident{}, err
	}
}

func (id ident) describe() string {
	if id.problem != "" {
		return "now " + id.problem
	}
	return "now another folder"
}

// Repin accepts the folder now at the pinned path, if it is a real folder
// (no symbolic link on the way), as the new pin. It reports whether the pin
// changed.
func (d *Dir) Repin() (bool, error) {
	fd, id, err := openPinned(d.real)
	if err != nil {
		return false, fmt.Errorf("pin folder %s: %w", d.path, err)
	}
	d.mu.Lock()
	if id == d.pin {
		d.mu.Unlock()
		unix.Close(fd)
		return false, nil
	}
	old := d.fd
	d.fd, d.pin = fd, id
	d.mu.Unlock()
	if old >= 0 {
		unix.Close(old)
	}
	d.log.Warn("folder pinned anew: a new folder at the path is accepted", "path", d.path)
	return true, d.Check()
}

// Rel returns p relative to the folder, or an error if p is not beneath it.
func (d *Dir) Rel(p string) (string, error) {
	rel, err := filepath.Rel(d.path, filepath.Clean(p))
	if err != nil || !filepath.IsLocal(rel) && rel != "." {
		return "", fmt.Errorf("%s is not inside %s", p, d.path)
	}
	return rel, nil
}

// OpenFile opens p (beneath the folder) with flags, following no symbolic
// link. A symbolic link as p's last component is opened as itself only
// with O_PATH (for Lstat).
func (d *Dir) OpenFile(p string, flags int) (*os.File, error) {
	rel, err := d.Rel(p)
	if err != nil {
		return nil, err
	}
	if err := d.Check(); err != nil {
		return nil, err
	}
	d.mu.RLock()
	defer d.mu.RUnlock()
	if d.fd < 0 {
		return nil, fmt.Errorf("%s: %w", d.path, errReleased)
	}
	fd, err := openBeneath(d.fd, rel, flags|unix.O_NOFOLLOW|unix.O_CLOEXEC)
	if err != nil {
		return nil, pathError("open", p, err)
	}
	return os.NewFile(uintptr(fd), p), nil
}

// Lstat returns what is at p (beneath the folder), a symbolic link as
// itself, following no link on the way.
func (d *Dir) Lstat(p string) (os.FileInfo, error) {
	f, err := d.OpenFile(p, unix.O_PATH)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.Stat()
}

// OpenDir opens the folder p (beneath the folder, or the folder itself)
// for listing, following no symbolic link.
func (d *Dir) OpenDir(p string) (*os.File, error) {
	return d.OpenFile(p, unix.O_RDONLY|unix.O_DIRECTORY)
}

// Remove removes p (beneath the folder): a symbolic link itself, never its
// target.
func (d *Dir) Remove(p string) error {
	parent, err := d.OpenDir(filepath.Dir(p))
	if err != nil {
		return err
	}
	defer parent.Close()
	if err := unix.Unlinkat(int(parent.Fd()), filepath.Base(p), 0); err != nil {
		return pathError("remove", p, err)
	}
	return nil
}

// MkdirAll opens the folder p beneath the folder, creating each missing
// component with mode perm, one at a time: a component that is a symbolic
// link (or not a folder) is an error, never followed.
func (d *Dir) MkdirAll(p string, perm os.FileMode) (*os.File, error) {
	rel, err := d.Rel(p)
	if err != nil {
		return nil, err
	}
	cur, err := d.OpenDir(d.path)
	if err != nil {
		return nil, err
	}
	if rel == "." {
		return cur, nil
	}
	for _, name := range strings.Split(rel, string(filepath.Separator)) {
		err := unix.Mkdirat(int(cur.Fd()), name, uint32(perm.Perm()))
		if err != nil && !errors.Is(err, unix.EEXIST) {
			cur.Close()
			return nil, pathError("mkdir", p, err)
		}
		fd, err := openBeneath(int(cur.Fd()), name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC)
		err = linkErr(int(cur.Fd()), name, err)
		cur.Close()
		if err != nil {
			return nil, pathError("open", p, err)
		}
		cur = os.NewFile(uintptr(fd), p)
	}
	return cur, nil
}

// pathError wraps err for path p, adding ErrSymlink when a link was met.
func pathError(op, p string, err error) error {
	if errors.Is(err, unix.ELOOP) || errors.Is(err, unix.EXDEV) {
		// EXDEV: RESOLVE_BENEATH refused a path leading out (only a link can).
		return &os.PathError{Op: op, Path: p, Err: fmt.Errorf("%w (%w)", ErrSymlink, err)}
	}
	return &os.PathError{Op: op, Path: p, Err: err}
}

// linkErr turns the ENOTDIR that opening a symbolic link with
// O_DIRECTORY|O_NOFOLLOW gives into ELOOP, so that a link met on the way
// is reported as one.
func linkErr(dirfd int, name string, err error) error {
	if !errors.Is(err, unix.ENOTDIR) {
		return err
	}
	var st unix.Stat_t
	if unix.Fstatat(dirfd, name, &st, unix.AT_SYMLINK_NOFOLLOW) == nil && st.Mode&unix.S_IFMT == unix.S_IFLNK {
		return unix.ELOOP
	}
	return err
}

// noOpenat2 is set once the kernel said it has no openat2.
var noOpenat2 atomic.Bool

const beneath = unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS

// openBeneath opens rel beneath the folder dirfd with flags (which include
// O_NOFOLLOW), following no symbolic link on the way.
func openBeneath(dirfd int, rel string, flags int) (int, error) {
	return openat2(dirfd, rel, flags, beneath)
}

// eagainTries bounds the attempts of openat2 that fail with EAGAIN.
const eagainTries = 3

// openat2 calls openat2(2), retrying EINTR, and falls back to one openat
// per component where the kernel (or a seccomp filter) refuses the call.
//
// EAGAIN is retried only eagainTries times, then returned: openat2's own
// EAGAIN (a rename raced a lookup with RESOLVE_BENEATH through "..") cannot
// occur for the clean, ".."-free paths used here, and the other source of
// it — EWOULDBLOCK from a non-blocking open of a file under a write lease,
// which its owner can hold for lease-break-time — would otherwise spin a
// core for that long with the folder's lock held. The caller holds a file
// that gives EAGAIN and tries again later.
func openat2(dirfd int, path string, flags int, resolve uint64) (int, error) {
	if !noOpenat2.Load() {
		how := unix.OpenHow{Flags: uint64(flags), Resolve: resolve}
		for again := 1; ; again++ {
			fd, err := unix.Openat2(dirfd, path, &how)
			switch {
			case err == nil:
				return fd, nil
			case errors.Is(err, unix.EINTR):
				continue
			case errors.Is(err, unix.EAGAIN) && again < eagainTries:
				continue
			case errors.Is(err, unix.EAGAIN):
				return -1, err
			case errors.Is(err, unix.ENOSYS):
				noOpenat2.Store(true)
			case errors.Is(err, unix.EPERM):
				// A seccomp filter that does not know openat2.
			default:
				return -1, err
			}
			break
		}
	}
	return openEach(dirfd, path, flags)
}

// openEach opens path from dirfd one component at a time, each with
// O_NOFOLLOW: the fallback for kernels without openat2. path is relative
// and clean beneath dirfd (or absolute, from AT_FDCWD), so ".." never
// occurs in it.
func openEach(dirfd int, path string, flags int) (int, error) {
	names := strings.Split(strings.TrimPrefix(path, "/"), "/")
	cur, owned := dirfd, false
	if strings.HasPrefix(path, "/") {
		fd, err := unix.Open("/", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			return -1, err
		}
		cur, owned = fd, true
	}
	for i, name := range names {
		if name == ".." {
			return -1, unix.EXDEV
		}
		f := unix.O_RDONLY | unix.O_DIRECTORY | unix.O_NOFOLLOW | unix.O_CLOEXEC
		if i == len(names)-1 {
			f = flags | unix.O_NOFOLLOW
		}
		fd, err := ignoringEINTR(func() (int, error) { return unix.Openat(cur, name, f, 0) })
		err = linkErr(cur, name, err)
		if owned {
			unix.Close(cur)
		}
		if err != nil {
			return -1, err
		}
		cur, owned = fd, true
	}
	return cur, nil
}

func ignoringEINTR(fn func() (int, error)) (int, error) {
	for {
		fd, err := fn()
		if !errors.Is(err, syscall.EINTR) {
			return fd, err
		}
	}
}

// ID returns a file's device, inode and change time from its FileInfo
// (zero values when the platform has none).
func ID(fi os.FileInfo) (dev, ino uint64, ctime time.Time) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, 0, time.Time{}
	}
	return st.Dev, st.Ino, time.Unix(st.Ctim.Sec, st.Ctim.Nsec)
}
