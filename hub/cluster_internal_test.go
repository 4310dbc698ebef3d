package hub

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ssehub/ssehub/broker"
)

// remoteConns counts the connections h knows of on other nodes.
func remoteConns(h *Hub) int {
	h.cl.mu.Lock()
	defer h.cl.mu.Unlock()
	n := 0
	for _, m := range h.cl.byUser {
		n += len(m)
	}
	return n
}

// TestClusterBatchesAndSnapshotParts connects more connections than one
// snapshot part holds: the other node learns them through batched changes,
// and after forgetting them, through a snapshot sent in several parts.
func TestClusterBatchesAndSnapshotParts(t *testing.T) {
	b := broker.NewMemory(broker.MemoryConfig{})
	defer b.Close()
	cfg := Config{Broker: b, MaxConns: -1, PresenceInterval: 20 * time.Millisecond}
	cfg.NodeID = "a"
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cfg.NodeID = "b"
	bn, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = a.Shutdown(ctx)
		_ = bn.Shutdown(ctx)
	}()
	const n = 2*snapshotPart + 500
	var conns []*Conn
	for i := range n {
		c, err := a.Connect(ConnInfo{TenantID: "t1", UserID: fmt.Sprintf("u%d", i)})
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	wait := func(what string, want int) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for remoteConns(bn) != want {
			if time.Now().After(deadline) {
				t.Fatalf("%s: node b knows %d of node a's connections, want %d", what, remoteConns(bn), want)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	wait("after the connect burst", n)
	// Forget everything: the next full snapshot, in three parts, repairs it.
	bn.cl.mu.Lock()
	for _, node := range bn.cl.nodes {
		for _, rc := range node.conns {
			bn.cl.forget(rc)
		}
		node.conns = map[ConnID]remoteConn{}
	}
	bn.cl.mu.Unlock()
	wait("after a full snapshot", n)
	for _, c := range conns[:100] {
		c.Close()
	}
	conns = conns[100:]
	wait("after 100 closes", n-100)
}
