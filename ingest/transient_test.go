package ingest

import (
	"fmt"
	"io/fs"
	"os"
	"syscall"
	"testing"
)

func TestTemporaryTellsHostConditionsFromPropertiesOfTheFile(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want bool
	}{
		{&fs.PathError{Op: "open", Path: "/in/a.pdf", Err: syscall.EMFILE}, true},
		{&fs.PathError{Op: "open", Path: "/in/a.pdf", Err: syscall.ENFILE}, true},
		{fmt.Errorf("read /in/a.pdf: %w", &fs.PathError{Op: "read", Path: "/in/a.pdf", Err: syscall.EIO}), true},
		{syscall.ENOMEM, true},
		{syscall.EWOULDBLOCK, true},
		{syscall.EINTR, true},
		{syscall.ENOBUFS, true},
		{&fs.PathError{Op: "open", Path: "/in/a.pdf", Err: syscall.ENOENT}, false},
		{&fs.PathError{Op: "open", Path: "/in/a.pdf", Err: syscall.EACCES}, false},
		{&fs.PathError{Op: "open", Path: "/in/a.pdf", Err: syscall.EISDIR}, false},
		{&fs.PathError{Op: "openat", Path: "a.pdf", Err: syscall.ELOOP}, false},
		{os.ErrPermission, false},
		{errChanged, false},
		{nil, false},
	} {
		if got := temporary(tt.err); got != tt.want {
			t.Errorf("temporary(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}
