package metrics_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/ssehub/ssehub/auth"
	"github.com/ssehub/ssehub/hub"
	"github.com/ssehub/ssehub/metrics"
	"github.com/ssehub/ssehub/sse"
	"github.com/ssehub/ssehub/ssehttp"
)

var secret = []byte("metrics-test-secret-metrics-test-secret")

// server is a hub with every handler and /metrics behind a real HTTP
// server on a loopback port.
type server struct {
	t   *testing.T
	hub *hub.Hub
	url string
}

func newServer(t *testing.T, hc hub.Config, mc metrics.Config) *server {
	t.Helper()
	obs := metrics.New(mc)
	hc.Observer = obs
	hc.Logger = slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	h, err := hub.New(hc)
	if err != nil {
		t.Fatalf("hub.New: %v", err)
	}
	jwt, err := auth.NewJWT(auth.JWTConfig{Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	hm := metrics.NewHTTP()
	reg.MustRegister(obs, metrics.NewHubCollector(h, 0), hm)
	mux := http.NewServeMux()
	ssehttp.Mount(mux, ssehttp.Config{Hub: h, Authenticator: jwt})
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.HTTPErrorOnError}))
	srv := httptest.NewServer(hm.Wrap(mux))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := h.Shutdown(ctx); err != nil {
			t.Errorf("hub.Shutdown: %v", err)
		}
		srv.Close()
		_ = jwt.Close()
	})
	return &server{t: t, hub: h, url: srv.URL}
}

func token(t *testing.T, c auth.Claims) string {
	t.Helper()
	tok, err := auth.Mint(secret, c, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func userToken(t *testing.T, tenant, user string) string {
	return token(t, auth.Claims{Subject: user, TenantID: tenant, Channels: []string{"*"}})
}

// scrape returns every sample of /metrics by its series, written as in the
// exposition format: name{label="value",…} with labels sorted by name.
func (s *server) scrape() map[string]float64 {
	s.t.Helper()
	resp, err := http.Get(s.url + "/metrics")
	if err != nil {
		s.t.Fatalf("GET /metrics: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		s.t.Fatalf("GET /metrics: %d %s", resp.StatusCode, b)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			s.t.Fatalf("metrics line %q: %v", line, err)
		}
		out[line[:i]] = v
	}
	return out
}

// want checks exact values; a missing series counts as absent, which
// matches only want NaN.
func checkSeries(t *testing.T, got map[string]float64, want map[string]float64) {
	t.Helper()
	for k, w := range want {
		g, ok := got[k]
		switch {
		case math.IsNaN(w) && ok:
			t.Errorf("%s: got %v, want no such series", k, g)
		case math.IsNaN(w):
		case !ok:
			t.Errorf("%s: missing, want %v", k, w)
		case g != w:
			t.Errorf("%s: got %v, want %v", k, g, w)
		}
	}
}

// waitSeries scrapes until every wanted value is there.
func (s *server) waitSeries(want map[string]float64) map[string]float64 {
	s.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		got := s.scrape()
		ok := true
		for k, w := range want {
			g, present := got[k]
			if math.IsNaN(w) && present || !math.IsNaN(w) && (!present || g != w) {
				ok = false
			}
		}
		if ok || time.Now().After(deadline) {
			checkSeries(s.t, got, want)
			return got
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// stream is one open SSE connection.
type stream struct {
	t      *testing.T
	resp   *http.Response
	cancel context.CancelFunc
	done   chan struct{}

	mu     sync.Mutex
	events []sse.Event // without control events and comments
}

// open opens a stream and waits for sse:ready; it returns nil and the
// status when the answer is not 200.
func (s *server) open(tok string) (*stream, int) {
	s.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", s.url+"/api/sse", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		s.t.Fatalf("GET /api/sse: %v", err)
	}
	if resp.StatusCode != 200 {
		resp.Body.Close()
		cancel()
		return nil, resp.StatusCode
	}
	st := &stream{t: s.t, resp: resp, cancel: cancel, done: make(chan struct{})}
	ready := make(chan struct{})
	go func() {
		defer close(st.done)
		once := sync.OnceFunc(func() { close(ready) })
		defer once()
		for ev, err := range sse.NewDecoder(resp.Body).Events() {
			if err != nil {
				return
			}
			if ev.Name == "sse:ready" {
				once()
			}
			if ev.Name != "" && !strings.HasPrefix(ev.Name, "sse:") {
				st.mu.Lock()
				st.events = append(st.events, ev)
				st.mu.Unlock()
			}
		}
	}()
	select {
	case <-ready:
	case <-time.After(5 * time.Second):
		s.t.Fatal("no sse:ready within 5s")
	}
	s.t.Cleanup(st.close)
	return st, 200
}

func (st *stream) count() int {
	st.mu.Lock()
	defer st.mu.Unlock()
	return len(st.events)
}

func (st *stream) close() {
	st.cancel()
	<-st.done
	st.resp.Body.Close()
}

// publish posts body with tok and returns the status.
func (s *server) publish(tok string, body any) int {
	s.t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", s.url+"/api/events", strings.NewReader(string(b)))
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatalf("POST /api/events: %v", err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

func event(name, tenant string, target map[string]any) map[string]any {
	return map[string]any{"event": name, "tenantId": tenant, "target": target, "data": map[string]int{"n": 1}}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// series writes a series key as the exposition format does.
func series(name string, labels ...string) string {
	if len(labels) == 0 {
		return name
	}
	var b strings.Builder
	b.WriteString(name + "{")
	for i := 0; i+1 < len(labels); i += 2 {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%s=%q", labels[i], labels[i+1])
	}
	b.WriteByte('}')
	return b.String()
}

// post sends an empty POST to path with tok and returns the status.
func (s *server) post(path, tok string) int {
	s.t.Helper()
	req, _ := http.NewRequest("POST", s.url+path, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatalf("POST %s: %v", path, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
