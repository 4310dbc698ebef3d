package hub_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/ssehub/ssehub/broker"
	"github.com/ssehub/ssehub/hub"
)

// TestIdempotencyKeyBudget: a tenant may publish MaxIdempotencyKeys keyed
// events per window on a node; beyond that the publish is refused whole,
// appends nothing, and other tenants are not affected. Repeats of a key
// still answer the first id through the broker.
func TestIdempotencyKeyBudget(t *testing.T) {
	h := newHub(t, hub.Config{MaxIdempotencyKeys: 3})
	ctx := context.Background()
	keyed := func(tenant, key string) broker.Message {
		return broker.Message{Event: "e", TenantID: tenant, Data: []byte(`{}`), Target: broker.Target{Kind: broker.ToTenant}, IdempotencyKey: key}
	}
	first, err := h.Publish(ctx, keyed("t1", "a"), keyed("t1", "b"))
	if err != nil {
		t.Fatal(err)
	}
	again, err := h.Publish(ctx, keyed("t1", "a"))
	if err != nil || again[0] != first[0] {
		t.Fatalf("repeat of key a: %v %v, want %s", again, err, first[0])
	}
	if _, err := h.Publish(ctx, keyed("t1", "c")); !errors.Is(err, hub.ErrRateLimited) {
		t.Fatalf("the fourth keyed event of t1: %v, want ErrRateLimited", err)
	}
	if _, err := h.Publish(ctx, broker.Message{Event: "e", TenantID: "t1", Data: []byte(`{}`), Target: broker.Target{Kind: broker.ToTenant}}); err != nil {
		t.Fatalf("an event without a key in t1: %v", err)
	}
	for i := range 3 {
		if _, err := h.Publish(ctx, keyed("t2", fmt.Sprint(i))); err != nil {
			t.Fatalf("t2's keyed event %d: %v", i, err)
		}
	}
	if _, err := h.Publish(ctx, keyed("t1", "x"), keyed("t1", "x")); err == nil {
		t.Fatal("a key twice in one batch was accepted")
	}
}
