package broker_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/ssehub/ssehub/broker"
	"github.com/ssehub/ssehub/broker/brokertest"
)

func TestMemoryConformance(t *testing.T) {
	brokertest.Run(t, func(t *testing.T, o brokertest.Options) []broker.Broker {
		m := broker.NewMemory(broker.MemoryConfig{HistorySize: o.HistorySize})
		t.Cleanup(func() { _ = m.Close() })
		// One in-process log: every "node" shares the same broker.
		bs := make([]broker.Broker, o.Nodes)
		for i := range bs {
			bs[i] = m
		}
		return bs
	})
}

// TestMemoryHistoryBytes keeps 20 messages of 1 KiB in a history bounded
// to 10 KiB: the oldest go, what is kept is in order and whole, and a
// replay from before it is refused with ErrTooOld.
func TestMemoryHistoryBytes(t *testing.T) {
	m := broker.NewMemory(broker.MemoryConfig{HistoryBytes: 10 << 10})
	t.Cleanup(func() { _ = m.Close() })
	ctx := t.Context()
	data := []byte(`"` + strings.Repeat("x", 1<<10) + `"`)
	var ids []string
	for range 20 {
		id, err := m.Publish(ctx, broker.Message{Event: "e", TenantID: "t", Data: data, Target: broker.Target{Kind: broker.ToTenant}})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id[0])
	}
	if err := m.Replay(ctx, ids[0], func(broker.Envelope) error { return nil }); !errors.Is(err, broker.ErrTooOld) {
		t.Fatalf("replay after the first of 20 KiB: got %v, want ErrTooOld", err)
	}
	// Find the oldest kept: replay after each id until one is accepted.
	kept := -1
	for i := range ids {
		var got []string
		err := m.Replay(ctx, ids[i], func(e broker.Envelope) error { got = append(got, e.ID); return nil })
		if err == nil {
			if !slices.Equal(got, ids[i+1:]) {
				t.Fatalf("replay after %d: got %d ids, want %d in order", i, len(got), len(ids)-i-1)
			}
			kept = len(ids) - i
			break
		}
	}
	// Each message counts its data plus the envelope's names and ids.
	if kept < 7 || kept > 10 {
		t.Fatalf("messages reachable by replay: %d (including the one replayed after), want 7 to 10 under a 10 KiB bound", kept)
	}
}
