package apiclient

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"sync"
	"time"
)

// Stage is the part of an attempt that a TimeoutError cut short.
type Stage int

// The stages of an attempt, in order. Connecting comes first (the zero
// Stage) and is bounded by the dial and TLS handshake timeouts instead.
const (
	// StageSend: the request stopped moving: the connection took no byte of
	// it for Config.Timeout. The body was not completely sent.
	StageSend Stage = iota + 1
	// StageAwait: the request was sent, and no answer began within
	// Config.Timeout. Whether the API acted on it is unknown.
	StageAwait
	// StageReceive: the answer stopped coming for Config.Timeout. The API
	// did answer; what it said is unknown.
	StageReceive
	stageDone
)

// String returns "send", "await" or "receive".
func (s Stage) String() string {
	switch s {
	case StageSend:
		return "send"
	case StageAwait:
		return "await"
	case StageReceive:
		return "receive"
	}
	return fmt.Sprintf("stage(%d)", int(s))
}

// TimeoutError is the error of an attempt aborted because nothing moved in
// its Stage for Limit (Config.Timeout). It is retried like a network error,
// under the same Idempotency-Key.
type TimeoutError struct {
	Stage Stage
	Limit time.Duration
}

// Error says which part of the attempt stalled, and for how long.
func (e *TimeoutError) Error() string {
	switch e.Stage {
	case StageSend:
		return fmt.Sprintf("upload stalled: nothing sent for %v", e.Limit)
	case StageAwait:
		return fmt.Sprintf("no answer within %v of sending the request", e.Limit)
	default:
		return fmt.Sprintf("answer stalled: nothing received for %v", e.Limit)
	}
}

// Timeout reports true, as net.Error does for timeouts.
func (e *TimeoutError) Timeout() bool { return true }

// watchdog aborts one attempt once it makes no progress for limit. Progress
// is a Read of the request body by the transport (it took the bytes before),
// the request being fully written (the wait for the answer begins), the
// answer's headers, and each Read of the answer's body. A transfer that
// keeps moving is never cut, however long it takes.
type watchdog struct {
	limit  time.Duration
	cancel context.CancelCauseFunc // of the attempt's context

	mu       sync.Mutex
	stage    Stage
	deadline time.Time   // monotonic: a stepped wall clock changes nothing
	timer    *time.Timer // nil until the first progress
}

// enter records progress in stage s: the attempt moves on to s and has
// limit from now. Progress of an earlier stage (the request body still
// being read after the answer came) changes nothing.
func (w *watchdog) enter(s Stage) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if s < w.stage || w.stage == stageDone {
		return
	}
	w.stage = s
	w.deadline = time.Now().Add(w.limit)
	if w.timer == nil {
		w.timer = time.AfterFunc(w.limit, w.fire)
	} else {
		w.timer.Reset(w.limit)
	}
}

// stop ends the watch: the attempt is over.
func (w *watchdog) stop() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.stage = stageDone
	if w.timer != nil {
		w.timer.Stop()
	}
}

// fire aborts the attempt, unless progress came meanwhile (enter has then
// re-armed the timer).
func (w *watchdog) fire() {
	w.mu.Lock()
	stage, left := w.stage, time.Until(w.deadline)
	w.mu.Unlock()
	if stage == stageDone || left > 0 {
		return
	}
	w.cancel(&TimeoutError{Stage: stage, Limit: w.limit})
}

// explain returns the *TimeoutError that aborted the attempt of ctx in place
// of what the transport saw (a cancelled request, a closed body), and err
// otherwise.
func explain(ctx context.Context, err error) error {
	var te *TimeoutError
	if errors.As(context.Cause(ctx), &te) {
		return te
	}
	return err
}

// watched sends req through base under a watchdog of limit, from the
// connection to the end of the answer's body (or its Close).
func watched(base http.RoundTripper, req *http.Request, limit time.Duration) (*http.Response, error) {
	ctx, cancel := context.WithCancelCause(req.Context())
	w := &watchdog{limit: limit, cancel: cancel}
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		GotConn:      func(httptrace.GotConnInfo) { w.enter(StageSend) },
		WroteRequest: func(httptrace.WroteRequestInfo) { w.enter(StageAwait) },
	})
	out := req.WithContext(ctx)
	if req.Body != nil && req.Body != http.NoBody {
		out.Body = &sendBody{ReadCloser: req.Body, w: w}
		if get := req.GetBody; get != nil {
			// The transport may rewind the body to retry on another
			// connection: the new body is watched too.
			out.GetBody = func() (io.ReadCloser, error) {
				rc, err := get()
				if err != nil || rc == http.NoBody {
					return rc, err
				}
				return &sendBody{ReadCloser: rc, w: w}, nil
			}
		}
	}
	resp, err := base.RoundTrip(out)
	if err != nil {
		w.stop()
		err = explain(ctx, err)
		cancel(nil)
		return nil, err
	}
	w.enter(StageReceive)
	resp.Body = &receiveBody{ReadCloser: resp.Body, w: w, ctx: ctx, cancel: cancel}
	return resp, nil
}

// sendBody is a request body under watch: each Read asks for more, so the
// connection took what came before.
type sendBody struct {
	io.ReadCloser
	w *watchdog
}

func (b *sendBody) Read(p []byte) (int, error) {
	b.w.enter(StageSend)
	n, err := b.ReadCloser.Read(p)
	b.w.enter(StageSend)
	return n, err
}

// receiveBody is an answer's body under watch. Its end or Close ends the
// watch and releases the attempt's context.
type receiveBody struct {
	io.ReadCloser
	w      *watchdog
	ctx    context.Context
	cancel context.CancelCauseFunc
}

func (b *receiveBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	switch {
	case err == io.EOF:
		b.w.stop()
	case err != nil:
		err = explain(b.ctx, err)
	case n > 0:
		b.w.enter(StageReceive)
	}
	return n, err
}

func (b *receiveBody) Close() error {
	b.w.stop()
	err := b.ReadCloser.Close()
	b.cancel(nil)
	return err
}
