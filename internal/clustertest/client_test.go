package clustertest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ssehub/ssehub/sse"
)

// client follows one logical stream across sessions, as a browser would:
// each session is one GET /api/sse on some node; a new session sends the
// last event id seen so far as Last-Event-ID. It records the ids of real
// events in the order received, and the control events.
type client struct {
	t        testing.TB
	hc       *http.Client
	name     string
	tenant   string
	user     string
	channels []string // subscribed at connect, on every session
	token    string

	mu         sync.Mutex
	ids        []string          // real events, in order, over every session
	data       map[string]string // real events' data by id
	control    []control         // control events, in order, over every session
	last       string            // the Last-Event-ID a browser would send now
	connID     string            // the current (or last) session's connection id
	connIDs    []string          // every session's connection id
	node       *node             // the current (or last) session's node
	sessions   int
	heartbeats int
	live       bool
	cancel     context.CancelFunc
	done       chan struct{} // closed when the current session ends
	endErr     error         // why the last session ended (nil: EOF)

	// arrivals, when set before the first connect, receives each real
	// event's id and arrival time; the reader blocks when it is full.
	arrivals chan arrival
}

type arrival struct {
	id string
	at time.Time
}

type control struct {
	name, data, node string
}

func newClient(t testing.TB, hc *http.Client, tenant, user string, channels ...string) *client {
	c := &client{
		t: t, hc: hc, name: tenant + "/" + user, tenant: tenant, user: user,
		channels: channels, token: userToken(t, tenant, user),
	}
	if len(channels) > 0 {
		c.name += "[" + strings.Join(channels, ",") + "]"
	}
	t.Cleanup(c.disconnect)
	return c
}

// statusError is a stream request answered with something other than 200.
type statusError struct {
	status int
	code   string
}

func (e *statusError) Error() string { return fmt.Sprintf("status %d %s", e.status, e.code) }

// connect opens a session on nd, resuming from the last id seen when there
// is one, and returns once sse:ready has arrived: from then on the
// connection is registered on the node.
func (c *client) connect(nd *node) error {
	c.mu.Lock()
	if c.live {
		c.mu.Unlock()
		return errors.New("connect: a session is live")
	}
	last := c.last
	c.mu.Unlock()
	u := nd.url + "/api/sse"
	if len(c.channels) > 0 {
		u += "?channels=" + url.QueryEscape(strings.Join(c.channels, ","))
	}
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", u, nil)
	req.Header.Set("Authorization", "Bearer "+c.token)
	if last != "" {
		req.Header.Set("Last-Event-ID", last)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		cancel()
		return err
	}
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		cancel()
		return &statusError{resp.StatusCode, errorCode(body)}
	}
	ready := make(chan error, 1)
	done := make(chan struct{})
	c.mu.Lock()
	c.live, c.cancel, c.done, c.node = true, cancel, done, nd
	c.sessions++
	c.mu.Unlock()
	go c.read(resp.Body, nd, ready, done)
	select {
	case err := <-ready:
		if err != nil {
			c.disconnect()
			return err
		}
		return nil
	case <-time.After(10 * time.Second):
		c.disconnect()
		return fmt.Errorf("connect to %s: no sse:ready within 10s", nd.id)
	}
}

// mustConnect is connect that fails the test on error.
func (c *client) mustConnect(nd *node) {
	c.t.Helper()
	if err := c.connect(nd); err != nil {
		c.t.Fatalf("client %s: connect to %s: %v", c.name, nd.id, err)
	}
}

// read decodes one session until it ends.
func (c *client) read(body io.ReadCloser, nd *node, ready chan<- error, done chan<- struct{}) {
	defer close(done)
	defer body.Close()
	dec := sse.NewDecoder(body)
	dec.Comments = true
	first := true
	var endErr error
	for ev, err := range dec.Events() {
		if err != nil {
			endErr = err
			break
		}
		if first && ev.Name != "" {
			first = false
			var rd struct{ ConnectionID string }
			if ev.Name != "sse:ready" || json.Unmarshal([]byte(ev.Data), &rd) != nil || rd.ConnectionID == "" {
				endErr = fmt.Errorf("first event %q %q, want sse:ready", ev.Name, ev.Data)
				first = true
				break
			}
			c.mu.Lock()
			c.connID = rd.ConnectionID
			c.connIDs = append(c.connIDs, rd.ConnectionID)
			if id := dec.LastEventID(); id != "" {
				c.last = id
			}
			c.mu.Unlock()
			ready <- nil
			continue
		}
		c.mu.Lock()
		switch {
		case ev.Name == "":
			c.heartbeats++
		case strings.HasPrefix(ev.Name, "sse:"):
			c.control = append(c.control, control{ev.Name, ev.Data, nd.id})
		default:
			c.ids = append(c.ids, ev.ID)
			if c.data == nil {
				c.data = map[string]string{}
			}
			c.data[ev.ID] = ev.Data
		}
		if id := dec.LastEventID(); id != "" {
			c.last = id
		}
		c.mu.Unlock()
		if c.arrivals != nil && !strings.HasPrefix(ev.Name, "sse:") && ev.Name != "" {
			c.arrivals <- arrival{ev.ID, time.Now()}
		}
	}
	if first {
		ready <- fmt.Errorf("stream ended before sse:ready: %v", endErr)
	}
	c.mu.Lock()
	c.live = false
	if errors.Is(endErr, context.Canceled) {
		endErr = nil
	}
	c.endErr = endErr
	c.mu.Unlock()
}

// disconnect ends the current session, if any, and waits until it is over.
func (c *client) disconnect() {
	c.mu.Lock()
	cancel, done := c.cancel, c.done
	c.mu.Unlock()
	if cancel == nil {
		return
	}
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		c.t.Errorf("client %s: session did not end within 10s of cancelling it", c.name)
	}
}

// isLive reports whether a session is open.
func (c *client) isLive() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.live
}

// waitEnded waits until the current session ends by itself.
func (c *client) waitEnded(timeout time.Duration) bool {
	c.mu.Lock()
	done := c.done
	c.mu.Unlock()
	select {
	case <-done:
		return true
	case <-time.After(timeout):
		return false
	}
}

func (c *client) received() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.ids)
}

func (c *client) has(id string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Contains(c.ids, id)
}

func (c *client) controls() []control {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.control)
}

// controlNames returns the names of the control events received.
func (c *client) controlNames() []string {
	var out []string
	for _, ce := range c.controls() {
		out = append(out, ce.name)
	}
	return out
}

func (c *client) hasControl(name string) bool {
	return slices.Contains(c.controlNames(), name)
}

func (c *client) lastID() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.last
}

func (c *client) currentConnID() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.connID
}

func (c *client) currentNode() *node {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.node
}

func (c *client) heartbeatCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.heartbeats
}

func (c *client) sessionCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sessions
}
