package output

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"golang.org/x/sys/unix"
)

// AtomicFile is one file for Layout.WriteFilesAtomic: its path under the
// output root and its content.
type AtomicFile struct {
	Path string
	Data []byte
}

// atomicGroup is how many files WriteFilesAtomic holds open at once: its
// files are made durable in groups of at most this many.
const atomicGroup = 256

// WriteFilesAtomic writes files as Layout.WriteFileAtomic writes one —
// each file atomic on its own, never a part of it seen, no symbolic link
// followed below l.Root — but makes them durable together: every file's
// temporary is written; then all are made durable; then each is renamed
// over its path; then the renames are made durable. A file is durable only
// once that last step has returned. On a local file system whose syncfs(2)
// is known to write back and flush everything (ext4, XFS, btrfs: see
// syncFSFits) each "made durable" is one syncfs of the file system, so a
// group of up to 256 files costs two calls; elsewhere (NFS, FUSE, …) it is
// an fsync of each file and then one of each folder, still one per file
// and folder instead of two per file.
//
// errs[i] is files[i]'s own error (an unsafe path, a permission, a failed
// write), and nothing of that file is left behind. err is a failure of the
// group (an fsync): when it is not nil, none of the files may be taken as
// durable — some may be in place — and the caller writes them all again.
func (l Layout) WriteFilesAtomic(files []AtomicFile, perm os.FileMode) (errs []error, err error) {
	errs = make([]error, len(files))
	for start := 0; start < len(files); start += atomicGroup {
		end := min(start+atomicGroup, len(files))
		if err := l.writeGroup(files[start:end], errs[start:end], perm); err != nil {
			return errs, err
		}
	}
	return errs, nil
}

// pendingFile is a temporary file written for writeGroup, not yet renamed.
type pendingFile struct {
	i       int      // index in the group
	dir     *os.File // its folder
	tmp     *os.File
	tmpBase string
}

// writeGroup does WriteFilesAtomic for at most atomicGroup files.
func (l Layout) writeGroup(files []AtomicFile, errs []error, perm os.FileMode) error {
	dirs := map[string]*os.File{} // open folders by path below l.Root
	defer func() {
		for _, d := range dirs {
			d.Close()
		}
	}()
	var pending []pendingFile
	defer func() { // what is still pending failed: no temporary stays
		for _, p := range pending {
			if p.tmp != nil {
				_ = p.tmp.Close()
			}
			_ = unix.Unlinkat(int(p.dir.Fd()), p.tmpBase, 0)
		}
	}()
	for i, f := range files {
		p, err := l.writeTemp(dirs, f, perm)
		if err != nil {
			errs[i] = err
			continue
		}
		p.i = i
		pending = append(pending, p)
	}
	dirList := make([]*os.File, len(pending))
	for i, p := range pending {
		dirList[i] = p.dir
	}
	wholeFS := oneSyncFS(dirList)
	if wholeFS {
		if err := syncFS(pending[0].dir); err != nil {
			return err
		}
	} else {
		for _, p := range pending {
			if err := fsync(p.tmp); err != nil {
				return fmt.Errorf("fsync %s: %w", p.tmp.Name(), err)
			}
		}
	}
	for i := range pending {
		tmp := pending[i].tmp
		pending[i].tmp = nil
		if err := tmp.Close(); err != nil {
			return opErr("write", files[pending[i].i].Path, err)
		}
	}
	return renameGroup(files, errs, &pending, wholeFS)
}

// renameGroup renames each pending temporary over its file, then fsyncs
// each folder that received one, once (or, wholeFS, syncs the file system
// once). pending is emptied as it goes.
func renameGroup(files []AtomicFile, errs []error, pending *[]pendingFile, wholeFS bool) error {
	touched := map[*os.File]bool{}
	for len(*pending) > 0 {
		p := (*pending)[0]
		dirfd, base := int(p.dir.Fd()), filepath.Base(files[p.i].Path)
		err := ignoringEINTR(func() error { return unix.Renameat(dirfd, p.tmpBase, dirfd, base) })
		if err != nil {
			errs[p.i] = fmt.Errorf("rename %s to %s: %w", filepath.Join(p.dir.Name(), p.tmpBase), files[p.i].Path, err)
			_ = unix.Unlinkat(dirfd, p.tmpBase, 0)
		} else {
			touched[p.dir] = true
		}
		*pending = (*pending)[1:]
	}
	for d := range touched {
		if wholeFS {
			return syncFS(d) // every folder is on the one file system
		}
		if err := syncDir(d); err != nil {
			return err
		}
	}
	return nil
}

// writeTemp writes f's content to a new temporary file in f's folder
// (opened once per group, in dirs) and returns it, open and not fsynced.
func (l Layout) writeTemp(dirs map[string]*os.File, f AtomicFile, perm os.FileMode) (pendingFile, error) {
	rel, err := splitBelow(l.Root, f.Path)
	if err != nil {
		return pendingFile{}, fmt.Errorf("write %s: %w", f.Path, err)
	}
	dirRel := filepath.Dir(rel)
	dir := dirs[dirRel]
	if dir == nil {
		if dir, err = openDirBelow(l.Root, dirRel); err != nil {
			return pendingFile{}, fmt.Errorf("write %s: %w", f.Path, err)
		}
		dirs[dirRel] = dir
	}
	tmp, tmpBase, err := createTemp(dir, "."+filepath.Base(rel)+tempMarker, perm)
	if err != nil {
		return pendingFile{}, fmt.Errorf("write %s: %w", f.Path, err)
	}
	if _, err := tmp.Write(f.Data); err != nil {
		_ = tmp.Close()
		_ = unix.Unlinkat(int(dir.Fd()), tmpBase, 0)
		return pendingFile{}, opErr("write", f.Path, err)
	}
	return pendingFile{dir: dir, tmp: tmp, tmpBase: tmpBase}, nil
}

// syncFSFits reports whether d is on a local file system whose syncfs(2)
// writes back every dirty inode and block and flushes the device, so one
// syncfs stands for the fsyncs of the files and folders written there:
// ext4, XFS and btrfs, on Linux 5.8 or later. A network or FUSE file
// system gets its fsyncs, and so does an older kernel, whose syncfs does
// not report write-back errors: a lost write would go unnoticed.
func syncFSFits(d *os.File) bool {
	if forceFsync || !syncFSReportsErrors() {
		return false
	}
	var st unix.Statfs_t
	if err := unix.Fstatfs(int(d.Fd()), &st); err != nil {
		return false
	}
	switch uint32(st.Type) {
	case unix.EXT4_SUPER_MAGIC, unix.XFS_SUPER_MAGIC, unix.BTRFS_SUPER_MAGIC:
		return true
	}
	return false
}

// syncFSReportsErrors reports whether the running kernel's syncfs returns
// write-back errors (Linux 5.8 and later), read once.
var syncFSReportsErrors = sync.OnceValue(func() bool {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return false
	}
	return kernelAtLeast(unix.ByteSliceToString(u.Release[:]), 5, 8)
})

// kernelAtLeast reports whether a Linux release string ("6.1.0-13-amd64")
// is major.minor or later; one it cannot read is not.
func kernelAtLeast(release string, major, minor int) bool {
	var ma, mi int
	if n, _ := fmt.Sscanf(release, "%d.%d", &ma, &mi); n != 2 {
		return false
	}
	return ma > major || ma == major && mi >= minor
}

// oneSyncFS reports whether one syncfs of the first of dirs makes
// everything written in all of them durable: syncfs fits there
// (syncFSFits) and every one is on that same file system. A folder on
// another mount below the output root (a disk of its own, NFS, tmpfs)
// would not be written back by it; then the files and folders get their
// fsyncs.
func oneSyncFS(dirs []*os.File) bool {
	if len(dirs) == 0 || !syncFSFits(dirs[0]) {
		return false
	}
	var first unix.Stat_t
	if err := unix.Fstat(int(dirs[0].Fd()), &first); err != nil {
		return false
	}
	for _, d := range dirs[1:] {
		var st unix.Stat_t
		if err := unix.Fstat(int(d.Fd()), &st); err != nil || st.Dev != first.Dev {
			return false
		}
	}
	return true
}

// forceFsync makes WriteFilesAtomic fsync file by file everywhere (a test
// of that path on a file system where it would use syncfs).
var forceFsync bool

// syncFS commits the whole file system that holds d to disk (syncfs(2)),
// counted in Syncs. Since Linux 5.8 it reports a write-back error of any
// file on that file system since the descriptor was opened.
func syncFS(d *os.File) error {
	syncs.Add(1)
	if err := ignoringEINTR(func() error { return unix.Syncfs(int(d.Fd())) }); err != nil {
		return fmt.Errorf("syncfs %s: %w", d.Name(), err)
	}
	return nil
}
