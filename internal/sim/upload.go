package sim

import (
	"context"
	"io"
	"time"
)

// paceQuantum is how far ahead of its schedule a paced body may read before
// it sleeps: few timer wake-ups, the same average rate.
const paceQuantum = 10 * time.Millisecond

// slowBody is a submit's request body read the way the upload fault knobs
// say: paced to rate bytes per second (0: unpaced), and stopping for stall
// once stallAt bytes have been read (stallAt < 0: never). The client sees
// what a slow or stalled uplink shows it: its writes are accepted slowly,
// or not at all.
type slowBody struct {
	io.ReadCloser
	ctx     context.Context
	rate    int64
	stallAt int64
	stall   time.Duration
	stalled func() // called when the stall begins

	now   func() time.Time
	sleep func(context.Context, time.Duration) bool

	read  int64
	start time.Time // of the first Read
}

// uploadBody wraps r.Body for the upload faults, drawing whether this
// submit stalls. It returns r.Body itself when no fault applies.
func (s *Server) uploadBody(ctx context.Context, body io.ReadCloser) io.ReadCloser {
	stallAt := int64(-1)
	if s.draw(s.cfg.UploadStallRate) {
		stallAt = s.cfg.UploadStallAfter
	}
	rate := s.cfg.UploadRate
	if f := s.Faults(); f.UploadRate > 0 {
		rate = f.UploadRate
	}
	if rate <= 0 && stallAt < 0 {
		return body
	}
	return &slowBody{
		ReadCloser: body, ctx: ctx, rate: rate,
		stallAt: stallAt, stall: s.cfg.UploadStall,
		stalled: func() {
			s.count(func(st *Stats) { st.UploadsStalled++ })
			s.log.Debug("sim: upload stalls", "after_bytes", stallAt, "for", s.cfg.UploadStall)
			if s.hooks.uploadStalled != nil {
				s.hooks.uploadStalled()
			}
		},
		now: time.Now, sleep: pause,
	}
}

// Read implements io.Reader.
func (b *slowBody) Read(p []byte) (int, error) {
	if b.stallAt >= 0 && b.read >= b.stallAt {
		b.stallAt = -1
		b.stalled()
		if !b.sleep(b.ctx, b.stall) {
			return 0, b.ctx.Err()
		}
	}
	if b.stallAt >= 0 && int64(len(p)) > b.stallAt-b.read {
		p = p[:b.stallAt-b.read]
	}
	if b.rate > 0 {
		if slice := max(b.rate/20, 1); int64(len(p)) > slice {
			p = p[:slice] // about 50 ms worth: the pace shows in small steps
		}
		if b.start.IsZero() {
			b.start = b.now()
		}
		// No more bytes until those already read are paid for.
		due := b.start.Add(time.Duration(float64(b.read) / float64(b.rate) * float64(time.Second)))
		if ahead := due.Sub(b.now()); ahead > paceQuantum && !b.sleep(b.ctx, ahead) {
			return 0, b.ctx.Err()
		}
	}
	n, err := b.ReadCloser.Read(p)
	b.read += int64(n)
	return n, err
}

// pause waits d, or until ctx is done; it reports whether d passed.
func pause(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
