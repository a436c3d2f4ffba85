package receiver

import (
	"errors"
	"io"
	"sync/atomic"
	"time"
)

// DefaultMaxUnverifiedBytes bounds, unless HandlerConfig.MaxUnverifiedBytes
// says otherwise, the bytes that bodies not yet verified may hold in total.
const DefaultMaxUnverifiedBytes = 32 << 20

// A body is taken from the budget in parts, each before it is allocated
// and read: the first is firstPart, each next one as large as what has
// been read so far, up to chunkSize. A body that has sent n bytes holds
// at most n plus one part: at most 2n + 1 KiB, and never more than
// n + 16 KiB. A body that has sent almost nothing holds 1 KiB, so
// DefaultMaxConns such connections hold 1 MiB of the default budget.
const (
	firstPart = 1 << 10
	chunkSize = 16 << 10
)

// DefaultMinBodyRate is, unless HandlerConfig.MinBodyRate says otherwise,
// the average rate in bytes per second that an unverified body must keep
// up past its first part (see pace).
const DefaultMinBodyRate = 2 << 20

// bodyGrace is the time a body past its first part has on top of what
// the minimum rate allows: round trips, 100-continue, TCP slow start.
const bodyGrace = time.Second

// pace says when each part of an unverified body must have arrived, from
// the end of its headers (start). Within its first part a body has the
// whole body deadline; past it, the part that brings what it holds to h
// bytes must have arrived by bodyGrace + h/rate, and never later than the
// body deadline. A body can so hold h bytes for bodyGrace + h/rate at
// most: bytes held for long must have been sent fast, and an attacker
// keeping the budget spent must send it again that often.
type pace struct {
	start   time.Time
	timeout time.Duration // the body deadline
	rate    int64         // bytes per second past the first part
}

// deadline is when a body must have read the part that makes it hold
// held bytes.
func (p pace) deadline(held int64) time.Time {
	d := p.timeout
	if held > firstPart {
		d = min(d, bodyGrace+time.Duration(float64(held)/float64(p.rate)*float64(time.Second)))
	}
	return p.start.Add(d)
}

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

// unverifiedBody is a request body read in parts, each taken from a
// byteBudget before it is allocated and read by the deadline its pace
// sets. Until release, it holds that budget.
type unverifiedBody struct {
	budget      *byteBudget
	pace        pace
	setDeadline func(time.Time) error // the connection's read deadline; nil: none
	parts       [][]byte
	n           int64 // bytes read
	held        int64 // bytes taken from budget
}

// read reads r whole: declared bytes when declared >= 0 (the
// Content-Length, checked against limit before), else until EOF and at
// most limit. It stops with errBudgetSpent as soon as a part cannot be
// taken, never waiting, and with the connection's timeout error when a
// part does not arrive by its deadline.
func (b *unverifiedBody) read(r io.Reader, declared, limit int64) error {
	for {
		size := min(max(b.n, firstPart), chunkSize)
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
		if b.setDeadline != nil {
			// A writer without deadlines (a test's recorder) has only the server's.
			_ = b.setDeadline(b.pace.deadline(b.held))
		}
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
