package output

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// tempMarker separates a temporary's target name from its random number:
// createTemp names a temporary of "x.json" ".x.json.tmp-<digits>".
const tempMarker = ".tmp-"

// IsTemporary reports whether name is one of createTemp's temporaries.
func IsTemporary(name string) bool {
	i := strings.LastIndex(name, tempMarker)
	if !strings.HasPrefix(name, ".") || i < 1 {
		return false
	}
	digits := name[i+len(tempMarker):]
	if digits == "" || len(digits) > 10 {
		return false
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// SweepTemporaries removes from the folder dir below the layout's root the
// temporaries an atomic write left behind when its process was killed
// between creating and renaming them: regular files named like createTemp's
// (".<name>.tmp-<digits>") last modified before before. Callers pass their
// process's start, so that a temporary another writer is still filling is
// never touched. The folder is opened as every write opens it (no symbolic
// link followed; created when missing). It returns how many it removed.
func (l Layout) SweepTemporaries(dir string, before time.Time) (int, error) {
	rel, err := splitBelow(l.Root, dir)
	if err != nil {
		return 0, err
	}
	d, err := openDirBelow(l.Root, rel)
	if err != nil {
		return 0, fmt.Errorf("sweep %s: %w", dir, err)
	}
	defer d.Close()
	removed := 0
	for {
		names, err := d.Readdirnames(1024)
		for _, name := range names {
			if !IsTemporary(name) {
				continue
			}
			var st unix.Stat_t
			if err := unix.Fstatat(int(d.Fd()), name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil ||
				st.Mode&unix.S_IFMT != unix.S_IFREG || !time.Unix(st.Mtim.Unix()).Before(before) {
				continue
			}
			if err := unix.Unlinkat(int(d.Fd()), name, 0); err == nil {
				removed++
			} else if !errors.Is(err, unix.ENOENT) {
				return removed, fmt.Errorf("sweep %s: remove %s: %w", dir, name, err)
			}
		}
		if errors.Is(err, io.EOF) {
			return removed, nil
		}
		if err != nil {
			return removed, fmt.Errorf("sweep %s: %w", dir, err)
		}
	}
}
