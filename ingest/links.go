package ingest

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/docuparse/docuparse-ingest/internal/vocab"
)

// errHardlinked: the file has other names besides the one in the source
// folder. With the kernel's fs.protected_hardlinks off, an inbox user can
// link into the inbox any file of the service's they can reach — its
// configuration with the API key, its state — which is a regular file
// there, so no symlink check stops it. Such a file is never read.
type errHardlinked struct {
	path  string
	links uint64
}

func (e errHardlinked) Error() string {
	return fmt.Sprintf("%s has %d hard links: one of its other names may be a file only the service may read "+
		"(its configuration or state), so it is neither read nor uploaded; copy the file into the folder "+
		"instead of linking it (or remove its other names)", filepath.Base(e.path), e.links)
}

// singleLink returns errHardlinked unless fi, the Stat of an open
// descriptor, is a file with one link: checked on the descriptor, so the
// answer is about the very file that is read.
func singleLink(fi os.FileInfo, path string) error {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok || st.Nlink <= 1 {
		return nil
	}
	return errHardlinked{path: path, links: uint64(st.Nlink)}
}

// unreadableCode is the refusal code for err, a file's own reason for not
// being read: vocab.CodeHardlinked for a linked file, else vocab.CodeUnreadable.
func unreadableCode(err error) string {
	if errors.As(err, new(errHardlinked)) {
		return vocab.CodeHardlinked
	}
	return vocab.CodeUnreadable
}

// SysctlDir is where the kernel's link protections are read.
const SysctlDir = "/proc/sys/fs"

// LinkProtection is one of the kernel's link protections as read under a
// sysctl folder: fs.protected_hardlinks or fs.protected_symlinks.
type LinkProtection struct {
	Name  string // "fs.protected_hardlinks"
	Value string // as read, trimmed; "" when it could not be read
	Err   error  // why it could not be read
}

// On reports whether the protection is known to be on (1).
func (p LinkProtection) On() bool { return p.Value == "1" }

// Warning says what an inbox user can do while the protection is not on,
// and how to turn it on.
func (p LinkProtection) Warning() string {
	risk := "any inbox user may hard-link a file of the service's they cannot write (its configuration, its " +
		"state) into the inbox; such files are refused (" + vocab.CodeHardlinked + "), but turn the protection on"
	if p.Name == "fs.protected_symlinks" {
		risk = "a symbolic link an inbox user plants in a folder writable by others is followed by whoever " +
			"opens it; the service follows none, but other programs on the host do"
	}
	state := "is " + p.Value
	if p.Err != nil {
		state = "cannot be read (" + p.Err.Error() + "); check it is 1"
	}
	return fmt.Sprintf("%s %s: %s: sysctl -w %s=1, and persist it in /etc/sysctl.d/", p.Name, state, risk, p.Name)
}

// LinkProtections reads fs.protected_hardlinks and fs.protected_symlinks
// under dir (SysctlDir on a host; a test's own folder in tests).
func LinkProtections(dir string) []LinkProtection {
	var out []LinkProtection
	for _, name := range []string{"protected_hardlinks", "protected_symlinks"} {
		p := LinkProtection{Name: "fs." + name}
		raw, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			p.Err = err
		} else {
			p.Value = strings.TrimSpace(string(raw))
		}
		out = append(out, p)
	}
	return out
}
