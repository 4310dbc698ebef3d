package client

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/net/http/httpguts"

	"github.com/ssehub/ssehub/sse"
)

// defaultHeartbeat is the heartbeat interval assumed until sse:ready tells
// the server's.
const defaultHeartbeat = 30 * time.Second

// watchdogFactor is how many heartbeat intervals of silence end a stream.
const watchdogFactor = 2.5

// maxErrorBody caps how much of an error response is read.
const maxErrorBody = 64 << 10

// kind says what Run does after an attempt.
type kind int

const (
	failed       kind = iota // back off, then retry
	fatal                    // return err from Run
	unauthorized             // retry with a new token
	planned                  // the server asked for a reconnect after wait
)

// outcome is how one connection attempt ended.
type outcome struct {
	kind kind
	err  error
	// wait is the least wait before the next attempt (Retry-After, retryMs).
	wait time.Duration
	// connected is set when the attempt got as far as sse:ready.
	connected bool
}

// attempt makes one connection and reads it until it ends. Everything it
// starts has ended when it returns.
func (c *Client) attempt(ctx context.Context) outcome {
	var tok string
	if c.cfg.Token != nil {
		t, err := c.cfg.Token(ctx)
		if err != nil {
			return outcome{kind: failed, err: fmt.Errorf("client: token: %w", err)}
		}
		tok = t
	}
	actx, cancel := context.WithCancel(ctx)
	defer cancel()
	u := *c.url
	id := c.LastEventID()
	if id != "" && (!httpguts.ValidHeaderFieldValue(id) || strings.Trim(id, " \t") != id) {
		// net/http refuses a control character, and retrying would fail
		// forever; a server trims surrounding spaces. Send such an id as the
		// lastEventId parameter, which ssehub reads as Last-Event-ID.
		q := u.Query()
		q.Set("lastEventId", id)
		u.RawQuery = q.Encode()
		id = ""
	}
	req, err := http.NewRequestWithContext(actx, http.MethodGet, u.String(), nil)
	if err != nil {
		return outcome{kind: fatal, err: fmt.Errorf("client: %w", err)}
	}
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Cache-Control", "no-cache")
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	if id != "" {
		req.Header.Set("Last-Event-ID", id)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return outcome{kind: failed, err: fmt.Errorf("client: connect: %w", err)}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return c.refused(resp)
	}
	if ct := resp.Header.Get("Content-Type"); !isEventStream(ct) {
		return outcome{kind: failed, err: fmt.Errorf("client: got Content-Type %q, want text/event-stream", ct)}
	}
	return c.read(actx, cancel, resp.Body)
}

// isEventStream reports whether a Content-Type is text/event-stream, in any
// case, with any parameters (the stream is UTF-8 whatever its charset says).
func isEventStream(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && mt == "text/event-stream"
}

// refused classifies a response other than 200.
func (c *Client) refused(resp *http.Response) outcome {
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	var body struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	_ = json.Unmarshal(raw, &body)
	e := &HTTPError{
		Status:     resp.StatusCode,
		Code:       body.Error.Code,
		Message:    body.Error.Message,
		RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()),
	}
	switch s := resp.StatusCode; {
	case s == http.StatusUnauthorized && c.cfg.Token != nil:
		return outcome{kind: unauthorized, err: e}
	case s == http.StatusServiceUnavailable && e.Code == "sse_disabled":
		return outcome{kind: fatal, err: &disabledError{e}}
	case s == http.StatusRequestTimeout || s == http.StatusTooManyRequests || s >= 500:
		return outcome{kind: failed, err: e, wait: e.RetryAfter}
	default:
		return outcome{kind: fatal, err: e}
	}
}

// disabledError is a 503 sse_disabled: it matches both ErrDisabled and
// the *HTTPError.
type disabledError struct{ http *HTTPError }

func (e *disabledError) Error() string   { return ErrDisabled.Error() + " (" + e.http.Error() + ")" }
func (e *disabledError) Unwrap() []error { return []error{ErrDisabled, e.http} }

// item is what the reading goroutine hands over: an event or comment, or
// the error that ended the stream, with the decoder's state after it.
type item struct {
	ev     sse.Event
	err    error
	lastID string
	retry  time.Duration
}

// read decodes the stream and runs the handlers until the stream ends, the
// watchdog fires, or a control event ends the attempt. A goroutine reads
// and decodes, so that the watchdog can interrupt a read; it has ended when
// read returns.
func (c *Client) read(ctx context.Context, cancel context.CancelFunc, body io.Reader) (o outcome) {
	var lastRead atomic.Int64 // unix nanos of the last bytes read, or of the last handler's return
	touch := func() { lastRead.Store(time.Now().UnixNano()) }
	touch()
	dec := sse.NewDecoder(readFunc(func(p []byte) (int, error) {
		n, err := body.Read(p)
		if n > 0 {
			touch()
		}
		return n, err
	}))
	dec.Comments = true
	dec.SetLastEventID(c.LastEventID()) // the last event ID outlives the connection
	items := make(chan item)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			ev, err := dec.Next()
			select {
			case items <- item{ev: ev, err: err, lastID: dec.LastEventID(), retry: dec.Retry()}:
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()
	defer func() {
		cancel() // ends the request, so a blocked Read returns
		<-done
		// The decoder is idle now. Its last event ID may have changed since
		// the last item taken: a block with an id and no data dispatches
		// nothing, and the stream may have ended right after it.
		c.setLastID(dec.LastEventID())
		if o.connected {
			c.mu.Lock()
			c.connID = ""
			c.mu.Unlock()
		}
	}()

	limit := time.Duration(watchdogFactor * float64(defaultHeartbeat))
	timer := time.NewTimer(limit)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			o.kind, o.err = failed, ctx.Err()
			return o
		case <-timer.C:
			idle := time.Since(time.Unix(0, lastRead.Load()))
			if idle < limit {
				timer.Reset(limit - idle)
				continue
			}
			o.kind, o.err = failed, fmt.Errorf("%w: nothing received for %v", ErrHeartbeatTimeout, idle.Round(time.Millisecond))
			return o
		case it := <-items:
			c.setLastID(it.lastID)
			if it.retry > 0 {
				c.retry = it.retry
			}
			if errors.Is(it.err, io.EOF) {
				o.kind, o.err = failed, errors.New("client: stream ended by the server")
				return o
			}
			if it.err != nil {
				o.kind, o.err = failed, fmt.Errorf("client: read stream: %w", it.err)
				return o
			}
			if it.ev.Name == "" {
				continue // a comment: the heartbeat
			}
			if it.ev.Name == "sse:ready" {
				o.connected = true
				hb := c.ready(it.ev)
				limit = time.Duration(watchdogFactor * float64(hb))
				timer.Reset(limit)
			}
			end, stop := c.deliver(it)
			touch() // time spent in handlers is not silence
			if stop {
				end.connected = o.connected
				return end
			}
		}
	}
}

// ready records an sse:ready and calls OnReady; it returns the heartbeat
// interval.
func (c *Client) ready(ev sse.Event) time.Duration {
	var r struct {
		ConnectionID string   `json:"connectionId"`
		UserID       string   `json:"userId"`
		TenantID     string   `json:"tenantId"`
		Channels     []string `json:"channels"`
		HeartbeatMs  int64    `json:"heartbeatMs"`
	}
	if err := json.Unmarshal([]byte(ev.Data), &r); err != nil {
		c.report(&DecodeError{Event: ev.Name, ID: ev.ID, Err: err})
	}
	hb := defaultHeartbeat
	if r.HeartbeatMs > 0 {
		hb = time.Duration(r.HeartbeatMs) * time.Millisecond
	}
	c.mu.Lock()
	c.connID = r.ConnectionID
	c.mu.Unlock()
	c.log.Info("connected", "conn_id", r.ConnectionID, "heartbeat", hb)
	if fn := c.cfg.OnReady; fn != nil {
		fn(Ready{ConnectionID: r.ConnectionID, UserID: r.UserID, TenantID: r.TenantID, Channels: r.Channels, Heartbeat: hb})
	}
	return hb
}

// deliver runs the event's handlers and acts on control
// events other than sse:ready. stop reports that the attempt ends with o.
func (c *Client) deliver(it item) (o outcome, stop bool) {
	ev := it.ev
	c.mu.Lock()
	m := Meta{ID: ev.ID, ConnectionID: c.connID}
	c.mu.Unlock()

	if strings.HasPrefix(ev.Name, "sse:") {
		c.log.Debug("control event", "event", ev.Name)
	}
	switch ev.Name {
	case "sse:reset":
		if fn := c.cfg.OnReset; fn != nil {
			fn(controlInfo(ev).Reason)
		}
	case "sse:evicted":
		o, stop = outcome{kind: fatal, err: ErrEvicted}, true
	case "sse:disabled":
		o, stop = outcome{kind: fatal, err: ErrDisabled}, true
	case "sse:token-expired":
		o, stop = outcome{kind: planned}, true
	case "sse:shutdown":
		// The server's wait: retryMs in the data, else the stream's retry.
		wait := cmp.Or(it.retry, time.Second)
		if ms := controlInfo(ev).RetryMs; ms != nil && *ms >= 0 {
			wait = time.Duration(*ms) * time.Millisecond
		}
		o, stop = outcome{kind: planned, wait: jitter(wait)}, true
	}
	c.dispatch(ev, m)
	if stop {
		c.log.Info("closed by the server", "event", ev.Name)
	}
	return o, stop
}

// setLastID records the decoder's last event ID, which follows the WHATWG
// rules: an empty id field clears it, a block with an id and no data sets it.
func (c *Client) setLastID(id string) {
	c.mu.Lock()
	c.lastID = id
	c.mu.Unlock()
}

// controlInfo is the data of a control event other than sse:ready.
func controlInfo(ev sse.Event) (info struct {
	Reason  string `json:"reason"`
	RetryMs *int64 `json:"retryMs"`
}) {
	_ = json.Unmarshal([]byte(ev.Data), &info)
	return info
}

// readFunc adapts a function to io.Reader.
type readFunc func([]byte) (int, error)

func (f readFunc) Read(p []byte) (int, error) { return f(p) }
