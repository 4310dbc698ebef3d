package server

import (
	"container/list"
	"context"
	"net"
	"net/http"
	"sync"
)

// connCap caps the connections that are not streams: connections reading
// a request head, idle between requests, or serving any request other
// than a stream. A connection serving a stream is not counted (the hub's
// max-conns caps those), so requests can never take the descriptors that
// streams need. When a new connection would pass the cap, the oldest idle
// counted connection is closed, or else the oldest counted one: a flood of
// slow requests pushes out its own oldest members, and each new request
// still gets read and answered.
//
// It plugs into http.Server as ConnState and ConnContext, and into the
// handler chain as wrap, which marks stream requests. It is safe for
// concurrent use.
type connCap struct {
	max int // <= 0: no cap

	mu      sync.Mutex
	order   *list.List // of *capConn, oldest first; counted ones only
	byConn  map[net.Conn]*list.Element
	streams map[net.Conn]bool // serving a stream, not counted
	evicted int64
}

type capConn struct {
	c    net.Conn
	idle bool
}

type capConnKey struct{}

func newConnCap(max int) *connCap {
	return &connCap{max: max, order: list.New(), byConn: map[net.Conn]*list.Element{}, streams: map[net.Conn]bool{}}
}

// connContext is http.Server.ConnContext: it lets wrap find the connection.
func (cc *connCap) connContext(ctx context.Context, c net.Conn) context.Context {
	return context.WithValue(ctx, capConnKey{}, c)
}

// connState is http.Server.ConnState.
func (cc *connCap) connState(c net.Conn, s http.ConnState) {
	var victim net.Conn
	cc.mu.Lock()
	switch s {
	case http.StateNew:
		cc.add(c)
		if cc.max > 0 && cc.order.Len() > cc.max {
			victim = cc.pickVictim(c)
		}
	case http.StateActive:
		if e := cc.byConn[c]; e != nil {
			e.Value.(*capConn).idle = false
		}
	case http.StateIdle:
		if cc.streams[c] { // a stream ended on a keep-alive connection
			delete(cc.streams, c)
			cc.add(c)
		}
		if e := cc.byConn[c]; e != nil {
			e.Value.(*capConn).idle = true
		}
	case http.StateHijacked, http.StateClosed:
		cc.remove(c)
		delete(cc.streams, c)
	}
	cc.mu.Unlock()
	if victim != nil {
		_ = victim.Close()
	}
}

// add counts c; the caller holds mu.
func (cc *connCap) add(c net.Conn) {
	if cc.byConn[c] == nil {
		cc.byConn[c] = cc.order.PushBack(&capConn{c: c})
	}
}

// remove stops counting c; the caller holds mu.
func (cc *connCap) remove(c net.Conn) {
	if e := cc.byConn[c]; e != nil {
		cc.order.Remove(e)
		delete(cc.byConn, c)
	}
}

// pickVictim removes and returns the oldest idle counted connection, or
// else the oldest counted one other than keep; the caller holds mu.
func (cc *connCap) pickVictim(keep net.Conn) net.Conn {
	var pick *list.Element
	for e := cc.order.Front(); e != nil; e = e.Next() {
		if cp := e.Value.(*capConn); cp.c != keep {
			if cp.idle {
				pick = e
				break
			}
			if pick == nil {
				pick = e
			}
		}
	}
	if pick == nil {
		return nil
	}
	c := pick.Value.(*capConn).c
	cc.remove(c)
	cc.evicted++
	return c
}

// counted returns how many connections count against the cap.
func (cc *connCap) counted() int {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	return cc.order.Len()
}

// wrap marks the connections of stream requests (isStream) as streams
// while they are served, so they stop counting. An HTTP/2 connection that
// carries a stream counts again once it has no request open (StateIdle).
func (cc *connCap) wrap(isStream func(*http.Request) bool, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c, ok := r.Context().Value(capConnKey{}).(net.Conn); ok && isStream(r) {
			cc.mu.Lock()
			if cc.byConn[c] != nil {
				cc.remove(c)
				cc.streams[c] = true
			}
			cc.mu.Unlock()
		}
		next.ServeHTTP(w, r)
	})
}
