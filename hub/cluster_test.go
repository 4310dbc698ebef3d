package hub_test

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/ssehub/ssehub/broker"
	"github.com/ssehub/ssehub/hub"
)

// nodes returns n hubs sharing one in-memory broker: a cluster in one
// process.
func nodes(t *testing.T, n int, cfg hub.Config) []*hub.Hub {
	t.Helper()
	b := broker.NewMemory(broker.MemoryConfig{})
	t.Cleanup(func() { _ = b.Close() })
	var hs []*hub.Hub
	for i := range n {
		c := cfg
		c.Broker = b
		c.NodeID = string(rune('a' + i))
		c.PresenceInterval = 50 * time.Millisecond
		c.Logger = slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
		hs = append(hs, newHub(t, c))
	}
	// Wait until every node has heard every other one.
	time.Sleep(150 * time.Millisecond)
	return hs
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestClusterPublishReachesEveryNode(t *testing.T) {
	hs := nodes(t, 3, hub.Config{})
	var recs []*recorder
	for _, h := range hs {
		_, rec, _ := serve(t, h, hub.ConnInfo{TenantID: "t1", UserID: "u-" + h.NodeID()})
		recs = append(recs, rec)
	}
	_, rec2, _ := serve(t, hs[1], hub.ConnInfo{TenantID: "t2", UserID: "u-b"})
	ids, err := hs[0].Publish(context.Background(), broker.Message{Event: "e", TenantID: "t1", Data: []byte("1"), Target: broker.Target{Kind: broker.ToTenant}})
	if err != nil {
		t.Fatal(err)
	}
	for i, rec := range recs {
		waitUntil(t, "delivery", func() bool { return slices.Contains(rec.ids(t), ids[0]) })
		_ = i
	}
	time.Sleep(30 * time.Millisecond)
	if got := rec2.ids(t); len(got) != 0 {
		t.Fatalf("other tenant on node b: got %v, want nothing", got)
	}
}

func TestClusterPerUserLimitEvictsOldestAnywhere(t *testing.T) {
	hs := nodes(t, 3, hub.Config{MaxConnsPerUser: 2})
	_, recA, stopA := serve(t, hs[0], hub.ConnInfo{TenantID: "t1", UserID: "u1"})
	time.Sleep(20 * time.Millisecond) // distinct connect times
	serve(t, hs[1], hub.ConnInfo{TenantID: "t1", UserID: "u1"})
	time.Sleep(20 * time.Millisecond)
	serve(t, hs[2], hub.ConnInfo{TenantID: "t1", UserID: "u1"})
	waitUntil(t, "the oldest connection, on node a, to be evicted", func() bool {
		evs := recA.decoded(t)
		return len(evs) > 0 && evs[len(evs)-1].Name == "sse:evicted"
	})
	if got := stopA(); got != hub.ReasonEvicted {
		t.Fatalf("reason: got %q, want evicted", got)
	}
	evs := recA.decoded(t)
	if last := evs[len(evs)-1]; last.Name != "sse:evicted" {
		t.Fatalf("last event on node a: got %q, want sse:evicted", last.Name)
	}
	s := hs[1].ClusterStats(context.Background())
	if s.ClientsByUser["t1/u1"] != 2 || len(s.Nodes) != 3 {
		t.Fatalf("cluster stats: got %v over %d nodes, want t1/u1:2 over 3", s.ClientsByUser, len(s.Nodes))
	}
}

func TestClusterRejectCountsOtherNodes(t *testing.T) {
	hs := nodes(t, 2, hub.Config{MaxConnsPerUser: 1, UserLimitPolicy: hub.Reject})
	serve(t, hs[0], hub.ConnInfo{TenantID: "t1", UserID: "u1"})
	waitUntil(t, "node b to learn of the connection", func() bool {
		return hs[1].ClusterStats(context.Background()).ClientsByUser["t1/u1"] == 1
	})
	_, err := hs[1].Connect(hub.ConnInfo{TenantID: "t1", UserID: "u1"})
	var le *hub.LimitError
	if !errors.As(err, &le) || le.Scope != "user" {
		t.Fatalf("second connection on another node: got %v, want a user LimitError", err)
	}
}

func TestClusterSubscriptionsOnAnotherNode(t *testing.T) {
	hs := nodes(t, 2, hub.Config{})
	c, rec, _ := serve(t, hs[1], hub.ConnInfo{TenantID: "t1", UserID: "u1"})
	ctx := context.Background()
	chans, err := hs[0].UpdateChannels(ctx, c.ID(), "t1", "u1", []string{"room:1"}, nil)
	if err != nil || !slices.Equal(chans, []string{"room:1"}) {
		t.Fatalf("UpdateChannels via node a: got %v, %v", chans, err)
	}
	ids, _ := hs[0].Publish(ctx, broker.Message{Event: "e", TenantID: "t1", Data: []byte("1"), Target: broker.Target{Kind: broker.ToChannel, Channel: "room:1"}})
	waitUntil(t, "the channel event", func() bool { return slices.Contains(rec.ids(t), ids[0]) })
	if _, err := hs[0].UpdateChannels(ctx, c.ID(), "t1", "intruder", []string{"room:2"}, nil); !errors.Is(err, hub.ErrNotFound) {
		t.Fatalf("another user's connection: got %v, want ErrNotFound", err)
	}
	if _, err := hs[0].UpdateChannels(ctx, "zz.nope", "t1", "u1", []string{"room:2"}, nil); !errors.Is(err, hub.ErrNotFound) {
		t.Fatalf("unknown node: got %v, want ErrNotFound", err)
	}
}

func TestClusterDisable(t *testing.T) {
	hs := nodes(t, 3, hub.Config{})
	_, _, stop := serve(t, hs[2], hub.ConnInfo{TenantID: "t1", UserID: "u1"})
	hs[0].SetDisabled(true)
	waitUntil(t, "the stream on node c to close", func() bool { return hs[2].Stats().TotalClients == 0 })
	if got := stop(); got != hub.ReasonDisabled {
		t.Fatalf("stream on node c: got %q, want disabled", got)
	}
	waitUntil(t, "every node disabled", func() bool { return hs[1].Disabled() && hs[2].Disabled() })
	if _, err := hs[1].Connect(hub.ConnInfo{TenantID: "t1", UserID: "u1"}); !errors.Is(err, hub.ErrDisabled) {
		t.Fatalf("connect on node b: got %v, want ErrDisabled", err)
	}
	hs[2].SetDisabled(false)
	waitUntil(t, "every node enabled", func() bool { return !hs[0].Disabled() && !hs[1].Disabled() })
}

func TestClusterForgetsSilentNode(t *testing.T) {
	hs := nodes(t, 2, hub.Config{MaxConnsPerUser: 1, UserLimitPolicy: hub.Reject})
	serve(t, hs[1], hub.ConnInfo{TenantID: "t1", UserID: "u1"})
	waitUntil(t, "node a to learn of it", func() bool {
		return hs[0].ClusterStats(context.Background()).ClientsByUser["t1/u1"] == 1
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := hs[1].Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	// Node b said goodbye to its connection; node a accepts the user again.
	waitUntil(t, "node a to accept u1", func() bool {
		c, err := hs[0].Connect(hub.ConnInfo{TenantID: "t1", UserID: "u1"})
		if err == nil {
			c.Close()
		}
		return err == nil
	})
}
