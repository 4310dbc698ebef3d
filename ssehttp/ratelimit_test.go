package ssehttp_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/ssehub/ssehub/hub"
	"github.com/ssehub/ssehub/ratelimit"
	"github.com/ssehub/ssehub/ssehttp"
)

func TestCoalescedTyping(t *testing.T) {
	e := newEnv(t, hub.Config{Heartbeat: time.Hour}) // default rules: chat:typing 1/s coalesced
	c := e.open(userToken(t, "t1", "u1", "*"), "channels=conversation:1")
	pub := publisherToken(t, "t1")
	start := time.Now()
	held := 0
	for i := range 100 {
		r := e.publish(pub, ev("chat:typing", "t1", map[string]any{"channel": "conversation:1"}, map[string]any{"n": i}))
		if r.Status != 202 {
			t.Fatalf("publish %d: got %d %s", i, r.Status, r.Raw)
		}
		if r.Body["coalesced"] == true {
			held++
		}
	}
	if time.Since(start) > 900*time.Millisecond {
		t.Skip("the burst took longer than one window on this machine; the window arithmetic below would not hold")
	}
	evs := c.drain(1500 * time.Millisecond)
	if len(evs) != 2 {
		t.Fatalf("deliveries in the first window and at its end: got %d, want 2", len(evs))
	}
	var first, last struct{ N int }
	_ = json.Unmarshal([]byte(evs[0].Data), &first)
	_ = json.Unmarshal([]byte(evs[1].Data), &last)
	if first.N != 0 || last.N != 99 {
		t.Fatalf("payloads: got %d then %d, want 0 then 99 (the last always arrives)", first.N, last.N)
	}
	s := e.hub.Stats()
	if held != 99 || s.EventsCoalesced != 99 || s.EventsPublished != 2 {
		t.Fatalf("held %d, stats coalesced %d published %d; want 99, 99, 2", held, s.EventsCoalesced, s.EventsPublished)
	}
}

func TestDropModeAnswers429(t *testing.T) {
	e := newEnv(t, hub.Config{Heartbeat: time.Hour, RateLimits: map[string]ratelimit.Rule{
		"bulk:import": {Interval: time.Hour, Mode: ratelimit.Drop},
	}})
	pub := publisherToken(t, "t1")
	body := ev("bulk:import", "t1", map[string]any{"tenantId": "t1"}, 1)
	e.mustPublish(pub, body)
	for range 3 {
		r := e.publish(pub, body)
		if r.Status != 429 || r.code() != "rate_limited" || r.Header.Get("Retry-After") == "" {
			t.Fatalf("over the limit: got %d %s, want 429 rate_limited with Retry-After", r.Status, r.Raw)
		}
	}
	// Another target is not limited by this one.
	e.mustPublish(pub, ev("bulk:import", "t1", map[string]any{"userId": "u1"}, 1))
	r := e.do("GET", "/api/sse/stats", adminToken(t), nil)
	if r.Body["eventsRateLimited"] != 3.0 || r.Body["eventsPublished"] != 2.0 {
		t.Fatalf("stats: got %s, want 3 rate-limited and 2 published", r.Raw)
	}
}

func TestPublisherTokenBucket(t *testing.T) {
	e := newEnv(t, hub.Config{Heartbeat: time.Hour}, func(c *ssehttp.Config) { c.PublisherRate, c.PublisherBurst = 1, 3 })
	pub := publisherToken(t, "t1")
	body := ev("a:b", "t1", map[string]any{"tenantId": "t1"}, 1)
	for i := range 3 {
		if r := e.publish(pub, body); r.Status != 202 {
			t.Fatalf("request %d within the burst: got %d", i, r.Status)
		}
	}
	if r := e.publish(pub, body); r.Status != 429 || r.code() != "rate_limited" {
		t.Fatalf("past the burst: got %d %s, want 429", r.Status, r.Raw)
	}
	if r := e.publish(publisherToken(t, "t2"), ev("a:b", "t2", map[string]any{"tenantId": "t2"}, 1)); r.Status != 202 {
		t.Fatalf("another publisher: got %d, want 202", r.Status)
	}
}

func TestIdempotentPublish(t *testing.T) {
	e := newEnv(t, hub.Config{Heartbeat: time.Hour})
	c := e.open(userToken(t, "t1", "u1"), "")
	pub := publisherToken(t, "t1")
	body := ev("invoice:created", "t1", map[string]any{"userId": "u1"}, map[string]any{"id": "inv1"})
	body["idempotencyKey"] = "create-inv1"
	id1 := e.mustPublish(pub, body)
	id2 := e.mustPublish(pub, body)
	if id1 != id2 {
		t.Fatalf("repeated key: got ids %s and %s, want the same", id1, id2)
	}
	other := ev("invoice:created", "t1", map[string]any{"userId": "u1"}, map[string]any{"id": "inv2"})
	other["idempotencyKey"] = "create-inv2"
	id3 := e.mustPublish(pub, other)
	got := c.drain(300 * time.Millisecond)
	if len(got) != 2 || got[0].ID != id1 || got[1].ID != id3 {
		t.Fatalf("delivered: got %v, want exactly %s and %s", got, id1, id3)
	}
}
