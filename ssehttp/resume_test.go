package ssehttp_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ssehub/ssehub/broker"
	"github.com/ssehub/ssehub/hub"
	"github.com/ssehub/ssehub/sse"
)

// session reads one stream until ctx ends or it closes, appending the ids
// of real events to got; it returns the control events seen and updates
// last to the stream's last event id, as a browser would.
func session(ctx context.Context, e *env, tok, query string, last *string, got *[]string) ([]string, error) {
	req, _ := http.NewRequestWithContext(ctx, "GET", e.url+"/api/sse?"+query, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	if *last != "" {
		req.Header.Set("Last-Event-ID", *last)
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return nil, fmt.Errorf("status %d", resp.StatusCode)
	}
	var control []string
	dec := sse.NewDecoder(resp.Body)
	defer func() {
		if id := dec.LastEventID(); id != "" {
			*last = id
		}
	}()
	for ev, err := range dec.Events() {
		if err != nil {
			break
		}
		if len(ev.Name) > 4 && ev.Name[:4] == "sse:" {
			control = append(control, ev.Name)
			continue
		}
		*got = append(*got, ev.ID)
	}
	return control, nil
}

// TestResumeRandomReconnects cuts clients at random points of a steady
// stream of events; each reconnects with Last-Event-ID. Every client must
// see every event meant for it exactly once, in order, across all its
// reconnects.
func TestResumeRandomReconnects(t *testing.T) {
	e := newEnv(t, hub.Config{Heartbeat: 30 * time.Millisecond, MaxConnsPerUser: -1})
	type who struct {
		tenant, user string
		channels     []string
	}
	clients := []who{
		{"t1", "u1", []string{"room:1"}}, {"t1", "u1", nil}, {"t1", "u2", []string{"room:1", "room:2"}},
		{"t1", "u3", []string{"room:2"}}, {"t2", "u1", []string{"room:1"}}, {"t2", "u2", nil},
		{"t2", "u3", []string{"room:2"}}, {"t1", "u4", nil},
	}
	type published struct {
		id     string
		tenant string
		target broker.Target
	}
	var mu sync.Mutex
	var log []published
	publishing := make(chan struct{})
	admin := adminToken(t)
	const events = 600
	// Clients connect first: each resumes from the id of its first
	// sse:ready when it has no event yet.
	go func() {
		defer close(publishing)
		for e.hub.Stats().Connects < uint64(len(clients)) {
			time.Sleep(time.Millisecond)
		}
		rng := rand.New(rand.NewPCG(7, 7))
		for range events {
			tenant := []string{"t1", "t2"}[rng.IntN(2)]
			var body map[string]any
			var target broker.Target
			switch rng.IntN(5) {
			case 0:
				u := fmt.Sprintf("u%d", 1+rng.IntN(4))
				body, target = ev("x:user", tenant, map[string]any{"userId": u}, 1), broker.Target{Kind: broker.ToUser, UserIDs: []string{u}}
			case 1:
				body, target = ev("x:tenant", tenant, map[string]any{"tenantId": tenant}, 1), broker.Target{Kind: broker.ToTenant}
			case 2, 3:
				ch := fmt.Sprintf("room:%d", 1+rng.IntN(2))
				body, target = ev("x:chan", tenant, map[string]any{"channel": ch}, 1), broker.Target{Kind: broker.ToChannel, Channel: ch}
			case 4:
				tenant = ""
				body, target = ev("x:all", "", map[string]any{"broadcast": true}, 1), broker.Target{Kind: broker.ToBroadcast}
			}
			r := e.publish(admin, body)
			if r.Status != 202 {
				t.Errorf("publish: %d %s", r.Status, r.Raw)
				return
			}
			mu.Lock()
			log = append(log, published{r.Body["id"].(string), tenant, target})
			mu.Unlock()
			time.Sleep(time.Duration(rng.IntN(3000)) * time.Microsecond)
		}
	}()
	results := make([][]string, len(clients))
	reconnects := make([]int, len(clients))
	var wg sync.WaitGroup
	for i, c := range clients {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(i), 99))
			tok := userToken(t, c.tenant, c.user, "*")
			query := "channels=" + joinComma(c.channels)
			var got []string
			last := ""
			done := false
			for !done {
				select {
				case <-publishing:
					done = true // one last session after the publisher finished
				default:
				}
				d := time.Duration(5+rng.IntN(120)) * time.Millisecond
				if last == "" {
					// Until its first sse:ready a client has no id to
					// resume from: give the first session time to get it.
					d = 300 * time.Millisecond
				}
				if done {
					d = 400 * time.Millisecond
				}
				ctx, cancel := context.WithTimeout(context.Background(), d)
				control, err := session(ctx, e, tok, query, &last, &got)
				cancel()
				if err != nil && ctx.Err() == nil {
					t.Errorf("client %d: %v", i, err)
					return
				}
				if slices.Contains(control, "sse:reset") {
					t.Errorf("client %d: got sse:reset with ample history", i)
					return
				}
				reconnects[i]++
			}
			results[i] = got
		})
	}
	wg.Wait()
	for i, c := range clients {
		var want []string
		for _, p := range log {
			var ok bool
			switch p.target.Kind {
			case broker.ToBroadcast:
				ok = true
			case broker.ToTenant:
				ok = p.tenant == c.tenant
			case broker.ToUser:
				ok = p.tenant == c.tenant && p.target.UserIDs[0] == c.user
			case broker.ToChannel:
				ok = p.tenant == c.tenant && slices.Contains(c.channels, p.target.Channel)
			}
			if ok {
				want = append(want, p.id)
			}
		}
		if !slices.Equal(results[i], want) {
			t.Errorf("client %d (%s/%s): got %d events, want %d (exactly once, in order)", i, c.tenant, c.user, len(results[i]), len(want))
		} else {
			t.Logf("client %d: %d events over %d connections", i, len(want), reconnects[i])
		}
	}
}

func joinComma(s []string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += ","
		}
		out += x
	}
	return out
}

func TestResumeTooOldGetsReset(t *testing.T) {
	e := newEnv(t, hub.Config{Heartbeat: time.Hour, Broker: newSmallBroker(t, 5)})
	tok := userToken(t, "t1", "u1")
	pub := publisherToken(t, "t1")
	c := e.open(tok, "")
	first := e.mustPublish(pub, ev("a:b", "t1", map[string]any{"userId": "u1"}, 0))
	c.next(2 * time.Second)
	c.close()
	for i := range 20 {
		e.mustPublish(pub, ev("a:b", "t1", map[string]any{"userId": "u1"}, i))
	}
	for _, last := range []string{first, "zzzz-1", "garbage"} {
		c2 := e.open(tok, "", "Last-Event-ID", last)
		if got := c2.next(2 * time.Second); got.Name != "sse:reset" {
			t.Fatalf("resume after %q: got %q, want sse:reset", last, got.Name)
		}
		id := e.mustPublish(pub, ev("a:b", "t1", map[string]any{"userId": "u1"}, "live"))
		if got := c2.next(2 * time.Second); got.ID != id {
			t.Fatalf("after the reset: got %v, want live event %s", got, id)
		}
		c2.close()
	}
	// Resuming from a recent id works with the same short history.
	recent := e.mustPublish(pub, ev("a:b", "t1", map[string]any{"userId": "u1"}, "r1"))
	next := e.mustPublish(pub, ev("a:b", "t1", map[string]any{"userId": "u1"}, "r2"))
	c3 := e.open(tok, "lastEventId="+recent)
	if got := c3.next(2 * time.Second); got.ID != next {
		t.Fatalf("resume via ?lastEventId: got %v, want %s", got, next)
	}
}

func newSmallBroker(t *testing.T, n int) broker.Broker {
	b := broker.NewMemory(broker.MemoryConfig{HistorySize: n})
	t.Cleanup(func() { _ = b.Close() })
	return b
}
