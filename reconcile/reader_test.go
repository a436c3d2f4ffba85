package reconcile

import (
	"bytes"
	"io"
)

type ioReadCloser = io.ReadCloser

func newReader(b []byte) io.ReadCloser { return io.NopCloser(bytes.NewReader(b)) }
