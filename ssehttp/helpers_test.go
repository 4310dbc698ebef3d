package ssehttp_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ssehub/ssehub/auth"
	"github.com/ssehub/ssehub/hub"
	"github.com/ssehub/ssehub/sse"
	"github.com/ssehub/ssehub/ssehttp"
)

var secret = []byte("test-secret-test-secret-test-secret!")

// env is a real hub behind a real HTTP server on a loopback port.
type env struct {
	t   *testing.T
	hub *hub.Hub
	srv *httptest.Server
	url string
}

func newEnv(t *testing.T, hc hub.Config, mod ...func(*ssehttp.Config)) *env {
	t.Helper()
	return newMuxEnv(t, hc, func(mux *http.ServeMux, _ ssehttp.Config) http.Handler { return mux }, mod...)
}

// newMuxEnv is newEnv with the handler built by wrap from the mux that has
// every handler mounted (for middleware such as CORS).
func newMuxEnv(t *testing.T, hc hub.Config, wrap func(*http.ServeMux, ssehttp.Config) http.Handler, mod ...func(*ssehttp.Config)) *env {
	t.Helper()
	if hc.Logger == nil {
		hc.Logger = slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	h, err := hub.New(hc)
	if err != nil {
		t.Fatalf("hub.New: %v", err)
	}
	jwt, err := auth.NewJWT(auth.JWTConfig{Secret: secret})
	if err != nil {
		t.Fatalf("NewJWT: %v", err)
	}
	// scripts/test.sh runs this package twice: once with streams handed to
	// the hub's writers (the default), once on the standard path.
	cfg := ssehttp.Config{Hub: h, Authenticator: jwt, StandardStreams: os.Getenv("SSEHUB_TEST_STANDARD_STREAMS") == "1"}
	for _, m := range mod {
		m(&cfg)
	}
	mux := http.NewServeMux()
	ssehttp.Mount(mux, cfg)
	srv := httptest.NewServer(wrap(mux, cfg))
	e := &env{t: t, hub: h, srv: srv, url: srv.URL}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := h.Shutdown(ctx); err != nil {
			t.Errorf("hub.Shutdown: %v", err)
		}
		srv.Close()
		_ = jwt.Close()
	})
	return e
}

func token(t *testing.T, c auth.Claims, ttl time.Duration) string {
	t.Helper()
	tok, err := auth.Mint(secret, c, ttl)
	if err != nil {
		t.Fatalf("Mint: %v", err)
	}
	return tok
}

func userToken(t *testing.T, tenant, user string, channels ...string) string {
	return token(t, auth.Claims{Subject: user, TenantID: tenant, Channels: channels}, time.Hour)
}

func adminToken(t *testing.T) string {
	return token(t, auth.Claims{Subject: "admin", Roles: []string{auth.RoleAdmin}, Global: true}, time.Hour)
}

func publisherToken(t *testing.T, tenant string) string {
	return token(t, auth.Claims{Subject: "backend", TenantID: tenant, Roles: []string{auth.RolePublisher}}, time.Hour)
}

// client is one open stream.
type client struct {
	t      *testing.T
	name   string
	resp   *http.Response
	cancel context.CancelFunc
	events chan sse.Event
	done   chan struct{}
	ready  readyData
}

type readyData struct {
	ConnectionID string   `json:"connectionId"`
	UserID       string   `json:"userId"`
	TenantID     string   `json:"tenantId"`
	Channels     []string `json:"channels"`
	HeartbeatMs  int64    `json:"heartbeatMs"`
}

// open opens a stream and waits for sse:ready. It fails the test unless
// the answer is 200.
func (e *env) open(tok, query string, hdr ...string) *client {
	e.t.Helper()
	c, resp := e.tryOpen(tok, query, hdr...)
	if c == nil {
		body, _ := io.ReadAll(resp.Body)
		e.t.Fatalf("open stream: got %d %s, want 200", resp.StatusCode, body)
	}
	return c
}

// tryOpen returns (nil, resp) when the answer is not 200.
func (e *env) tryOpen(tok, query string, hdr ...string) (*client, *http.Response) {
	e.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", e.url+"/api/sse?"+query, nil)
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		cancel()
		e.t.Fatalf("GET /api/sse: %v", err)
	}
	if resp.StatusCode != 200 {
		cancel()
		e.t.Cleanup(func() { resp.Body.Close() })
		return nil, resp
	}
	c := &client{t: e.t, resp: resp, cancel: cancel, events: make(chan sse.Event, 4096), done: make(chan struct{})}
	go func() {
		defer close(c.done)
		defer close(c.events)
		dec := sse.NewDecoder(resp.Body)
		dec.Comments = true
		for ev, err := range dec.Events() {
			if err != nil {
				return
			}
			c.events <- ev
		}
	}()
	e.t.Cleanup(c.close)
	ev := c.next(5 * time.Second)
	if ev.Name != "sse:ready" {
		e.t.Fatalf("first event: got %q, want sse:ready", ev.Name)
	}
	if err := json.Unmarshal([]byte(ev.Data), &c.ready); err != nil {
		e.t.Fatalf("sse:ready data %q: %v", ev.Data, err)
	}
	return c, resp
}

func (c *client) close() {
	c.cancel()
	<-c.done
	c.resp.Body.Close()
}

// next returns the next event that is not a comment.
func (c *client) next(timeout time.Duration) sse.Event {
	c.t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case ev, ok := <-c.events:
			if !ok {
				c.t.Fatalf("%s: stream ended, want an event", c.name)
			}
			if ev.Name == "" {
				continue
			}
			return ev
		case <-deadline:
			c.t.Fatalf("%s: no event within %v", c.name, timeout)
		}
	}
}

// drain returns the events (not comments) that arrive within d.
func (c *client) drain(d time.Duration) []sse.Event {
	var out []sse.Event
	deadline := time.After(d)
	for {
		select {
		case ev, ok := <-c.events:
			if !ok {
				return out
			}
			if ev.Name != "" {
				out = append(out, ev)
			}
		case <-deadline:
			return out
		}
	}
}

// waitClosed waits for the server to end the stream and returns the events
// that came before the end.
func (c *client) waitClosed(timeout time.Duration) []sse.Event {
	c.t.Helper()
	var out []sse.Event
	deadline := time.After(timeout)
	for {
		select {
		case ev, ok := <-c.events:
			if !ok {
				return out
			}
			if ev.Name != "" {
				out = append(out, ev)
			}
		case <-deadline:
			c.t.Fatalf("%s: stream still open after %v", c.name, timeout)
		}
	}
}

type apiResult struct {
	Status int
	Header http.Header
	Body   map[string]any
	Raw    string
}

func (r apiResult) code() string {
	if e, ok := r.Body["error"].(map[string]any); ok {
		s, _ := e["code"].(string)
		return s
	}
	return ""
}

func (e *env) do(method, path, tok string, body any) apiResult {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	req, _ := http.NewRequest(method, e.url+path, rd)
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := apiResult{Status: resp.StatusCode, Header: resp.Header, Raw: string(raw)}
	_ = json.Unmarshal(raw, &r.Body)
	return r
}

func (e *env) publish(tok string, body any) apiResult {
	e.t.Helper()
	return e.do("POST", "/api/events", tok, body)
}

func (e *env) mustPublish(tok string, body any) string {
	e.t.Helper()
	r := e.publish(tok, body)
	if r.Status != 202 {
		e.t.Fatalf("publish: got %d %s, want 202", r.Status, r.Raw)
	}
	id, _ := r.Body["id"].(string)
	return id
}

// waitFor polls cond until it holds or fails the test after timeout.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func ev(event, tenant string, target map[string]any, data any) map[string]any {
	m := map[string]any{"event": event, "target": target, "data": data}
	if tenant != "" {
		m["tenantId"] = tenant
	}
	return m
}
