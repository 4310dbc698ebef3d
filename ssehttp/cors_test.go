package ssehttp_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ssehub/ssehub/hub"
	"github.com/ssehub/ssehub/sse"
	"github.com/ssehub/ssehub/ssehttp"
)

func corsEnv(t *testing.T, origins ...string) *env {
	return newMuxEnv(t, hub.Config{}, func(mux *http.ServeMux, _ ssehttp.Config) http.Handler {
		return ssehttp.NewCORSHandler(ssehttp.CORSConfig{
			Origins: origins,
			Paths:   []string{ssehttp.PathStream, ssehttp.PathPublish, ssehttp.PathSubscriptions},
		}, mux)
	})
}

// request sends method path with the headers given as pairs and returns
// the response with its body closed.
func (e *env) request(method, path string, hdr ...string) *http.Response {
	e.t.Helper()
	req, _ := http.NewRequest(method, e.url+path, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	resp.Body.Close()
	return resp
}

func hasVaryOrigin(h http.Header) bool {
	for _, v := range h.Values("Vary") {
		for p := range strings.SplitSeq(v, ",") {
			if strings.TrimSpace(p) == "Origin" {
				return true
			}
		}
	}
	return false
}

func TestCORSPreflight(t *testing.T) {
	e := corsEnv(t, "https://a.example", "https://b.example")
	for _, path := range []string{ssehttp.PathStream, ssehttp.PathPublish, ssehttp.PathSubscriptions} {
		t.Run(path, func(t *testing.T) {
			resp := e.request("OPTIONS", path,
				"Origin", "https://b.example",
				"Access-Control-Request-Method", "POST",
				"Access-Control-Request-Headers", "authorization,content-type,last-event-id")
			h := resp.Header
			want := map[string]string{
				"Access-Control-Allow-Origin":      "https://b.example",
				"Access-Control-Allow-Credentials": "true",
				"Access-Control-Allow-Headers":     "Authorization, Content-Type, Last-Event-ID",
				"Access-Control-Allow-Methods":     "GET, POST",
				"Access-Control-Max-Age":           "600",
			}
			if resp.StatusCode != 204 {
				t.Errorf("status: got %d, want 204", resp.StatusCode)
			}
			for k, v := range want {
				if got := h.Get(k); got != v {
					t.Errorf("%s: got %q, want %q", k, got, v)
				}
			}
			if !hasVaryOrigin(h) {
				t.Errorf("Vary: got %q, want Origin among them", h.Values("Vary"))
			}
		})
	}
}

func TestCORSRefusesOtherOrigins(t *testing.T) {
	e := corsEnv(t, "https://a.example")
	resp := e.request("OPTIONS", ssehttp.PathPublish, "Origin", "https://evil.example", "Access-Control-Request-Method", "POST")
	if resp.StatusCode != 403 || resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("preflight from another origin: got %d with Allow-Origin %q, want 403 without", resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
	}
	// An actual request from another origin is served without CORS
	// headers: the browser withholds the answer.
	resp = e.request("GET", ssehttp.PathStream, "Origin", "https://evil.example")
	if resp.StatusCode != 401 || resp.Header.Get("Access-Control-Allow-Origin") != "" || !hasVaryOrigin(resp.Header) {
		t.Errorf("GET from another origin: got %d, Allow-Origin %q, Vary %q; want 401, none, Origin", resp.StatusCode,
			resp.Header.Get("Access-Control-Allow-Origin"), resp.Header.Values("Vary"))
	}
	// Paths outside the list get no CORS at all.
	resp = e.request("OPTIONS", ssehttp.PathStats, "Origin", "https://a.example", "Access-Control-Request-Method", "GET")
	if resp.Header.Get("Access-Control-Allow-Origin") != "" || resp.StatusCode == 204 {
		t.Errorf("preflight of the stats path: got %d with Allow-Origin %q, want no CORS", resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
	}
}

// TestCORSStreamAndPublish runs a cross-origin stream and publish as a
// browser would after its preflights, and checks the headers the browser
// needs on the actual responses, errors included.
func TestCORSStreamAndPublish(t *testing.T) {
	e := corsEnv(t, "https://app.example")
	const origin = "https://app.example"
	c := e.open(userToken(t, "t1", "u1"), "", "Origin", origin)
	if got := c.resp.Header.Get("Access-Control-Allow-Origin"); got != origin {
		t.Errorf("stream Allow-Origin: got %q, want %q", got, origin)
	}
	if got := c.resp.Header.Get("Access-Control-Allow-Credentials"); got != "true" {
		t.Errorf("stream Allow-Credentials: got %q, want true", got)
	}
	if !hasVaryOrigin(c.resp.Header) {
		t.Errorf("stream Vary: got %q, want Origin", c.resp.Header.Values("Vary"))
	}

	req, _ := http.NewRequest("POST", e.url+ssehttp.PathPublish,
		strings.NewReader(`{"event":"note","tenantId":"t1","target":{"userId":"u1"},"data":{"x":1}}`))
	req.Header.Set("Origin", origin)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+publisherToken(t, "t1"))
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 202 || resp.Header.Get("Access-Control-Allow-Origin") != origin {
		t.Fatalf("publish: got %d with Allow-Origin %q, want 202 and %q", resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"), origin)
	}
	if ev := c.next(5 * time.Second); ev.Name != "note" {
		t.Fatalf("got %q, want the published event", ev.Name)
	}
	// A 429 must let the script read Retry-After.
	e2 := newMuxEnv(t, hub.Config{MaxConnsPerUser: 1, UserLimitPolicy: hub.Reject}, func(mux *http.ServeMux, _ ssehttp.Config) http.Handler {
		return ssehttp.NewCORSHandler(ssehttp.CORSConfig{Origins: []string{origin}}, mux)
	})
	tok := userToken(t, "t1", "u1")
	e2.open(tok, "")
	_, r429 := e2.tryOpen(tok, "", "Origin", origin)
	if r429.StatusCode != 429 || r429.Header.Get("Access-Control-Allow-Origin") != origin ||
		r429.Header.Get("Access-Control-Expose-Headers") != "Retry-After" {
		t.Errorf("429: got %d, Allow-Origin %q, Expose-Headers %q; want 429 readable with Retry-After exposed",
			r429.StatusCode, r429.Header.Get("Access-Control-Allow-Origin"), r429.Header.Get("Access-Control-Expose-Headers"))
	}
}

func TestCORSWildcard(t *testing.T) {
	e := corsEnv(t, "*")
	resp := e.request("OPTIONS", ssehttp.PathStream, "Origin", "https://any.example", "Access-Control-Request-Method", "GET")
	if resp.StatusCode != 204 || resp.Header.Get("Access-Control-Allow-Origin") != "*" ||
		resp.Header.Get("Access-Control-Allow-Credentials") != "" {
		t.Errorf("wildcard preflight: got %d, Allow-Origin %q, Allow-Credentials %q; want 204, *, none (credentials need explicit origins)",
			resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"), resp.Header.Get("Access-Control-Allow-Credentials"))
	}
	if got := resp.Header.Get("Access-Control-Allow-Headers"); got != "Authorization, Content-Type, Last-Event-ID" {
		t.Errorf("Allow-Headers: got %q", got)
	}
	// Bearer tokens work with "*": stream from any origin.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", e.url+ssehttp.PathStream, nil)
	req.Header.Set("Origin", "https://other.example")
	req.Header.Set("Authorization", "Bearer "+userToken(t, "t1", "u1"))
	r, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	if r.StatusCode != 200 || r.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("stream: got %d with Allow-Origin %q, want 200 and *", r.StatusCode, r.Header.Get("Access-Control-Allow-Origin"))
	}
	for ev, err := range sse.NewDecoder(r.Body).Events() {
		if err != nil || ev.Name != "sse:ready" {
			t.Fatalf("first event: %v %v, want sse:ready", ev, err)
		}
		break
	}
}

func TestCORSConfigValidate(t *testing.T) {
	good := [][]string{nil, {"*"}, {"https://a.example"}, {"http://localhost:3000", "https://b.example:8443"}}
	for _, o := range good {
		if err := (ssehttp.CORSConfig{Origins: o}).Validate(); err != nil {
			t.Errorf("%q: got %v, want valid", o, err)
		}
	}
	bad := [][]string{{"*", "https://a.example"}, {"a.example"}, {"https://a.example/"}, {"https://a.example/app"},
		{"ftp://a.example"}, {"null"}, {"https://user@a.example"}, {"https://a.example?x=1"}}
	for _, o := range bad {
		if err := (ssehttp.CORSConfig{Origins: o}).Validate(); err == nil {
			t.Errorf("%q: got valid, want an error", o)
		}
	}
	got, err := ssehttp.ParseOrigins(" https://a.example , https://b.example ,")
	if err != nil || !slices.Equal(got, []string{"https://a.example", "https://b.example"}) {
		t.Errorf("ParseOrigins: got %q %v", got, err)
	}
	if o, err := ssehttp.ParseOrigins(""); err != nil || o != nil {
		t.Errorf("ParseOrigins(\"\"): got %q %v, want none", o, err)
	}
}

func TestCORSOffPassesThrough(t *testing.T) {
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(418) })
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("OPTIONS", "/api/sse", nil)
	req.Header.Set("Origin", "https://a.example")
	req.Header.Set("Access-Control-Request-Method", "GET")
	ssehttp.NewCORSHandler(ssehttp.CORSConfig{}, next).ServeHTTP(rec, req)
	if rec.Code != 418 || rec.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("no origins: got %d with Allow-Origin %q, want the handler's answer untouched", rec.Code, rec.Header().Get("Access-Control-Allow-Origin"))
	}
}
