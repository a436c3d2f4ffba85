package receiver

import (
	"errors"
	"io"
	"sync/atomic"
)

// DefaultMaxUnverifiedBytes bounds, unless HandlerConfig.MaxUnverifiedBytes
// says otherwise, the bytes that bodies not yet verified may hold in total.
const DefaultMaxUnverifiedBytes = 32 << 20

// chunkSize is how much of a body is taken from the budget at a time, and
// so the most a body that has sent almost nothing holds: DefaultMaxConns
// connections holding one chunk each fit in half of the default budget,
// so slow senders alone can never spend it.
const chunkSize = 16 << 10

// byteBudget is a count of bytes that may be taken without waiting: a
// weighted semaphore with TryAcquire only, so that a request never queues
// behind others for memory.
type byteBudget struct {
	max  int64
	used atomic.Int64
}

// take takes n bytes if they are free and reports whether it did.
func (b *byteBudget) take(n int64) bool {
	for {
		used := b.used.Load()
		if used+n > b.max {
			return false
		}
		if b.used.CompareAndSwap(used, used+n) {
			return true
		}
	}
}

// give returns n bytes taken before.
func (b *byteBudget) give(n int64) { b.used.Add(-n) }

// Errors of readBody; any other error is the connection's (a deadline, a
// client gone, a malformed chunked encoding).
var (
	errBodyTooLarge  = errors.New("body over the limit")
	errBudgetSpent   = errors.New("the unverified-body budget is spent")
	errBodyTruncated = errors.New("body shorter than its Content-Length")
)

// unverifiedBody is a request body read in chunks, each taken from a
// byteBudget before it is allocated. Until release, it holds that budget.
type unverifiedBody struct {
	budget *byteBudget
	parts  [][]byte
	n      int64 // bytes read
	held   int64 // bytes taken from budget
}

// read reads r whole: declared bytes when declared >= 0 (the
// Content-Length, checked against limit before), else until EOF and at
// most limit. It stops with errBudgetSpent as soon as a chunk cannot be
// taken, never waiting.
func (b *unverifiedBody) read(r io.Reader, declared, limit int64) error {
	for {
		size := int64(chunkSize)
		if declared >= 0 {
			if size = min(size, declared-b.n); size == 0 {
				return nil
			}
		} else if size = min(size, limit+1-b.n); size <= 0 {
			return errBodyTooLarge
		}
		if !b.budget.take(size) {
			return errBudgetSpent
		}
		b.held += size
		buf := make([]byte, size)
		k, err := io.ReadFull(r, buf)
		b.n += int64(k)
		if k > 0 {
			b.parts = append(b.parts, buf[:k])
		}
		switch {
		case err == nil:
		case !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF):
			return err
		case declared >= 0:
			return errBodyTruncated
		default:
			return nil // a chunked body's end, within limit
		}
	}
}

// bytes returns the body as one slice: the only part, or the parts joined.
func (b *unverifiedBody) bytes() []byte {
	switch len(b.parts) {
	case 0:
		return []byte{}
	case 1:
		return b.parts[0]
	}
	out := make([]byte, 0, b.n)
	for _, p := range b.parts {
		out = append(out, p...)
	}
	return out
}

// release gives back the budget and drops the parts. Safe twice.
func (b *unverifiedBody) release() {
	b.budget.give(b.held)
	b.held, b.parts = 0, nil
}
