package hub

import "time"

// Observer receives what happens in the hub, for metrics. Its methods are
// called on hot paths (per event, per write): they must be fast and must
// not block or call back into the hub. Config.Observer nil means none.
type Observer interface {
	// ConnOpened is called when a connection registers.
	ConnOpened(tenant string)
	// ConnClosed is called when a connection is released, with the reason
	// (one of the Reason constants) and how long it lived.
	ConnClosed(tenant, reason string, age time.Duration)
	// ConnRejected is called when a limit refuses a connection; scope is
	// "user" or "total".
	ConnRejected(scope string)
	// Published is called when this node appends an event to the log.
	Published(event string)
	// RateLimited is called when a drop-mode limit refuses an event, and
	// Coalesced when a coalescing limit holds one.
	RateLimited(event string)
	Coalesced(event string)
	// Dispatched is called once per event fanned out on this node, with
	// the number of local recipients whose queue took it.
	Dispatched(event string, recipients int)
	// Dropped is called when a full queue refuses an event (the
	// connection is then closed as a slow consumer).
	Dropped(event string)
	// Delivered is called when an event is written to a connection, with
	// the time since it was appended to the log.
	Delivered(event string, sinceEmit time.Duration)
	// Wrote is called after each write to a connection: how many bytes,
	// how long the write and flush took, and how many events were still
	// queued for it.
	Wrote(bytes int, took time.Duration, queued int)
}

type nopObserver struct{}

func (nopObserver) ConnOpened(string)                        {}
func (nopObserver) ConnClosed(string, string, time.Duration) {}
func (nopObserver) ConnRejected(string)                      {}
func (nopObserver) Published(string)                         {}
func (nopObserver) RateLimited(string)                       {}
func (nopObserver) Coalesced(string)                         {}
func (nopObserver) Dispatched(string, int)                   {}
func (nopObserver) Dropped(string)                           {}
func (nopObserver) Delivered(string, time.Duration)          {}
func (nopObserver) Wrote(int, time.Duration, int)            {}
