package client_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/ssehub/ssehub/client"
	"github.com/ssehub/ssehub/sse"
)

func TestDefaultBackoff(t *testing.T) {
	for _, tc := range []struct {
		attempt int
		want    time.Duration
	}{
		{-1, time.Second}, {0, time.Second}, {1, 2 * time.Second}, {2, 4 * time.Second},
		{3, 8 * time.Second}, {4, 16 * time.Second}, {5, 30 * time.Second},
		{6, 30 * time.Second}, {62, 30 * time.Second}, {1 << 30, 30 * time.Second},
	} {
		lo, hi := tc.want*9/10, tc.want*11/10
		var spread bool
		first := client.DefaultBackoff(tc.attempt)
		for range 200 {
			got := client.DefaultBackoff(tc.attempt)
			if got < lo || got > hi {
				t.Fatalf("DefaultBackoff(%d) = %v, want within [%v, %v]", tc.attempt, got, lo, hi)
			}
			spread = spread || got != first
		}
		if !spread {
			t.Errorf("DefaultBackoff(%d) always %v, want jitter", tc.attempt, first)
		}
	}
}

// script is a stream endpoint that answers each request with the next of
// its steps, and the last step ever after.
type script struct {
	t     *testing.T
	srv   *httptest.Server
	mu    sync.Mutex
	steps []func(http.ResponseWriter, *http.Request)
	reqs  []scriptReq
}

type scriptReq struct {
	at          time.Time
	auth        string
	lastEventID string
	// hasLastEventID is whether the request had a Last-Event-ID header.
	hasLastEventID bool
}

func newScript(t *testing.T, steps ...func(http.ResponseWriter, *http.Request)) *script {
	s := &script{t: t, steps: steps}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		i := min(len(s.reqs), len(s.steps)-1)
		_, hasID := r.Header["Last-Event-Id"]
		s.reqs = append(s.reqs, scriptReq{time.Now(), r.Header.Get("Authorization"), r.Header.Get("Last-Event-ID"), hasID})
		step := s.steps[i]
		s.mu.Unlock()
		step(w, r)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *script) requests() []scriptReq {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]scriptReq(nil), s.reqs...)
}

func status(code int, errCode string, hdr ...string) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, _ *http.Request) {
		for i := 0; i+1 < len(hdr); i += 2 {
			w.Header().Set(hdr[i], hdr[i+1])
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		if errCode != "" {
			fmt.Fprintf(w, `{"error":{"code":%q,"message":"scripted"}}`, errCode)
		}
	}
}

// stream writes the given raw stream text, then keeps the stream open
// until the client leaves.
func stream(text string, then ...func(http.ResponseWriter, *http.Request)) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
		fmt.Fprint(w, text)
		w.(http.Flusher).Flush()
		for _, f := range then {
			f(w, r)
		}
		<-r.Context().Done()
	}
}

const readyText = "retry: 1000\n\nid: e-0\nevent: sse:ready\ndata: {\"connectionId\":\"c1\",\"heartbeatMs\":30000}\n\n"

// TestBackoff checks the waits between attempts: Backoff's for 5xx and
// network failures, Retry-After when longer, and a terminal status ends Run.
func TestBackoff(t *testing.T) {
	s := newScript(t,
		status(503, ""),              // a proxy's bare 503: retried
		status(502, ""),              //
		status(503, "shutting_down"), //
		status(429, "too_many_connections", "Retry-After", "1"), // waits 1 s, not the 30 ms of Backoff
		status(500, ""),          //
		status(404, "not_found"), // terminal
	)
	var mu sync.Mutex
	var attempts []int
	backoff := func(n int) time.Duration {
		mu.Lock()
		defer mu.Unlock()
		attempts = append(attempts, n)
		return time.Duration(n+1) * 30 * time.Millisecond
	}
	var rec recorder
	c := newClient(t, client.Config{URL: s.srv.URL, Backoff: backoff, OnError: rec.onError})
	err := start(t, c).wait(10 * time.Second)
	var he *client.HTTPError
	if !errors.As(err, &he) || he.Status != 404 || he.Code != "not_found" {
		t.Fatalf("Run: got %v, want an HTTPError 404 not_found", err)
	}
	reqs := s.requests()
	if len(reqs) != 6 {
		t.Fatalf("got %d requests, want 6", len(reqs))
	}
	wantWait := []time.Duration{30 * time.Millisecond, 60 * time.Millisecond, 90 * time.Millisecond, time.Second, 150 * time.Millisecond}
	for i, want := range wantWait {
		gap := reqs[i+1].at.Sub(reqs[i].at)
		if gap < want || gap > want+500*time.Millisecond {
			t.Errorf("wait before attempt %d: got %v, want %v", i+1, gap, want)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if want := []int{0, 1, 2, 3, 4}; fmt.Sprint(attempts) != fmt.Sprint(want) {
		t.Errorf("Backoff called with %v, want %v", attempts, want)
	}
	if n := len(rec.errors()); n != 5 {
		t.Errorf("OnError called %d times, want 5", n)
	}
}

// TestUnauthorized: a 401 asks Token again and retries at once; a second
// 401 in a row backs off.
func TestUnauthorized(t *testing.T) {
	s := newScript(t, status(401, "token_expired"), status(401, "unauthorized"), stream(readyText))
	var calls int
	token := func(context.Context) (string, error) { calls++; return fmt.Sprint("tok", calls), nil }
	var rec recorder
	c := newClient(t, client.Config{URL: s.srv.URL, Token: token, OnReady: rec.onReady,
		Backoff: func(int) time.Duration { return 200 * time.Millisecond }})
	r := start(t, c)
	waitFor(t, 5*time.Second, "sse:ready", func() bool { return rec.readyCount() == 1 })
	r.stop()
	reqs := s.requests()
	for i, want := range []string{"Bearer tok1", "Bearer tok2", "Bearer tok3"} {
		if reqs[i].auth != want {
			t.Errorf("request %d: Authorization %q, want %q", i, reqs[i].auth, want)
		}
	}
	if gap := reqs[1].at.Sub(reqs[0].at); gap > 150*time.Millisecond {
		t.Errorf("first retry after 401 waited %v, want at once", gap)
	}
	if gap := reqs[2].at.Sub(reqs[1].at); gap < 200*time.Millisecond {
		t.Errorf("second retry after 401 waited %v, want the backoff (200ms)", gap)
	}

	// Without Token, a 401 cannot be fixed by retrying.
	s2 := newScript(t, status(401, "unauthorized"))
	err := start(t, newClient(t, client.Config{URL: s2.srv.URL})).wait(5 * time.Second)
	var he *client.HTTPError
	if !errors.As(err, &he) || he.Status != 401 {
		t.Errorf("Run without Token: got %v, want an HTTPError 401", err)
	}
}

// TestShutdown: sse:shutdown reconnects after the server's retryMs (±10 %),
// resuming from the last event.
func TestShutdown(t *testing.T) {
	s := newScript(t,
		stream(readyText+"id: e-5\nevent: x\ndata: 1\n\nevent: sse:shutdown\ndata: {\"reason\":\"shutdown\",\"retryMs\":300}\n\n"),
		stream("retry: 1000\n\nevent: sse:ready\ndata: {\"connectionId\":\"c2\"}\n\n"),
	)
	var rec recorder
	c := newClient(t, client.Config{URL: s.srv.URL, OnReady: rec.onReady, OnError: rec.onError,
		Backoff: func(int) time.Duration { return time.Hour }})
	start(t, c)
	waitFor(t, 5*time.Second, "the second sse:ready", func() bool { return rec.readyCount() == 2 })
	reqs := s.requests()
	if gap := reqs[1].at.Sub(reqs[0].at); gap < 270*time.Millisecond || gap > 800*time.Millisecond {
		t.Errorf("reconnect after sse:shutdown waited %v, want 300ms ±10%%", gap)
	}
	if reqs[1].lastEventID != "e-5" {
		t.Errorf("Last-Event-ID %q, want e-5", reqs[1].lastEventID)
	}
	if got := c.ConnectionID(); got != "c2" {
		t.Errorf("ConnectionID() = %q, want c2", got)
	}
	if got := c.LastEventID(); got != "e-5" {
		t.Errorf("LastEventID() = %q, want e-5 (a resumed sse:ready has no id)", got)
	}
	if errs := rec.errors(); len(errs) != 0 {
		t.Errorf("OnError got %v, want nothing", errs)
	}
}

// TestWatchdog: a stream whose sse:ready says heartbeatMs 40 and then goes
// silent is dropped after 2.5 × 40 ms; heartbeat comments keep it open.
func TestWatchdog(t *testing.T) {
	const ready = "retry: 1000\n\nevent: sse:ready\ndata: {\"connectionId\":\"c1\",\"heartbeatMs\":40}\n\n"
	t.Run("silent", func(t *testing.T) {
		s := newScript(t, stream(ready))
		var rec recorder
		c := newClient(t, client.Config{URL: s.srv.URL, OnReady: rec.onReady, OnError: rec.onError,
			Backoff: func(int) time.Duration { return time.Millisecond }})
		start(t, c)
		waitFor(t, 5*time.Second, "a reconnect", func() bool { return len(s.requests()) >= 2 })
		reqs := s.requests()
		if gap := reqs[1].at.Sub(reqs[0].at); gap < 100*time.Millisecond || gap > time.Second {
			t.Errorf("silent stream dropped after %v, want about 100ms", gap)
		}
		if !rec.hasError(client.ErrHeartbeatTimeout) {
			t.Errorf("OnError got %v, want ErrHeartbeatTimeout", rec.errors())
		}
	})
	t.Run("slow handler", func(t *testing.T) {
		// Time spent in a handler is the client's, not the server's silence.
		s := newScript(t, stream(ready+"event: slow\ndata: 1\n\n"))
		var rec recorder
		c := newClient(t, client.Config{URL: s.srv.URL, OnReady: rec.onReady, OnError: rec.onError,
			Backoff: func(int) time.Duration { return time.Hour }})
		handled := make(chan struct{})
		c.OnRaw("slow", func(sse.Event) { time.Sleep(300 * time.Millisecond); close(handled) })
		r := start(t, c)
		<-handled
		time.Sleep(50 * time.Millisecond) // less than the 100 ms timeout
		if errs := rec.errors(); len(errs) != 0 {
			t.Errorf("OnError got %v, want nothing", errs)
		}
		r.stop()
	})
	t.Run("heartbeats", func(t *testing.T) {
		beat := func(w http.ResponseWriter, r *http.Request) {
			for range 20 { // 400 ms, four times the timeout
				select {
				case <-r.Context().Done():
					return
				case <-time.After(20 * time.Millisecond):
				}
				fmt.Fprint(w, ":heartbeat\n\n")
				w.(http.Flusher).Flush()
			}
		}
		s := newScript(t, stream(ready, beat))
		var rec recorder
		c := newClient(t, client.Config{URL: s.srv.URL, OnReady: rec.onReady, OnError: rec.onError})
		r := start(t, c)
		time.Sleep(400 * time.Millisecond)
		if n := len(s.requests()); n != 1 {
			t.Errorf("got %d requests while heartbeats arrive, want 1 (errors %v)", n, rec.errors())
		}
		r.stop()
	})
}
