package output

import (
	"fmt"
	"os"
	"path/filepath"

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
// followed below l.Root — but makes them durable together, so a pass of
// many files costs one fsync per file and one per folder instead of two
// per file: every file's temporary is written, then each is fsynced, then
// each is renamed over its path, and then each folder that received one is
// fsynced once. A file is durable only once that last step has returned.
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
	for _, p := range pending {
		if err := fsync(p.tmp); err != nil {
			return fmt.Errorf("fsync %s: %w", p.tmp.Name(), err)
		}
	}
	for i := range pending {
		tmp := pending[i].tmp
		pending[i].tmp = nil
		if err := tmp.Close(); err != nil {
			return fmt.Errorf("close %s: %w", tmp.Name(), err)
		}
	}
	return renameGroup(files, errs, &pending)
}

// renameGroup renames each pending temporary over its file, then fsyncs
// each folder that received one, once. pending is emptied as it goes.
func renameGroup(files []AtomicFile, errs []error, pending *[]pendingFile) error {
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
	tmp, tmpBase, err := createTemp(dir, "."+filepath.Base(rel)+".tmp-", perm)
	if err != nil {
		return pendingFile{}, fmt.Errorf("write %s: %w", f.Path, err)
	}
	if _, err := tmp.Write(f.Data); err != nil {
		_ = tmp.Close()
		_ = unix.Unlinkat(int(dir.Fd()), tmpBase, 0)
		return pendingFile{}, fmt.Errorf("write %s: %w", tmp.Name(), err)
	}
	return pendingFile{dir: dir, tmp: tmp, tmpBase: tmpBase}, nil
}
