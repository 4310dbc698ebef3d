package hub_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/ssehub/ssehub/broker"
	"github.com/ssehub/ssehub/hub"
)

// TestTypingCoalescesPerSender is the group chat of issue 15: two users
// typing in one channel. Coalescing is per sender, so the last state of
// each user reaches the listener and "alice is typing" clears.
func TestTypingCoalescesPerSender(t *testing.T) {
	h := newHub(t, hub.Config{}) // the seed's defaults: chat:typing 1/s coalesced
	_, rec, _ := serve(t, h, hub.ConnInfo{TenantID: "t1", UserID: "bob", Channels: []string{"conversation:1"}})
	ctx := context.Background()
	for _, s := range []struct {
		user   string
		typing bool
	}{{"alice", true}, {"carol", true}, {"alice", false}, {"carol", true}} {
		data, _ := json.Marshal(map[string]any{"conversationId": "1", "userId": s.user, "isTyping": s.typing})
		if _, err := h.Publish(ctx, broker.Message{Event: "chat:typing", TenantID: "t1", Data: data,
			Target: broker.Target{Kind: broker.ToChannel, Channel: "conversation:1"}}); err != nil {
			t.Fatal(err)
		}
	}
	want := map[string]bool{"alice": false, "carol": true}
	deadline := time.Now().Add(5 * time.Second)
	for {
		last := map[string]bool{}
		for _, ev := range rec.decoded(t) {
			if ev.Name != "chat:typing" {
				continue
			}
			var p struct {
				UserID   string `json:"userId"`
				IsTyping bool   `json:"isTyping"`
			}
			if err := json.Unmarshal([]byte(ev.Data), &p); err != nil {
				t.Fatal(err)
			}
			last[p.UserID] = p.IsTyping
		}
		if len(last) == 2 && last["alice"] == want["alice"] && last["carol"] == want["carol"] {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("last typing state per user = %v, want %v", last, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
