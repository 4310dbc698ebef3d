package ssehttp_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"iter"
	"net"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ssehub/ssehub/hub"
	"github.com/ssehub/ssehub/sse"
)

func TestStreamHeadersAndReady(t *testing.T) {
	e := newEnv(t, hub.Config{Heartbeat: time.Hour, Retry: 1500 * time.Millisecond})
	c := e.open(userToken(t, "t1", "u1", "conversation:*"), "channels=conversation:1,conversation:2")
	h := c.resp.Header
	for k, want := range map[string]string{
		"Content-Type":      "text/event-stream; charset=utf-8",
		"Cache-Control":     "no-cache, no-transform",
		"X-Accel-Buffering": "no",
		"Connection":        "keep-alive",
	} {
		if got := h.Get(k); got != want && !(k == "Connection" && got == "") {
			t.Errorf("header %s: got %q, want %q", k, got, want)
		}
	}
	if got := h.Get("Content-Encoding"); got != "" {
		t.Errorf("Content-Encoding: got %q, want none sent", got)
	}
	r := c.ready
	if r.UserID != "u1" || r.TenantID != "t1" || r.ConnectionID == "" || r.HeartbeatMs != 3600000 {
		t.Errorf("sse:ready: got %+v", r)
	}
	if !slices.Equal(r.Channels, []string{"conversation:1", "conversation:2"}) {
		t.Errorf("sse:ready channels: got %v", r.Channels)
	}
}

func TestStreamFirstBytesAreRetryAndReady(t *testing.T) {
	e := newEnv(t, hub.Config{Heartbeat: time.Hour, Retry: 1500 * time.Millisecond})
	conn, err := net.Dial("tcp", e.srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "GET /api/sse HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n\r\n", userToken(t, "t1", "u1"))
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	br := bufio.NewReader(conn)
	var lines []string
	for {
		l, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("read: %v (got %q)", err, lines)
		}
		lines = append(lines, strings.TrimRight(l, "\r\n"))
		if strings.HasPrefix(l, "data: ") {
			break
		}
	}
	body := strings.Join(lines, "\n")
	// Chunked encoding puts a size line before the data; look for the fields in order.
	iRetry, iReady := strings.Index(body, "retry: 1500"), strings.Index(body, "event: sse:ready")
	if iRetry < 0 || iReady < iRetry {
		t.Fatalf("first bytes: want retry: 1500 then event: sse:ready, got:\n%s", body)
	}
}

// world opens connections in two tenants that share user ids and channel
// names, so that any leak across tenants shows.
type world struct {
	e       *env
	clients map[string]*client // "tenant/user/n"
}

func newWorld(t *testing.T) *world {
	e := newEnv(t, hub.Config{Heartbeat: time.Hour, MaxConnsPerUser: 5})
	w := &world{e: e, clients: map[string]*client{}}
	for _, spec := range []struct{ name, tenant, user, chans string }{
		{"t1/u1/a", "t1", "u1", "room:1"},
		{"t1/u1/b", "t1", "u1", ""},
		{"t1/u2/a", "t1", "u2", "room:1,room:2"},
		{"t1/u3/a", "t1", "u3", "room:2"},
		{"t2/u1/a", "t2", "u1", "room:1"},
		{"t2/u2/a", "t2", "u2", "room:2"},
	} {
		c := e.open(userToken(t, spec.tenant, spec.user, "room:*"), "channels="+spec.chans)
		c.name = spec.name
		w.clients[spec.name] = c
	}
	return w
}

// expect publishes and checks exactly the named clients receive it.
func (w *world) expect(t *testing.T, body map[string]any, want ...string) {
	t.Helper()
	id := w.e.mustPublish(adminToken(t), body)
	for name, c := range w.clients {
		got := c.drain(150 * time.Millisecond)
		should := slices.Contains(want, name)
		switch {
		case should && len(got) != 1:
			t.Errorf("%s: got %d events, want 1", name, len(got))
		case should && (got[0].ID != id || got[0].Name != body["event"]):
			t.Errorf("%s: got %s %s, want %s %s", name, got[0].ID, got[0].Name, id, body["event"])
		case !should && len(got) != 0:
			t.Errorf("%s: got %d events (%v), want none", name, len(got), got)
		}
	}
}

func TestTargetsAndTenantIsolation(t *testing.T) {
	w := newWorld(t)
	data := map[string]any{"x": 1}
	t.Run("user", func(t *testing.T) {
		w.expect(t, ev("a:b", "t1", map[string]any{"userId": "u1"}, data), "t1/u1/a", "t1/u1/b")
	})
	t.Run("same user id in the other tenant", func(t *testing.T) {
		w.expect(t, ev("a:b", "t2", map[string]any{"userId": "u1"}, data), "t2/u1/a")
	})
	t.Run("users", func(t *testing.T) {
		w.expect(t, ev("a:b", "t1", map[string]any{"userIds": []string{"u2", "u3", "u2", "nobody"}}, data), "t1/u2/a", "t1/u3/a")
	})
	t.Run("tenant", func(t *testing.T) {
		w.expect(t, ev("a:b", "t2", map[string]any{"tenantId": "t2"}, data), "t2/u1/a", "t2/u2/a")
	})
	t.Run("channel", func(t *testing.T) {
		w.expect(t, ev("a:b", "t1", map[string]any{"channel": "room:1"}, data), "t1/u1/a", "t1/u2/a")
	})
	t.Run("channel in the other tenant", func(t *testing.T) {
		w.expect(t, ev("a:b", "t2", map[string]any{"channel": "room:1"}, data), "t2/u1/a")
	})
	t.Run("broadcast", func(t *testing.T) {
		all := make([]string, 0, len(w.clients))
		for n := range w.clients {
			all = append(all, n)
		}
		w.expect(t, ev("system:announcement", "", map[string]any{"broadcast": true}, data), all...)
	})
	t.Run("exclude connection", func(t *testing.T) {
		body := ev("a:b", "t1", map[string]any{"userId": "u1"}, data)
		body["excludeConnectionId"] = w.clients["t1/u1/a"].ready.ConnectionID
		w.expect(t, body, "t1/u1/b")
	})
	t.Run("payload byte for byte", func(t *testing.T) {
		raw := `{"event":"a:b","tenantId":"t1","target":{"userId":"u3"},"data":{"text":"line1\nline2","n":[1,2.50,null]}}`
		w.e.mustPublish(adminToken(t), raw)
		got := w.clients["t1/u3/a"].next(2 * time.Second)
		if want := `{"text":"line1\nline2","n":[1,2.50,null]}`; got.Data != want {
			t.Errorf("data: got %s, want %s", got.Data, want)
		}
	})
}

func TestSubscriptionsChangeLiveConnection(t *testing.T) {
	e := newEnv(t, hub.Config{Heartbeat: time.Hour})
	tok := userToken(t, "t1", "u1", "room:*")
	c := e.open(tok, "")
	r := e.do("POST", "/api/sse/subscriptions", tok, map[string]any{"connectionId": c.ready.ConnectionID, "subscribe": []string{"room:9"}})
	if r.Status != 200 {
		t.Fatalf("subscribe: got %d %s", r.Status, r.Raw)
	}
	id := e.mustPublish(adminToken(t), ev("a:b", "t1", map[string]any{"channel": "room:9"}, 1))
	if got := c.next(2 * time.Second); got.ID != id {
		t.Fatalf("after subscribe: got %q, want %q", got.ID, id)
	}
	// Not permitted by the token's channel patterns.
	if r := e.do("POST", "/api/sse/subscriptions", tok, map[string]any{"connectionId": c.ready.ConnectionID, "subscribe": []string{"secret"}}); r.Status != 403 {
		t.Errorf("subscribe to a forbidden channel: got %d %s, want 403", r.Status, r.Raw)
	}
	// Another user may not touch the connection, even in the same tenant.
	other := userToken(t, "t1", "u2", "*")
	if r := e.do("POST", "/api/sse/subscriptions", other, map[string]any{"connectionId": c.ready.ConnectionID, "unsubscribe": []string{"room:9"}}); r.Status != 404 {
		t.Errorf("another user's connection: got %d %s, want 404", r.Status, r.Raw)
	}
	r = e.do("POST", "/api/sse/subscriptions", tok, map[string]any{"connectionId": c.ready.ConnectionID, "unsubscribe": []string{"room:9"}})
	if r.Status != 200 {
		t.Fatalf("unsubscribe: got %d %s", r.Status, r.Raw)
	}
	e.mustPublish(adminToken(t), ev("a:b", "t1", map[string]any{"channel": "room:9"}, 2))
	if got := c.drain(200 * time.Millisecond); len(got) != 0 {
		t.Fatalf("after unsubscribe: got %v, want nothing", got)
	}
}

func TestHeartbeat(t *testing.T) {
	e := newEnv(t, hub.Config{Heartbeat: 50 * time.Millisecond})
	c := e.open(userToken(t, "t1", "u1"), "")
	beats := 0
	deadline := time.After(3 * time.Second)
	for beats < 3 {
		select {
		case ev := <-c.events:
			if ev.Name == "" && ev.Comment == "heartbeat" {
				beats++
			}
		case <-deadline:
			t.Fatalf("got %d heartbeats in 3s, want 3 at a 50ms interval", beats)
		}
	}
}

func TestPerUserLimitEvictsOldest(t *testing.T) {
	e := newEnv(t, hub.Config{Heartbeat: time.Hour, MaxConnsPerUser: 2})
	tok := userToken(t, "t1", "u1")
	c1 := e.open(tok, "")
	c2 := e.open(tok, "")
	c3 := e.open(tok, "")
	evs := c1.waitClosed(5 * time.Second)
	if len(evs) != 1 || evs[0].Name != "sse:evicted" {
		t.Fatalf("oldest connection: got %v, want sse:evicted then close", evs)
	}
	// The same user in another tenant is another user.
	e.open(userToken(t, "t2", "u1"), "")
	id := e.mustPublish(adminToken(t), ev("a:b", "t1", map[string]any{"userId": "u1"}, 1))
	for _, c := range []*client{c2, c3} {
		if got := c.next(2 * time.Second); got.ID != id {
			t.Fatalf("remaining connection: got %v, want %s", got, id)
		}
	}
	if s := e.hub.Stats(); s.ClientsByUser["t1/u1"] != 2 || s.ClientsByUser["t2/u1"] != 1 || s.Evicted != 1 {
		t.Fatalf("stats: got %v evicted %d, want t1/u1:2 t2/u1:1 evicted 1", s.ClientsByUser, s.Evicted)
	}
}

func TestPerUserLimitReject(t *testing.T) {
	e := newEnv(t, hub.Config{Heartbeat: time.Hour, MaxConnsPerUser: 1, UserLimitPolicy: hub.Reject, RetryAfter: 7 * time.Second})
	tok := userToken(t, "t1", "u1")
	e.open(tok, "")
	c, resp := e.tryOpen(tok, "")
	if c != nil || resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "7" {
		t.Fatalf("second connection: got %d Retry-After %q, want 429 and 7", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	assertJSONError(t, resp, "too_many_connections")
}

func TestTotalLimit(t *testing.T) {
	t.Run("reject", func(t *testing.T) {
		e := newEnv(t, hub.Config{Heartbeat: time.Hour, MaxConns: 2})
		e.open(userToken(t, "t1", "u1"), "")
		e.open(userToken(t, "t1", "u2"), "")
		c, resp := e.tryOpen(userToken(t, "t2", "u3"), "")
		if c != nil || resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" {
			t.Fatalf("third connection: got %d, want 429 with Retry-After", resp.StatusCode)
		}
		assertJSONError(t, resp, "too_many_connections")
	})
	t.Run("evict oldest", func(t *testing.T) {
		e := newEnv(t, hub.Config{Heartbeat: time.Hour, MaxConns: 2, TotalLimitPolicy: hub.EvictOldest})
		c1 := e.open(userToken(t, "t1", "u1"), "")
		e.open(userToken(t, "t1", "u2"), "")
		e.open(userToken(t, "t2", "u3"), "")
		if evs := c1.waitClosed(5 * time.Second); len(evs) != 1 || evs[0].Name != "sse:evicted" {
			t.Fatalf("oldest: got %v, want sse:evicted", evs)
		}
		if n := e.hub.Stats().TotalClients; n != 2 {
			t.Fatalf("total clients: got %d, want 2", n)
		}
	})
}

func TestDisableEnable(t *testing.T) {
	e := newEnv(t, hub.Config{Heartbeat: time.Hour})
	c := e.open(userToken(t, "t1", "u1"), "")
	if r := e.do("POST", "/api/admin/sse/disable", userToken(t, "t1", "u1"), nil); r.Status != 403 {
		t.Fatalf("disable as a user: got %d, want 403", r.Status)
	}
	if r := e.do("POST", "/api/admin/sse/disable", adminToken(t), nil); r.Status != 200 {
		t.Fatalf("disable: got %d %s", r.Status, r.Raw)
	}
	if evs := c.waitClosed(5 * time.Second); len(evs) != 1 || evs[0].Name != "sse:disabled" {
		t.Fatalf("open stream: got %v, want sse:disabled then close", evs)
	}
	c2, resp := e.tryOpen(userToken(t, "t1", "u1"), "")
	if c2 != nil || resp.StatusCode != 503 {
		t.Fatalf("new stream while disabled: got %d, want 503", resp.StatusCode)
	}
	assertJSONError(t, resp, "sse_disabled")
	if r := e.do("POST", "/api/admin/sse/enable", adminToken(t), nil); r.Status != 200 {
		t.Fatalf("enable: got %d", r.Status)
	}
	e.open(userToken(t, "t1", "u1"), "")
}

func TestStatsAndHealth(t *testing.T) {
	e := newEnv(t, hub.Config{Heartbeat: time.Hour})
	e.open(userToken(t, "t1", "u1"), "")
	e.open(userToken(t, "t1", "u2"), "")
	e.open(userToken(t, "t2", "u1"), "")
	e.mustPublish(adminToken(t), ev("a:b", "t1", map[string]any{"tenantId": "t1"}, 1))
	waitFor(t, 2*time.Second, "delivery", func() bool { return e.hub.Stats().EventsDelivered == 2 })
	r := e.do("GET", "/api/sse/stats", adminToken(t), nil)
	if r.Status != 200 {
		t.Fatalf("stats: got %d", r.Status)
	}
	if r.Body["totalClients"] != 3.0 || r.Body["eventsPublished"] != 1.0 || r.Body["eventsDelivered"] != 2.0 {
		t.Fatalf("stats: got %s", r.Raw)
	}
	byT := r.Body["clientsByTenant"].(map[string]any)
	if byT["t1"] != 2.0 || byT["t2"] != 1.0 {
		t.Fatalf("clientsByTenant: got %v", byT)
	}
	if r := e.do("GET", "/api/sse/stats", publisherToken(t, "t1"), nil); r.Status != 403 {
		t.Fatalf("stats as a publisher: got %d, want 403", r.Status)
	}
	for _, p := range []string{"/healthz", "/readyz"} {
		if r := e.do("GET", p, "", nil); r.Status != 200 {
			t.Fatalf("%s: got %d", p, r.Status)
		}
	}
}

// TestSlowConsumerClosedAndReleased opens a stream that never reads and
// floods it: the hub must close it instead of buffering without bound.
func TestSlowConsumerClosedAndReleased(t *testing.T) {
	e := newEnv(t, hub.Config{Heartbeat: time.Hour, QueueSize: 16, WriteTimeout: 300 * time.Millisecond})
	conn, err := net.Dial("tcp", e.srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.(*net.TCPConn).SetReadBuffer(4096)
	fmt.Fprintf(conn, "GET /api/sse HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n\r\n", userToken(t, "t1", "slow"))
	waitFor(t, 2*time.Second, "the slow connection", func() bool { return e.hub.Stats().TotalClients == 1 })
	fast := e.open(userToken(t, "t1", "fast"), "")
	big := strings.Repeat("x", 32<<10)
	pub := adminToken(t)
	for i := 0; i < 200 && e.hub.Stats().TotalClients > 1; i++ {
		e.mustPublish(pub, ev("a:b", "t1", map[string]any{"tenantId": "t1"}, map[string]any{"pad": big, "i": i}))
	}
	waitFor(t, 5*time.Second, "the slow consumer to be closed", func() bool {
		s := e.hub.Stats()
		return s.ClientsByUser["t1/slow"] == 0
	})
	// The fast client is unaffected and still connected.
	if got := fast.drain(300 * time.Millisecond); len(got) == 0 {
		t.Fatal("fast client received nothing")
	}
	if s := e.hub.Stats(); s.ClientsByUser["t1/fast"] != 1 {
		t.Fatalf("fast client: got %v, want still connected", s.ClientsByUser)
	}
}

// TestEverythingReleased checks that after all clients leave, the registry
// is empty and the goroutines are back to where they started.
func TestEverythingReleased(t *testing.T) {
	e := newEnv(t, hub.Config{Heartbeat: 20 * time.Millisecond})
	runtime.GC()
	before := runtime.NumGoroutine()
	fdsBefore := openFiles()
	var cs []*client
	for i := range 30 {
		cs = append(cs, e.open(userToken(t, fmt.Sprintf("t%d", i%3), fmt.Sprintf("u%d", i%7), "*"), fmt.Sprintf("channels=c%d,d%d", i%4, i%5)))
	}
	if s := e.hub.Sizes(); s.Conns != 30 || s.Channels == 0 {
		t.Fatalf("sizes with 30 clients: %+v", s)
	}
	e.mustPublish(adminToken(t), ev("a:b", "", map[string]any{"broadcast": true}, 1))
	for _, c := range cs {
		c.next(2 * time.Second)
		c.close()
	}
	waitFor(t, 5*time.Second, "registry to empty", func() bool { return e.hub.Sizes() == hub.Sizes{} })
	e.srv.CloseClientConnections()
	waitFor(t, 5*time.Second, "goroutines to return", func() bool { return runtime.NumGoroutine() <= before })
	waitFor(t, 5*time.Second, "file descriptors to return", func() bool { return openFiles() <= fdsBefore })
}

// openFiles counts this process's open file descriptors, or returns 0
// where /proc is missing.
func openFiles() int {
	fds, _ := os.ReadDir("/proc/self/fd")
	return len(fds)
}

// TestBackpressuredStreamArrivesIntact fills a stream's socket while its
// client is not reading, so the hub's writers find it full and resume
// each write later, part by part: once the client reads, every event
// arrives whole, in order, under valid chunked framing.
func TestBackpressuredStreamArrivesIntact(t *testing.T) {
	e := newEnv(t, hub.Config{Heartbeat: time.Hour, QueueSize: 512})
	conn, err := net.Dial("tcp", e.srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.(*net.TCPConn).SetReadBuffer(64 << 10)
	fmt.Fprintf(conn, "GET /api/sse HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n\r\n", userToken(t, "t1", "reader"))
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	dec := sse.NewDecoder(resp.Body) // net/http checks the chunked framing
	next, stop := iter.Pull2(dec.Events())
	defer stop()
	if ev, err, _ := next(); err != nil || ev.Name != "sse:ready" {
		t.Fatalf("first event: %q %v", ev.Name, err)
	}
	const n = 120
	pad := strings.Repeat("y", 40<<10) // 4.8 MB in all: more than the sockets hold
	pub := adminToken(t)
	for i := range n {
		e.mustPublish(pub, ev("a:b", "t1", map[string]any{"userId": "reader"}, map[string]any{"i": i, "pad": pad}))
	}
	time.Sleep(300 * time.Millisecond) // the writers meet a full socket
	for i := range n {
		ev, err, ok := next()
		if !ok || err != nil {
			t.Fatalf("event %d: stream ended: %v", i, err)
		}
		var got struct {
			I   int    `json:"i"`
			Pad string `json:"pad"`
		}
		if err := json.Unmarshal([]byte(ev.Data), &got); err != nil || got.I != i || got.Pad != pad {
			t.Fatalf("event %d: got i=%d, %d bytes of padding, err %v", i, got.I, len(got.Pad), err)
		}
	}
	if s := e.hub.Stats(); s.ClientsByUser["t1/reader"] != 1 {
		t.Fatalf("after reading: got %v, want the reader still connected", s.ClientsByUser)
	}
}
