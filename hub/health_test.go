package hub_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ssehub/ssehub/broker"
	"github.com/ssehub/ssehub/hub"
)

// TestHealth: a running hub is healthy with no lag once it has dispatched
// what it published, and ErrClosed after Shutdown.
func TestHealth(t *testing.T) {
	h, err := hub.New(hub.Config{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := h.Publish(ctx, broker.Message{Event: "a:b", TenantID: "t1", Data: []byte(`1`),
		Target: broker.Target{Kind: broker.ToTenant}}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		hl := h.Health(ctx, 100)
		if hl.Err != nil {
			t.Fatalf("Health of a running hub: %v", hl.Err)
		}
		if hl.LagEvents == 0 && hl.Lag == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("lag stays at %d events (%v)", hl.LagEvents, hl.Lag)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := h.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if hl := h.Health(ctx, 100); !errors.Is(hl.Err, hub.ErrClosed) {
		t.Fatalf("Health after Shutdown: %v, want ErrClosed", hl.Err)
	}
}
