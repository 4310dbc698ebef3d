package ssehttp_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/ssehub/ssehub/hub"
)

// TestRefusedSubscriptionChangesNothing: a subscription change that would
// take a connection over MaxChannels is refused with 400 and leaves its
// channels exactly as they were, including a channel the request named
// that the connection already had.
func TestRefusedSubscriptionChangesNothing(t *testing.T) {
	e := newEnv(t, hub.Config{Heartbeat: time.Hour, MaxChannels: 3})
	tok := userToken(t, "t1", "u1", "room:*")
	c := e.open(tok, "channels=room:a,room:b")
	r := e.do("POST", "/api/sse/subscriptions", tok, map[string]any{"connectionId": c.ready.ConnectionID, "subscribe": []string{"room:a", "room:c", "room:d"}})
	if r.Status != 400 || r.code() != "invalid_request" {
		t.Fatalf("over the limit: got %d %s, want 400 invalid_request", r.Status, r.Raw)
	}
	// The connection still has room:a and room:b, and nothing else.
	for i, ch := range []string{"room:a", "room:b", "room:c", "room:d"} {
		e.mustPublish(adminToken(t), ev("a:b", "t1", map[string]any{"channel": ch}, i))
	}
	var got []string
	for _, ev := range c.drain(500 * time.Millisecond) {
		got = append(got, ev.Data)
	}
	if fmt.Sprint(got) != "[0 1]" {
		t.Fatalf("events after the refused change: %v, want [0 1] (room:a and room:b)", got)
	}
	// Within the limit the same change passes.
	r = e.do("POST", "/api/sse/subscriptions", tok, map[string]any{"connectionId": c.ready.ConnectionID, "subscribe": []string{"room:a", "room:c"}})
	if r.Status != 200 || fmt.Sprint(r.Body["channels"]) != "[room:a room:b room:c]" {
		t.Fatalf("within the limit: got %d %s", r.Status, r.Raw)
	}
}
