package client

import (
	"errors"
	"fmt"
	"time"
)

// ErrDisabled ends [Client.Run] when an admin has disabled streaming: the
// stream endpoint answered 503 with the code sse_disabled, or an open stream
// received sse:disabled. A bare 503 (from a proxy, or a node shutting down)
// is retried instead.
var ErrDisabled = errors.New("client: streaming disabled by the server")

// ErrEvicted ends [Client.Run] when the server closed the connection with
// sse:evicted because the user opened more connections than the per-user
// limit allows. Run does not reconnect, so two clients of one user cannot
// evict each other in a loop.
var ErrEvicted = errors.New("client: connection evicted by a newer one")

// ErrHeartbeatTimeout is reported to [Config.OnError] when a stream has been
// silent (not even a heartbeat comment) for 2.5 heartbeat intervals; the
// client then reconnects.
var ErrHeartbeatTimeout = errors.New("client: heartbeat timeout")

// ErrRunning is returned by [Client.Run] when another Run of the same
// Client has not returned yet.
var ErrRunning = errors.New("client: already running")

// HTTPError is a stream request answered with a status other than 200. Run
// returns it for a status that retrying cannot fix (403, 404, …, and 401
// when [Config.Token] is nil); other statuses are reported to
// [Config.OnError] and retried.
type HTTPError struct {
	// Status is the HTTP status code.
	Status int
	// Code and Message are the body's {"error":{"code","message"}}, or ""
	// when the body is not that JSON.
	Code, Message string
	// RetryAfter is the wait asked for by the Retry-After header, or 0.
	RetryAfter time.Duration
}

func (e *HTTPError) Error() string {
	s := fmt.Sprintf("client: HTTP %d", e.Status)
	if e.Code != "" {
		s += " " + e.Code
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// DecodeError reports an event whose data could not be decoded into the
// payload type of a handler registered with [On]. The handler is not
// called; the event still counts as received (its id is the new
// [Client.LastEventID]), so it is not fetched again on resume.
type DecodeError struct {
	// Event and ID are the event's name and id.
	Event, ID string
	// Err is the error from encoding/json.
	Err error
}

func (e *DecodeError) Error() string {
	return fmt.Sprintf("client: decode %s (id %q): %v", e.Event, e.ID, e.Err)
}

func (e *DecodeError) Unwrap() error { return e.Err }
