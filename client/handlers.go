package client

import (
	"encoding/json"
	"slices"
	"sync/atomic"

	"github.com/ssehub/ssehub/event"
	"github.com/ssehub/ssehub/sse"
)

// Meta describes the delivery of one event to a handler.
type Meta struct {
	// ID is the event's id: what [Client.LastEventID] returns once the
	// event has been received.
	ID string
	// ConnectionID is the id of the connection that delivered the event,
	// from its sse:ready.
	ConnectionID string
}

// handler is one registration; off is set by its unsubscribe function so
// that a dispatch already under way skips it too.
type handler struct {
	fn  func(sse.Event, Meta)
	off atomic.Bool
}

// On registers fn for the event ev. The client decodes each event's data
// into a new T with encoding/json and calls fn with it; data that does not
// decode is reported to [Config.OnError] as a [*DecodeError] and fn is not
// called. On panics if ev was not declared with [event.Define] (or [ssehub.Define], the same).
//
// Handlers run on the goroutine of [Client.Run], one at a time, in the
// order events arrive and, for one event, in the order they were
// registered. A handler may register or unsubscribe handlers. The returned
// function unsubscribes fn; it is idempotent, and once it returns fn is not
// called again (unless from a dispatch on whose goroutine it is itself
// called). On may be called at any time, before or during Run.
func On[T any](c *Client, ev event.Event[T], fn func(T, Meta)) (unsubscribe func()) {
	name := ev.Name()
	if name == "" {
		panic("client: On: event not declared with ssehub.Define")
	}
	return c.add(name, func(e sse.Event, m Meta) {
		var v T
		if err := json.Unmarshal([]byte(e.Data), &v); err != nil {
			c.report(&DecodeError{Event: e.Name, ID: m.ID, Err: err})
			return
		}
		fn(v, m)
	})
}

// OnRaw registers fn for the events named name as they come off the wire,
// control events (sse:ready, sse:reset, …) included. It returns a function
// that unsubscribes fn. The rules of [On] apply.
func (c *Client) OnRaw(name string, fn func(sse.Event)) (unsubscribe func()) {
	return c.add(name, func(e sse.Event, _ Meta) { fn(e) })
}

func (c *Client) add(name string, fn func(sse.Event, Meta)) func() {
	h := &handler{fn: fn}
	c.mu.Lock()
	c.handlers[name] = append(c.handlers[name], h)
	c.mu.Unlock()
	return func() {
		h.off.Store(true)
		c.mu.Lock()
		defer c.mu.Unlock()
		hs := slices.DeleteFunc(slices.Clone(c.handlers[name]), func(x *handler) bool { return x == h })
		if len(hs) == 0 {
			delete(c.handlers, name)
		} else {
			c.handlers[name] = hs
		}
	}
}

// dispatch calls the handlers of e.Name outside the lock. The slice in the
// map is never modified in place, so the snapshot needs no copy.
func (c *Client) dispatch(e sse.Event, m Meta) {
	c.mu.Lock()
	hs := c.handlers[e.Name]
	c.mu.Unlock()
	for _, h := range hs {
		if !h.off.Load() {
			h.fn(e, m)
		}
	}
}
