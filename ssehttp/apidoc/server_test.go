package apidoc_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ssehub/ssehub/auth"
	"github.com/ssehub/ssehub/internal/server"
)

const secret = "apidoc-test-secret-apidoc-test-secret"

// Every wait of these tests is bounded, so that a server that does not
// answer fails the test in seconds instead of hanging the package:
// streamClient waits at most 10 s for a response's header (a stream's
// events are waited for by stream.next), client at most 15 s for a whole
// exchange.
var (
	streamClient = &http.Client{Transport: &http.Transport{ResponseHeaderTimeout: 10 * time.Second}}
	client       = &http.Client{Transport: streamClient.Transport, Timeout: 15 * time.Second}
)

// testServer is a real ssehub (internal/server.Run) on a loopback port,
// with the example catalog.
type testServer struct {
	url  string
	stop func() // shuts the server down gracefully and waits; idempotent
}

// startServer runs ssehub with args until the test ends.
func startServer(t *testing.T, args ...string) *testServer {
	t.Helper()
	args = append([]string{"--addr", "127.0.0.1:0", "--jwt-secret", secret, "--catalog", "../../examples/catalog/catalog.yaml", "--log-level", "error"}, args...)
	cfg, err := server.Load("serve", args, func(string) string { return "" }, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- server.Run(ctx, cfg, io.Discard, io.Discard, ready) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("server: %v", err)
				}
			case <-time.After(20 * time.Second):
				t.Errorf("server did not stop in 20s")
			}
		})
	}
	select {
	case addr := <-ready:
		t.Cleanup(stop)
		return &testServer{url: "http://" + addr, stop: stop}
	case err := <-done:
		cancel()
		t.Fatalf("server did not start: %v", err)
	case <-time.After(20 * time.Second):
		cancel()
		t.Fatal("server did not start in 20s")
	}
	return nil
}

func mint(t *testing.T, c auth.Claims) string {
	t.Helper()
	tok, err := auth.Mint([]byte(secret), c, 10*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// tokens are the identities the examples name in auth.
func tokens(t *testing.T) map[string]string {
	return map[string]string{
		"user":         mint(t, auth.Claims{Subject: "u1", TenantID: "acme", Channels: []string{"conversation:*"}}),
		"publisher":    mint(t, auth.Claims{Subject: "backend", TenantID: "acme", Roles: []string{auth.RolePublisher}}),
		"admin":        mint(t, auth.Claims{Subject: "ops", Roles: []string{auth.RoleAdmin, auth.RolePublisher}, Global: true}),
		"tenant-admin": mint(t, auth.Claims{Subject: "ops-acme", TenantID: "acme", Roles: []string{auth.RoleAdmin, auth.RolePublisher}}),
		"flood":        mint(t, auth.Claims{Subject: "flood", TenantID: "acme", Roles: []string{auth.RolePublisher}}),
		"limited":      mint(t, auth.Claims{Subject: "u-limited", TenantID: "acme", Channels: []string{"conversation:*"}}),
		"bad":          "not-a-jwt",
	}
}

// stream is an open GET /api/sse.
type stream struct {
	resp  *http.Response
	r     *bufio.Reader
	ready map[string]any
}

func openStream(t *testing.T, base, token, channels string) *stream {
	t.Helper()
	// Streams the test closed a moment ago may still count against the
	// per-user limit until the server sees them gone: 429 is retried.
	var resp *http.Response
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		req, _ := http.NewRequest(http.MethodGet, base+"/api/sse?channels="+channels, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		var err error
		if resp, err = streamClient.Do(req); err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusTooManyRequests || time.Now().After(deadline) {
			break
		}
		resp.Body.Close()
	}
	if resp.StatusCode != 200 {
		resp.Body.Close()
		t.Fatalf("stream: %s", resp.Status)
	}
	s := &stream{resp: resp, r: bufio.NewReader(resp.Body)}
	name, data := s.next(t)
	if name != "sse:ready" {
		t.Fatalf("first event %q", name)
	}
	_ = json.Unmarshal([]byte(data), &s.ready)
	return s
}

// next returns the next event's name and data, within 10 seconds.
func (s *stream) next(t *testing.T) (string, string) {
	t.Helper()
	type ev struct{ name, data string }
	got := make(chan ev, 1)
	go func() { // ends when the event is read or the body is closed
		name, data := "message", []string{}
		for {
			line, err := s.r.ReadString('\n')
			if err != nil {
				got <- ev{"", ""}
				return
			}
			line = strings.TrimRight(line, "\r\n")
			switch {
			case line == "" && len(data) > 0:
				got <- ev{name, strings.Join(data, "\n")}
				return
			case strings.HasPrefix(line, "event: "):
				name = line[len("event: "):]
			case strings.HasPrefix(line, "data: "):
				data = append(data, line[len("data: "):])
			}
		}
	}()
	select {
	case e := <-got:
		if e.name == "" {
			t.Fatal("stream ended")
		}
		return e.name, e.data
	case <-time.After(10 * time.Second):
		s.close()
		t.Fatal("no event in 10s")
	}
	return "", ""
}

func (s *stream) close() { s.resp.Body.Close() }

func newReader(resp *http.Response) *bufio.Reader { return bufio.NewReader(resp.Body) }

func post(t *testing.T, url, token, body string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := client.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}
