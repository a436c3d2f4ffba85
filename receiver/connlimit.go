package receiver

import (
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"
)

// DefaultMaxConns is how many connections a Server holds open at once
// unless WithMaxConns says otherwise.
const DefaultMaxConns = 1024

// limitListener serves at most n connections at once. When a new one
// arrives at the cap, it makes room by closing the connection that has
// been idle longest — accepted with no request read whole yet (headers
// still arriving count), or kept alive between requests (http.ConnState
// tells which) — so idle connections, however many are opened, neither
// hold descriptors beyond the cap nor keep a delivery waiting. When every
// connection is in a request, Accept waits until one ends or goes idle
// (then it is closed for the waiting one), and further connections wait
// in the kernel's accept queue, costing the process nothing. A connection
// is in a request only inside the handler (the server answers OPTIONS *
// through it too), where the body deadline bounds it, and every answer
// but a verified delivery's closes it.
type limitListener struct {
	net.Listener
	slots chan struct{}
	done  chan struct{}
	wake  chan struct{} // a connection went idle (buffered: a wake-up is never lost)
	once  sync.Once
	log   *slog.Logger
	// waiting, when set (tests), is called each time Accept starts to
	// wait with a connection in hand.
	waiting func()

	mu      sync.Mutex
	idle    map[net.Conn]time.Time // connections with no request in progress, and since when
	warned  time.Time              // when "at the cap" was last logged
	evicted int                    // idle connections closed since then
}

func newLimitListener(l net.Listener, n int, log *slog.Logger) *limitListener {
	return &limitListener{Listener: l, slots: make(chan struct{}, n), done: make(chan struct{}),
		wake: make(chan struct{}, 1), log: log, idle: map[net.Conn]time.Time{}}
}

// Accept takes a connection, then a slot for it: a free one, or one made
// free by closing the connection idle longest, or else it waits (holding
// this one connection, unserved, beyond the cap) until a slot is given
// back or a connection goes idle, and tries again.
func (l *limitListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	for {
		select {
		case l.slots <- struct{}{}:
			return &limitConn{Conn: c, release: func() { <-l.slots }}, nil
		default:
		}
		if l.evictIdle() {
			continue // its Close gave a slot back
		}
		if l.waiting != nil {
			l.waiting()
		}
		select {
		case l.slots <- struct{}{}:
			return &limitConn{Conn: c, release: func() { <-l.slots }}, nil
		case <-l.wake:
		case <-l.done:
			c.Close()
			return nil, net.ErrClosed
		}
	}
}

// connState is the server's http.Server.ConnState: it keeps the set of
// idle connections, and wakes an Accept waiting at the cap when one goes
// idle.
func (l *limitListener) connState(c net.Conn, s http.ConnState) {
	l.mu.Lock()
	switch s {
	case http.StateNew, http.StateIdle:
		l.idle[c] = time.Now()
	default:
		delete(l.idle, c)
	}
	l.mu.Unlock()
	if s == http.StateIdle {
		select {
		case l.wake <- struct{}{}:
		default: // a wake-up is already pending
		}
	}
}

// evictIdle closes the connection idle longest, if any, and reports
// whether it did; its Close gives its slot back. It logs, at most once a
// minute, that the cap was reached.
func (l *limitListener) evictIdle() bool {
	l.mu.Lock()
	var oldest net.Conn
	var since time.Time
	for c, t := range l.idle {
		if oldest == nil || t.Before(since) {
			oldest, since = c, t
		}
	}
	if oldest != nil {
		delete(l.idle, oldest)
		l.evicted++
	}
	if now := time.Now(); now.Sub(l.warned) >= DefaultRefusalLogInterval {
		l.log.Warn("webhook receiver at its connection limit: idle connections closed to make room, others wait",
			"limit", cap(l.slots), "idle_closed", l.evicted)
		l.warned, l.evicted = now, 0
	}
	l.mu.Unlock()
	if oldest == nil {
		return false
	}
	oldest.Close()
	return true
}

// Close closes the listener and ends a wait for a slot.
func (l *limitListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return l.Listener.Close()
}

// limitConn gives its slot back when closed (once).
type limitConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
