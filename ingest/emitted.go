package ingest

import (
	"encoding/binary"
	"hash/maphash"
	"path/filepath"
	"strings"
)

// emittedSet remembers the files a folder source handed on, for as long
// as they stay: a tree of a million files keeps a million entries, so an
// entry holds no path. It is keyed by a 64-bit hash of the path and holds
// a second, independent 64-bit digest of the path with the signature it
// was handed on with, the sweep generation that last saw it, and the index
// of its directory in a table of directories. That is 24 bytes of map slot
// per file, in a map the garbage collector does not scan, instead of a
// path string and its map slot (about 120 bytes, scanned).
//
// Two paths whose hashes collide (a chance of about n²/2⁶⁵ for n files,
// with a seed chosen per process, so not one a file name can aim at) share
// one entry. The digest is not shared: the second file never passes for
// handed on with its signature, it is only taken for known where a
// listing asks, and handed on at the next sighting that looks at it (an
// event, the settle check, the next full listing's observation).
//
// It is not safe for concurrent use.
type emittedSet struct {
	files    map[uint64]emittedFile
	dirs     []emittedDir      // by index; files == 0 marks a free slot
	dirIndex map[string]uint32 // directory path → index in dirs
	free     []uint32          // free slots of dirs
}

type emittedFile struct {
	sum uint64 // emittedSum(path, signature)
	gen uint32 // the sweep generation that last saw the file
	dir uint32 // index in emittedSet.dirs
}

type emittedDir struct {
	path   string
	files  int    // entries naming this directory
	listed uint32 // the sweep generation that last listed it whole
}

// The seeds of this process's path hashes and signature digests.
var pathSeed, sigSeed = maphash.MakeSeed(), maphash.MakeSeed()

func pathKey(p string) uint64 { return maphash.String(pathSeed, p) }

// emittedSum is the 64-bit digest of a path and its signature: another
// file, or the same one changed, has the same digest with a chance of 2⁻⁶⁴.
func emittedSum(p string, s settleSig) uint64 {
	var b [40]byte
	binary.LittleEndian.PutUint64(b[0:], uint64(s.size))
	binary.LittleEndian.PutUint64(b[8:], uint64(s.mtime.UnixNano()))
	binary.LittleEndian.PutUint64(b[16:], s.id.Dev)
	binary.LittleEndian.PutUint64(b[24:], s.id.Inode)
	binary.LittleEndian.PutUint64(b[32:], uint64(s.id.ChangeTime.UnixNano()))
	var h maphash.Hash
	h.SetSeed(sigSeed)
	h.WriteString(p)
	h.Write(b[:])
	return h.Sum64()
}

func newEmittedSet() *emittedSet {
	return &emittedSet{files: make(map[uint64]emittedFile), dirIndex: make(map[string]uint32)}
}

// has reports whether p was handed on.
func (s *emittedSet) has(p string) bool {
	_, ok := s.files[pathKey(p)]
	return ok
}

// hasBytes is has for a path being built, without making it a string.
func (s *emittedSet) hasBytes(p []byte) bool {
	_, ok := s.files[maphash.Bytes(pathSeed, p)]
	return ok
}

// same reports whether p was handed on with signature sig.
func (s *emittedSet) same(p string, sig settleSig) bool {
	f, ok := s.files[pathKey(p)]
	return ok && f.sum == emittedSum(p, sig)
}

// seen marks p as seen by the sweep of generation gen, if it was handed
// on, and returns its emittedSum then (ok false if it was not): one look-up
// for what a listing asks of every file.
func (s *emittedSet) seen(p string, gen uint32) (sum uint64, ok bool) {
	k := pathKey(p)
	f, ok := s.files[k]
	if ok {
		f.gen = gen
		s.files[k] = f
	}
	return f.sum, ok
}

// add records that p was handed on with sig, seen by sweep gen.
func (s *emittedSet) add(p string, sig settleSig, gen uint32) {
	k := pathKey(p)
	dir := s.dirOf(filepath.Dir(p)) // p is clean: no allocation
	if old, ok := s.files[k]; ok {
		s.release(old.dir)
	}
	s.files[k] = emittedFile{sum: emittedSum(p, sig), gen: gen, dir: dir}
}

// remove forgets p.
func (s *emittedSet) remove(p string) {
	k := pathKey(p)
	if f, ok := s.files[k]; ok {
		delete(s.files, k)
		s.release(f.dir)
	}
}

// removeUnder forgets every file inside the directory whose path is
// prefix less its trailing separator (dirPrefix), at any depth.
func (s *emittedSet) removeUnder(prefix string) {
	dir := prefix[:len(prefix)-1]
	under := make(map[uint32]bool)
	for p, i := range s.dirIndex {
		if p == dir || strings.HasPrefix(p, prefix) {
			under[i] = true
		}
	}
	if len(under) == 0 {
		return // nothing handed on there: no need to look at every file
	}
	for k, f := range s.files {
		if under[f.dir] {
			delete(s.files, k)
			s.release(f.dir)
		}
	}
}

// listed records that directory dir was listed whole by sweep gen: a file
// handed on there that the sweep did not see is gone.
func (s *emittedSet) listed(dir string, gen uint32) {
	if i, ok := s.dirIndex[dir]; ok {
		s.dirs[i].listed = gen
	}
}

// endSweep forgets each file the sweep of generation gen did not see,
// unless its directory was not listed whole by the sweep and keepDir says
// it is still there (it could not be listed, for example): then what is
// in it is not known, and stays as it was. keepDir is asked once a
// directory.
func (s *emittedSet) endSweep(gen uint32, keepDir func(dir string) bool) {
	keep := make(map[uint32]bool)
	for k, f := range s.files {
		if f.gen == gen {
			continue
		}
		kept, asked := keep[f.dir]
		if !asked {
			d := &s.dirs[f.dir]
			kept = d.listed != gen && keepDir(d.path)
			keep[f.dir] = kept
		}
		if !kept {
			delete(s.files, k)
			s.release(f.dir)
		}
	}
}

// dirOf returns the index of directory dir, adding it with no file if new.
func (s *emittedSet) dirOf(dir string) uint32 {
	if i, ok := s.dirIndex[dir]; ok {
		s.dirs[i].files++
		return i
	}
	d := emittedDir{path: strings.Clone(dir), files: 1}
	var i uint32
	if n := len(s.free); n > 0 {
		i, s.free = s.free[n-1], s.free[:n-1]
		s.dirs[i] = d
	} else {
		i = uint32(len(s.dirs))
		s.dirs = append(s.dirs, d)
	}
	s.dirIndex[d.path] = i
	return i
}

// release drops one file from directory i, and the directory with its last.
func (s *emittedSet) release(i uint32) {
	d := &s.dirs[i]
	if d.files--; d.files > 0 {
		return
	}
	delete(s.dirIndex, d.path)
	*d = emittedDir{}
	s.free = append(s.free, i)
}
