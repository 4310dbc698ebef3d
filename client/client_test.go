package client_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ssehub/ssehub"
	"github.com/ssehub/ssehub/auth"
	"github.com/ssehub/ssehub/client"
	"github.com/ssehub/ssehub/hub"
	"github.com/ssehub/ssehub/sse"
)

type note struct {
	Seq   int    `json:"seq"`
	Title string `json:"title"`
}

var noteNew = ssehub.Define[note]("note:new")

// emit publishes note n to user u1 of tenant t1 and returns its id.
func (e *env) emit(n note) string {
	e.t.Helper()
	id, err := ssehub.Emit(context.Background(), e.hub, noteNew, n, ssehub.ToUser("t1", "u1"))
	if err != nil {
		e.t.Errorf("Emit: %v", err)
	}
	return id
}

func u1Token(t *testing.T) string {
	return mint(t, auth.Claims{Subject: "u1", TenantID: "t1"}, time.Hour)
}

func TestTypedDelivery(t *testing.T) {
	e := newEnv(t, hub.Config{}, false)
	var rec recorder
	c := e.newClient(client.Config{Token: staticToken(u1Token(t)), OnReady: rec.onReady, OnError: rec.onError})
	type got struct {
		n    note
		meta client.Meta
	}
	notes := make(chan got, 10)
	client.On(c, noteNew, func(n note, m client.Meta) { notes <- got{n, m} })
	var raw []sse.Event
	c.OnRaw("sse:ready", func(ev sse.Event) { raw = append(raw, ev) })
	r := start(t, c)
	waitFor(t, 5*time.Second, "sse:ready", func() bool { return rec.readyCount() == 1 })
	connID := c.ConnectionID()
	if connID == "" {
		t.Fatal("ConnectionID() is empty after sse:ready")
	}

	id1 := e.emit(note{1, "hello"})
	// A payload of the wrong type is reported, not delivered, and does not
	// stop the stream.
	if _, err := ssehub.Emit(context.Background(), e.hub, ssehub.Define[string]("note:new"), "not an object", ssehub.ToUser("t1", "u1")); err != nil {
		t.Fatal(err)
	}
	id2 := e.emit(note{2, "world"})

	for i, want := range []got{{note{1, "hello"}, client.Meta{ID: id1, ConnectionID: connID}}, {note{2, "world"}, client.Meta{ID: id2, ConnectionID: connID}}} {
		select {
		case g := <-notes:
			if g != want {
				t.Errorf("event %d: got %+v, want %+v", i, g, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("event %d: not received", i)
		}
	}
	if got := c.LastEventID(); got != id2 {
		t.Errorf("LastEventID() = %q, want %q", got, id2)
	}
	if err := r.stop(); !errors.Is(err, context.Canceled) {
		t.Errorf("Run: got %v, want context.Canceled", err)
	}
	if c.ConnectionID() != "" {
		t.Errorf("ConnectionID() = %q after Run returned, want empty", c.ConnectionID())
	}
	var de *client.DecodeError
	errs := rec.errors()
	if len(errs) != 1 || !errors.As(errs[0], &de) || de.Event != "note:new" {
		t.Errorf("OnError got %v, want one *DecodeError for note:new", errs)
	}
	if len(raw) != 1 || raw[0].Name != "sse:ready" {
		t.Errorf("OnRaw(sse:ready) got %v, want one event", raw)
	}
	rd := rec.readys[0]
	if rd.ConnectionID != connID || rd.UserID != "u1" || rd.TenantID != "t1" || rd.Heartbeat != 30*time.Second {
		t.Errorf("OnReady got %+v", rd)
	}
}

func TestUnsubscribe(t *testing.T) {
	e := newEnv(t, hub.Config{}, false)
	var rec recorder
	c := e.newClient(client.Config{Token: staticToken(u1Token(t)), OnReady: rec.onReady})
	var mu sync.Mutex
	var calls []string
	add := func(name string) func() {
		return client.On(c, noteNew, func(n note, _ client.Meta) {
			mu.Lock()
			defer mu.Unlock()
			calls = append(calls, fmt.Sprint(name, n.Seq))
		})
	}
	offA := add("a")
	add("b")
	start(t, c)
	waitFor(t, 5*time.Second, "sse:ready", func() bool { return rec.readyCount() == 1 })
	e.emit(note{Seq: 1})
	waitFor(t, 5*time.Second, "two calls", func() bool { mu.Lock(); defer mu.Unlock(); return len(calls) == 2 })
	offA()
	offA() // idempotent
	e.emit(note{Seq: 2})
	waitFor(t, 5*time.Second, "three calls", func() bool { mu.Lock(); defer mu.Unlock(); return len(calls) == 3 })
	mu.Lock()
	defer mu.Unlock()
	if want := []string{"a1", "b1", "b2"}; !slices.Equal(calls, want) {
		t.Errorf("calls: got %v, want %v", calls, want)
	}
}

// TestResume drops the connection again and again while events are
// published; the client must end up with exactly the published ids, in
// order.
func TestResume(t *testing.T) {
	for _, tc := range []struct {
		name string
		// standard serves streams on net/http's goroutines, where
		// CloseClientConnections reaches them; otherwise the client's side
		// of the socket is closed.
		standard bool
	}{
		{"server closes", true},
		{"connection dies", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, hub.Config{}, tc.standard)
			var conns struct {
				sync.Mutex
				list []net.Conn
			}
			tr := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				conn, err := (&net.Dialer{}).DialContext(ctx, network, addr)
				if err == nil {
					conns.Lock()
					conns.list = append(conns.list, conn)
					conns.Unlock()
				}
				return conn, err
			}}
			t.Cleanup(tr.CloseIdleConnections)
			drop := func() {
				if tc.standard {
					e.srv.CloseClientConnections()
					return
				}
				conns.Lock()
				defer conns.Unlock()
				for _, conn := range conns.list {
					conn.Close()
				}
				conns.list = nil
			}

			var rec recorder
			c := e.newClient(client.Config{
				Token: staticToken(u1Token(t)), HTTPClient: &http.Client{Transport: tr},
				OnReady: rec.onReady, OnError: rec.onError,
				Backoff: func(int) time.Duration { return time.Millisecond },
			})
			client.On(c, noteNew, func(_ note, m client.Meta) { rec.id(m.ID) })
			r := start(t, c)
			waitFor(t, 5*time.Second, "sse:ready", func() bool { return rec.readyCount() == 1 })

			const n = 300
			var want []string
			stopDrops := make(chan struct{})
			var wg sync.WaitGroup
			wg.Go(func() {
				for {
					select {
					case <-stopDrops:
						return
					case <-time.After(15 * time.Millisecond):
						drop()
					}
				}
			})
			for i := range n {
				want = append(want, e.emit(note{Seq: i}))
				if i%3 == 0 {
					time.Sleep(2 * time.Millisecond)
				}
			}
			close(stopDrops)
			wg.Wait()
			waitFor(t, 10*time.Second, fmt.Sprintf("%d events", n), func() bool { return len(rec.gotIDs()) >= n })
			time.Sleep(50 * time.Millisecond) // room for duplicates to show
			if got := rec.gotIDs(); !slices.Equal(got, want) {
				t.Errorf("got %d ids, want %d in publish order\ngot  %v\nwant %v", len(got), len(want), got, want)
			}
			if rec.readyCount() < 3 {
				t.Errorf("connected %d times, want several reconnects", rec.readyCount())
			}
			if c.LastEventID() != want[n-1] {
				t.Errorf("LastEventID() = %q, want %q", c.LastEventID(), want[n-1])
			}
			if err := r.stop(); !errors.Is(err, context.Canceled) {
				t.Errorf("Run: got %v, want context.Canceled", err)
			}
			t.Logf("%d connections, %d errors reported", rec.readyCount(), len(rec.errors()))
		})
	}
}
