package client_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ssehub/ssehub/auth"
	"github.com/ssehub/ssehub/client"
	"github.com/ssehub/ssehub/hub"
)

func TestDisabled(t *testing.T) {
	e := newEnv(t, hub.Config{}, false)
	var rec recorder
	c := e.newClient(client.Config{Token: staticToken(u1Token(t)), OnReady: rec.onReady})
	r := start(t, c)
	waitFor(t, 5*time.Second, "sse:ready", func() bool { return rec.readyCount() == 1 })

	e.hub.SetDisabled(true) // the open stream gets sse:disabled
	if err := r.wait(5 * time.Second); !errors.Is(err, client.ErrDisabled) {
		t.Fatalf("Run on sse:disabled: got %v, want ErrDisabled", err)
	}

	err := start(t, c).wait(5 * time.Second) // a new stream gets 503 sse_disabled
	var he *client.HTTPError
	if !errors.Is(err, client.ErrDisabled) || !errors.As(err, &he) || he.Status != 503 || he.Code != "sse_disabled" {
		t.Fatalf("Run while disabled: got %v, want ErrDisabled and an HTTPError 503 sse_disabled", err)
	}
	if rec.readyCount() != 1 {
		t.Errorf("connected %d times, want 1", rec.readyCount())
	}
}

func TestEvicted(t *testing.T) {
	e := newEnv(t, hub.Config{MaxConnsPerUser: 1}, false)
	var first, second recorder
	c1 := e.newClient(client.Config{Token: staticToken(u1Token(t)), OnReady: first.onReady})
	r1 := start(t, c1)
	waitFor(t, 5*time.Second, "first sse:ready", func() bool { return first.readyCount() == 1 })

	c2 := e.newClient(client.Config{Token: staticToken(u1Token(t)), OnReady: second.onReady})
	r2 := start(t, c2)
	if err := r1.wait(5 * time.Second); !errors.Is(err, client.ErrEvicted) {
		t.Fatalf("evicted Run: got %v, want ErrEvicted", err)
	}
	time.Sleep(100 * time.Millisecond) // the evicted client must not come back
	if n := first.readyCount(); n != 1 {
		t.Errorf("evicted client connected %d times, want 1", n)
	}
	if n := second.readyCount(); n != 1 {
		t.Errorf("new client connected %d times, want 1", n)
	}
	if err := r2.stop(); !errors.Is(err, context.Canceled) {
		t.Errorf("second Run: got %v, want context.Canceled", err)
	}
}

// TestTokenRefresh gives the client a token that expires in about a
// second: the server ends the stream with sse:token-expired, the client
// asks for a new token and resumes without losing an event.
func TestTokenRefresh(t *testing.T) {
	e := newEnv(t, hub.Config{}, false)
	var calls atomic.Int32
	token := func(context.Context) (string, error) {
		ttl := time.Hour
		if calls.Add(1) == 1 {
			ttl = 1500 * time.Millisecond // exp is whole seconds: 0.5 to 1.5 s from now
		}
		return mint(t, auth.Claims{Subject: "u1", TenantID: "t1"}, ttl), nil
	}
	var rec recorder
	c := e.newClient(client.Config{Token: token, OnReady: rec.onReady, OnError: rec.onError,
		Backoff: func(int) time.Duration { return time.Hour }}) // only a planned reconnect can pass
	client.On(c, noteNew, func(_ note, m client.Meta) { rec.id(m.ID) })
	r := start(t, c)
	waitFor(t, 5*time.Second, "sse:ready", func() bool { return rec.readyCount() == 1 })

	var want []string
	deadline := time.Now().Add(5 * time.Second)
	for i := 0; rec.readyCount() < 2; i++ {
		if time.Now().After(deadline) {
			t.Fatal("no reconnect after the token expired")
		}
		want = append(want, e.emit(note{Seq: i}))
		time.Sleep(20 * time.Millisecond)
	}
	want = append(want, e.emit(note{Seq: -1}))
	waitFor(t, 5*time.Second, "every event", func() bool { return len(rec.gotIDs()) >= len(want) })
	if got := rec.gotIDs(); !slices.Equal(got, want) {
		t.Errorf("got ids %v, want %v", got, want)
	}
	if n := calls.Load(); n != 2 {
		t.Errorf("Token called %d times, want 2", n)
	}
	if errs := rec.errors(); len(errs) != 0 {
		t.Errorf("OnError got %v, want nothing", errs)
	}
	if err := r.stop(); !errors.Is(err, context.Canceled) {
		t.Errorf("Run: got %v, want context.Canceled", err)
	}
}

func TestReset(t *testing.T) {
	e := newEnv(t, hub.Config{}, false)
	var rec recorder
	c := e.newClient(client.Config{Token: staticToken(u1Token(t)), LastEventID: "nosuchepoch-1", OnReady: rec.onReady, OnReset: rec.onReset})
	client.On(c, noteNew, func(_ note, m client.Meta) { rec.id(m.ID) })
	start(t, c)
	waitFor(t, 5*time.Second, "sse:ready", func() bool { return rec.readyCount() == 1 })
	id := e.emit(note{Seq: 1}) // live events follow the reset
	waitFor(t, 5*time.Second, "the live event", func() bool { return len(rec.gotIDs()) == 1 })
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if want := []string{"unknown_last_event_id"}; !slices.Equal(rec.resets, want) {
		t.Errorf("OnReset got %v, want %v", rec.resets, want)
	}
	if rec.ids[0] != id {
		t.Errorf("got id %q, want %q", rec.ids[0], id)
	}
}

func TestRunTwice(t *testing.T) {
	e := newEnv(t, hub.Config{}, false)
	var rec recorder
	c := e.newClient(client.Config{Token: staticToken(u1Token(t)), OnReady: rec.onReady})
	start(t, c)
	waitFor(t, 5*time.Second, "sse:ready", func() bool { return rec.readyCount() == 1 })
	if err := c.Run(context.Background()); !errors.Is(err, client.ErrRunning) {
		t.Errorf("second Run: got %v, want ErrRunning", err)
	}
}

func TestForbidden(t *testing.T) {
	e := newEnv(t, hub.Config{}, false)
	// The token grants no channels, so asking for one is a 403: terminal.
	c := e.newClient(client.Config{Token: staticToken(u1Token(t)), Channels: []string{"secret"}})
	err := start(t, c).wait(5 * time.Second)
	var he *client.HTTPError
	if !errors.As(err, &he) || he.Status != http.StatusForbidden {
		t.Fatalf("Run: got %v, want an HTTPError 403", err)
	}
}

func TestNew(t *testing.T) {
	for _, u := range []string{"", "/api/sse", "ftp://x/api/sse", "http://", "http://[::1"} {
		if _, err := client.New(client.Config{URL: u}); err == nil {
			t.Errorf("New(URL %q): got nil error", u)
		}
	}
}
