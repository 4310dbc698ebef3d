package demo_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ssehub/ssehub/auth"
	"github.com/ssehub/ssehub/hub"
	"github.com/ssehub/ssehub/internal/server/demo"
	"github.com/ssehub/ssehub/sse"
	"github.com/ssehub/ssehub/ssehttp"
)

const secret = "demo-test-secret-demo-test-secret-0123"

// env is a hub with the stream endpoints and the demo on one test server.
type env struct {
	t   *testing.T
	url string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	h, err := hub.New(hub.Config{Logger: log, Heartbeat: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	jwt, err := auth.NewJWT(auth.JWTConfig{Secret: []byte(secret)})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	ssehttp.Mount(mux, ssehttp.Config{Hub: h, Authenticator: jwt, Logger: log})
	d, err := demo.New(demo.Config{Hub: h, Secret: []byte(secret), Interval: 50 * time.Millisecond, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	d.Register(mux)
	srv := httptest.NewServer(mux)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { d.Run(ctx) })
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		srv.CloseClientConnections()
		sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer scancel()
		_ = h.Shutdown(sctx)
		srv.Close()
	})
	return &env{t: t, url: srv.URL}
}

// do sends a JSON request and decodes a JSON answer into out (if not nil);
// it returns the status.
func (e *env) do(method, path, token string, body, out any) int {
	e.t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, e.url+path, r)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			e.t.Fatalf("%s %s: decode: %v", method, path, err)
		}
	}
	return resp.StatusCode
}

func (e *env) login(user string) string {
	e.t.Helper()
	var r struct{ Token string }
	if st := e.do("POST", "/api/demo/login", "", map[string]string{"user": user}, &r); st != 200 || r.Token == "" {
		e.t.Fatalf("login %s: %d", user, st)
	}
	return r.Token
}

// stream is an open /api/sse connection whose events arrive on a channel.
type stream struct {
	t      *testing.T
	connID string
	events chan sse.Event
}

func (e *env) stream(token, channels string) *stream {
	e.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", e.url+"/api/sse?channels="+channels, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		e.t.Fatalf("stream: %d", resp.StatusCode)
	}
	s := &stream{t: e.t, events: make(chan sse.Event, 256)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ev, err := range sse.NewDecoder(resp.Body).Events() {
			if err != nil {
				return
			}
			s.events <- ev
		}
	}()
	e.t.Cleanup(func() {
		cancel()
		resp.Body.Close()
		<-done
	})
	var ready struct{ ConnectionID string }
	s.next("sse:ready", &ready)
	s.connID = ready.ConnectionID
	return s
}

// next waits for the next event called name, skipping others, and decodes
// its data into v (if not nil).
func (s *stream) next(name string, v any) sse.Event {
	s.t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case ev := <-s.events:
			if ev.Name != name {
				continue
			}
			if v != nil {
				if err := json.Unmarshal([]byte(ev.Data), v); err != nil {
					s.t.Fatalf("%s: %v", name, err)
				}
			}
			return ev
		case <-timeout:
			s.t.Fatalf("no %s event within 5s", name)
			return sse.Event{}
		}
	}
}

// none fails if an event called name with data containing text arrives
// within d.
func (s *stream) none(name, text string, d time.Duration) {
	s.t.Helper()
	timeout := time.After(d)
	for {
		select {
		case ev := <-s.events:
			if ev.Name == name && strings.Contains(ev.Data, text) {
				s.t.Fatalf("got %s %s, want none", name, ev.Data)
			}
		case <-timeout:
			return
		}
	}
}

func TestLogin(t *testing.T) {
	e := newEnv(t)
	var users struct{ Users []demo.User }
	if st := e.do("GET", "/api/demo/users", "", nil, &users); st != 200 || len(users.Users) != 5 {
		t.Fatalf("users: %d %+v", st, users)
	}
	if st := e.do("POST", "/api/demo/login", "", map[string]string{"user": "mallory"}, nil); st != 400 {
		t.Errorf("unknown user: got %d, want 400", st)
	}
	if st := e.do("POST", "/api/demo/login", "", map[string]any{"user": "alice", "role": "admin"}, nil); st != 400 {
		t.Errorf("unknown field: got %d, want 400", st)
	}
	var r struct {
		Token string
		User  demo.User
	}
	e.do("POST", "/api/demo/login", "", map[string]string{"user": "bob"}, &r)
	if r.User.TenantID != "globex" {
		t.Errorf("bob's tenant: got %q, want globex", r.User.TenantID)
	}
	// The token is an ordinary ssehub token: it opens a stream in bob's tenant.
	s := e.stream(r.Token, "conversation:general")
	_ = s
	if st := e.do("GET", "/api/demo/state", "", nil, nil); st != 401 {
		t.Errorf("state without a token: got %d, want 401", st)
	}
	var state struct {
		Tenant        struct{ ID string }
		Conversations []struct {
			ID       string
			Messages []demo.Message
		}
		Invoices []demo.Invoice
	}
	e.do("GET", "/api/demo/state", r.Token, nil, &state)
	if state.Tenant.ID != "globex" || len(state.Conversations) != 2 || len(state.Conversations[0].Messages) == 0 || len(state.Invoices) == 0 {
		t.Errorf("bob's state: %+v", state)
	}
}

func TestChatStaysInTheTenant(t *testing.T) {
	e := newEnv(t)
	alice, carol, bob := e.login("alice"), e.login("carol"), e.login("bob")
	sa, sc, sb := e.stream(alice, "conversation:general"), e.stream(carol, "conversation:general"), e.stream(bob, "conversation:general")

	var sent struct{ Message demo.Message }
	if st := e.do("POST", "/api/demo/messages", alice, map[string]string{"conversationId": "general", "text": "  hi carol  "}, &sent); st != 201 {
		t.Fatalf("send: %d", st)
	}
	for _, s := range []*stream{sc, sa} { // the sender's connection gets it too
		var got demo.ChatMessage
		s.next("chat:message", &got)
		if got.ConversationID != "general" || got.Message.Text != "hi carol" || got.Message.Sender.ID != "alice" || got.Message.ID != sent.Message.ID {
			t.Errorf("chat:message: got %+v", got)
		}
	}
	sb.none("chat:message", "hi carol", 300*time.Millisecond)

	// Typing reaches carol, not the sender's own connection.
	var typing struct{ Coalesced bool }
	if st := e.do("POST", "/api/demo/typing", alice, map[string]any{"conversationId": "general", "isTyping": true, "connectionId": sa.connID}, &typing); st != 202 || typing.Coalesced {
		t.Fatalf("typing: %d coalesced=%v", st, typing.Coalesced)
	}
	var ct demo.ChatTyping
	sc.next("chat:typing", &ct)
	if ct != (demo.ChatTyping{ConversationID: "general", UserID: "alice", IsTyping: true}) {
		t.Errorf("chat:typing: got %+v", ct)
	}
	sa.none("chat:typing", "alice", 200*time.Millisecond)

	// Within the coalescing window the next one is held, then delivered.
	e.do("POST", "/api/demo/typing", alice, map[string]any{"conversationId": "general", "isTyping": false, "connectionId": sa.connID}, &typing)
	if !typing.Coalesced {
		t.Errorf("second typing within 1s: not coalesced")
	}
	sc.next("chat:typing", &ct)
	if ct.IsTyping {
		t.Errorf("final typing state: got %+v, want isTyping false", ct)
	}

	for _, tc := range []struct {
		token string
		body  map[string]string
		want  int
	}{
		{alice, map[string]string{"conversationId": "general", "text": "   "}, 400},
		{alice, map[string]string{"conversationId": "support", "text": "x"}, 400}, // globex's, not acme's
		{e.login("admin"), map[string]string{"conversationId": "general", "text": "x"}, 403},
	} {
		if st := e.do("POST", "/api/demo/messages", tc.token, tc.body, nil); st != tc.want {
			t.Errorf("send %v: got %d, want %d", tc.body, st, tc.want)
		}
	}
}

func TestInvoiceReachesTheTenantAndNotifiesTeammates(t *testing.T) {
	e := newEnv(t)
	alice, carol, bob := e.login("alice"), e.login("carol"), e.login("bob")
	sa, sc, sb := e.stream(alice, ""), e.stream(carol, ""), e.stream(bob, "")

	var created struct{ Invoice demo.Invoice }
	if st := e.do("POST", "/api/demo/invoices", carol, map[string]any{"customerId": "hooli", "amount": 123456}, &created); st != 201 {
		t.Fatalf("create: %d", st)
	}
	inv := created.Invoice
	if !strings.HasPrefix(inv.Number, "INV-") || inv.Total != (demo.Money{Amount: 123456, Currency: "EUR"}) || inv.Customer.Name != "Hooli" {
		t.Errorf("invoice: %+v", inv)
	}
	for _, s := range []*stream{sa, sc} {
		var u demo.DataUpdate
		s.next("data:update", &u)
		if u.Entity != "invoice" || u.Action != "create" || u.ID != inv.ID || u.Data == nil || u.Data.Number != inv.Number {
			t.Errorf("data:update: %+v", u)
		}
	}
	var n demo.Notification
	sa.next("notification:new", &n)
	if n.Title != "New invoice "+inv.Number || n.Message != "Carol invoiced Hooli €1,234.56." {
		t.Errorf("notification: %+v", n)
	}
	sc.none("notification:new", inv.Number, 200*time.Millisecond) // not to the creator
	sb.none("data:update", inv.ID, 200*time.Millisecond)

	var state struct{ Invoices []demo.Invoice }
	e.do("GET", "/api/demo/state", alice, nil, &state)
	if len(state.Invoices) == 0 || state.Invoices[0].ID != inv.ID {
		t.Errorf("state: the new invoice is not first: %+v", state.Invoices)
	}
	if st := e.do("POST", "/api/demo/invoices", carol, map[string]any{"customerId": "wayne", "amount": 100}, nil); st != 400 {
		t.Errorf("another tenant's customer: got %d, want 400", st)
	}
	if st := e.do("POST", "/api/demo/invoices", carol, map[string]any{"customerId": "hooli", "amount": 0}, nil); st != 400 {
		t.Errorf("zero amount: got %d, want 400", st)
	}
}

func TestNudgeAndAnnouncement(t *testing.T) {
	e := newEnv(t)
	alice, carol, bob, admin := e.login("alice"), e.login("carol"), e.login("bob"), e.login("admin")
	sa, sb := e.stream(alice, ""), e.stream(bob, "")

	if st := e.do("POST", "/api/demo/nudges", carol, map[string]string{"userId": "alice"}, nil); st != 202 {
		t.Fatalf("nudge: %d", st)
	}
	var n demo.Notification
	sa.next("notification:new", &n)
	if n.Title != "Carol nudged you" || n.From == nil || n.From.ID != "carol" {
		t.Errorf("nudge: %+v", n)
	}
	if st := e.do("POST", "/api/demo/nudges", carol, map[string]string{"userId": "bob"}, nil); st != 400 {
		t.Errorf("nudging another tenant's user: got %d, want 400", st)
	}

	body := map[string]string{"message": "Maintenance at 22:00", "type": "warning"}
	if st := e.do("POST", "/api/demo/announcements", alice, body, nil); st != 403 {
		t.Errorf("announcement by a user: got %d, want 403", st)
	}
	if st := e.do("POST", "/api/demo/announcements", admin, body, nil); st != 202 {
		t.Fatalf("announcement: %d", st)
	}
	for _, s := range []*stream{sa, sb} { // a broadcast: every tenant
		var a demo.Announcement
		s.next("system:announcement", &a)
		if a != (demo.Announcement{Message: "Maintenance at 22:00", Type: "warning"}) {
			t.Errorf("announcement: %+v", a)
		}
	}
}

func TestRunPublishesStatsAndPresence(t *testing.T) {
	e := newEnv(t)
	alice := e.login("alice")
	sa := e.stream(alice, "presence:carol")
	sc := e.stream(e.login("carol"), "")

	var p demo.Presence
	sa.next("presence:update", &p)
	if p.UserID != "carol" || p.Status != "online" {
		t.Errorf("presence: %+v", p)
	}

	ops := e.stream(e.login("admin"), demo.OpsChannel)
	var st demo.OpsStats
	ops.next("ops:stats", &st)
	if st.Stats.TotalClients != 3 || st.Stats.ClientsByTenant["acme"] != 2 || st.Stats.ClientsByTenant[demo.OpsTenant] != 1 {
		t.Errorf("stats: %+v", st.Stats)
	}
	if st.Stats.ClientsByUser != nil || len(st.Stats.Nodes) != 1 || st.Queue.Conns != 3 || st.Queue.Cap == 0 || st.Source == "" {
		t.Errorf("stats: %+v queue %+v", st.Stats, st.Queue)
	}
	sc.none("ops:stats", "", 150*time.Millisecond) // only tenant _ops gets them
}

// TestPresenceReachesLateSubscribers subscribes to carol's presence only
// after her coming online was published: the periodic refresh still tells
// the subscriber she is online (within the 5 s coalescing window of
// presence:update).
func TestPresenceReachesLateSubscribers(t *testing.T) {
	e := newEnv(t)
	first := e.stream(e.login("alice"), "presence:carol")
	e.stream(e.login("carol"), "")
	var p demo.Presence
	first.next("presence:update", &p) // the change is out
	late := e.stream(e.login("alice"), "presence:carol")
	deadline := time.After(8 * time.Second)
	for {
		select {
		case ev := <-late.events:
			if ev.Name != "presence:update" {
				continue
			}
			if err := json.Unmarshal([]byte(ev.Data), &p); err != nil || p.UserID != "carol" || p.Status != "online" {
				t.Fatalf("presence: %s (%v)", ev.Data, err)
			}
			return
		case <-deadline:
			t.Fatal("a subscriber that came after the change never learnt carol is online")
		}
	}
}

func TestPages(t *testing.T) {
	e := newEnv(t)
	get := func(path string, h map[string]string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest("GET", e.url+path, nil)
		for k, v := range h {
			req.Header.Set(k, v)
		}
		// Go's transport asks for gzip and decodes it unless told otherwise.
		tr := &http.Transport{DisableCompression: true}
		resp, err := (&http.Client{Transport: tr}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	for _, path := range []string{"/", "/dashboard"} {
		resp := get(path, nil)
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") ||
			!bytes.Contains(body, []byte(`src="/assets/app.js"`)) || resp.Header.Get("Content-Security-Policy") == "" {
			t.Errorf("GET %s: %d %v %.80q", path, resp.StatusCode, resp.Header, body)
		}
	}
	js := get("/assets/app.js", map[string]string{"Accept-Encoding": "gzip"})
	if js.StatusCode != 200 || js.Header.Get("Content-Encoding") != "gzip" || !strings.HasPrefix(js.Header.Get("Content-Type"), "text/javascript") {
		t.Errorf("app.js: %d %v", js.StatusCode, js.Header)
	}
	if again := get("/assets/app.js", map[string]string{"Accept-Encoding": "gzip", "If-None-Match": js.Header.Get("ETag")}); again.StatusCode != 304 {
		t.Errorf("app.js revalidated: got %d, want 304", again.StatusCode)
	}
	if plain := get("/assets/app.css", nil); plain.StatusCode != 200 || plain.Header.Get("Content-Encoding") != "" {
		t.Errorf("app.css without gzip: %d %v", plain.StatusCode, plain.Header)
	}
	for _, path := range []string{"/assets/nope.js", "/nope"} {
		if r := get(path, nil); r.StatusCode != 404 {
			t.Errorf("GET %s: got %d, want 404", path, r.StatusCode)
		}
	}
}
