// Package brokertest is the conformance suite for [broker.Broker]
// implementations. Every broker runs it from its own tests:
//
//	func TestConformance(t *testing.T) {
//		brokertest.Run(t, func(t *testing.T, o brokertest.Options) []broker.Broker {
//			return newNodes(t, o) // o.Nodes brokers sharing one log
//		})
//	}
//
// Brokers backed by a server (redisbroker, natsbroker) describe it as an
// [Engine] and also share the tests beyond the contract: the bus, network
// faults through a [Proxy], crashes of a [Server] process of the test's
// own, history limits and goroutine leaks (the Run* functions), and the
// benchmarks (the Bench* functions).
package brokertest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ssehub/ssehub/broker"
)

// Options describe the brokers a test needs.
type Options struct {
	// Nodes is how many brokers sharing one log to return (one per
	// simulated node).
	Nodes int
	// HistorySize is the number of messages the log must retain.
	HistorySize int
}

// Factory returns o.Nodes brokers sharing one fresh log. It registers their
// cleanup with t.Cleanup.
type Factory func(t *testing.T, o Options) []broker.Broker

// Run runs the conformance suite.
func Run(t *testing.T, newBrokers Factory) {
	t.Run("PublishReachesEveryNodeInOrder", func(t *testing.T) { testOrder(t, newBrokers) })
	t.Run("ConcurrentPublishersOneOrder", func(t *testing.T) { testConcurrent(t, newBrokers) })
	t.Run("MessageRoundTrip", func(t *testing.T) { testRoundTrip(t, newBrokers) })
	t.Run("Replay", func(t *testing.T) { testReplay(t, newBrokers) })
	t.Run("ReplayTooOld", func(t *testing.T) { testTooOld(t, newBrokers) })
	t.Run("ReplayUnknownEpoch", func(t *testing.T) { testUnknownEpoch(t, newBrokers) })
	t.Run("SubscribeStops", func(t *testing.T) { testSubscribeStops(t, newBrokers) })
	t.Run("IdempotencyKeys", func(t *testing.T) { testIdempotency(t, newBrokers) })
}

// testIdempotency: a key claimed once, from any node, is not appended
// again within the window and answers the first id; keys are per tenant;
// in a batch only the new keys are appended.
func testIdempotency(t *testing.T, newBrokers Factory) {
	ctx := ctxT(t)
	bs := newBrokers(t, Options{Nodes: 2, HistorySize: 100})
	col := subscribe(t, ctx, bs[0])
	keyed := func(i int, tenant, key string) broker.Message {
		m := msg(i)
		m.TenantID, m.IdempotencyKey = tenant, key
		return m
	}
	pub := func(b broker.Broker, ms ...broker.Message) []string {
		t.Helper()
		ids, err := b.Publish(ctx, ms...)
		if err != nil || len(ids) != len(ms) {
			t.Fatalf("Publish: %v, %v", ids, err)
		}
		return ids
	}
	first := pub(bs[0], keyed(0, "t1", "a"), msg(1), keyed(2, "t1", "b"))
	if again := pub(bs[1], keyed(3, "t1", "a")); again[0] != first[0] {
		t.Errorf("key a again on another node: id %s, want the first one's %s", again[0], first[0])
	}
	other := pub(bs[1], keyed(4, "t2", "a"))
	if other[0] == first[0] {
		t.Errorf("key a in another tenant got the id of t1's: %s", other[0])
	}
	mixed := pub(bs[0], keyed(5, "t1", "b"), keyed(6, "t1", "c"))
	if mixed[0] != first[2] || mixed[1] == first[2] {
		t.Errorf("batch of an old key b and a new key c: ids %v, want %s then a new one", mixed, first[2])
	}
	fence := pub(bs[1], msg(7))
	want := []string{first[0], first[1], first[2], other[0], mixed[1], fence[0]}
	got := col.wait(t, len(want))
	var ids []string
	for _, env := range got {
		ids = append(ids, env.ID)
	}
	if fmt.Sprint(ids) != fmt.Sprint(want) {
		t.Fatalf("log holds %v, want %v (each key once)", ids, want)
	}
	if env := got[4]; string(env.Data) != `{"i":6}` {
		t.Errorf("the new key's message has data %s, want {\"i\":6}", env.Data)
	}
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

type collector struct {
	mu   sync.Mutex
	envs []broker.Envelope
	more chan struct{}
}

func subscribe(t *testing.T, ctx context.Context, b broker.Broker) *collector {
	t.Helper()
	c := &collector{more: make(chan struct{}, 1)}
	_, err := b.Subscribe(ctx, c.add)
	if err != nil {
		t.Fatalf("Subscribe: %v", err)
	}
	return c
}

// wait returns once n envelopes arrived, failing the test after a timeout.
func (c *collector) wait(t *testing.T, n int) []broker.Envelope {
	t.Helper()
	deadline := time.After(15 * time.Second)
	for {
		c.mu.Lock()
		got := len(c.envs)
		if got >= n {
			out := append([]broker.Envelope(nil), c.envs...)
			c.mu.Unlock()
			return out
		}
		c.mu.Unlock()
		select {
		case <-c.more:
		case <-deadline:
			t.Fatalf("got %d envelopes, want %d", got, n)
		}
	}
}

func msg(i int) broker.Message {
	return broker.Message{
		Event: "test:event", TenantID: "t1",
		Data:   fmt.Appendf(nil, `{"i":%d}`, i),
		Target: broker.Target{Kind: broker.ToTenant},
	}
}

func testOrder(t *testing.T, newBrokers Factory) {
	ctx := ctxT(t)
	bs := newBrokers(t, Options{Nodes: 3, HistorySize: 1000})
	cols := make([]*collector, len(bs))
	for i, b := range bs {
		cols[i] = subscribe(t, ctx, b)
	}
	const n = 50
	var ids []string
	for i := range n {
		got, err := bs[i%len(bs)].Publish(ctx, msg(i))
		if err != nil {
			t.Fatalf("Publish: %v", err)
		}
		if len(got) != 1 || got[0] == "" {
			t.Fatalf("Publish returned ids %q, want one id", got)
		}
		ids = append(ids, got[0])
	}
	for node, c := range cols {
		envs := c.wait(t, n)
		if len(envs) != n {
			t.Fatalf("node %d: got %d envelopes, want %d", node, len(envs), n)
		}
		for i, env := range envs {
			if env.ID != ids[i] {
				t.Fatalf("node %d: envelope %d has id %q, want %q", node, i, env.ID, ids[i])
			}
			if want := fmt.Sprintf(`{"i":%d}`, i); string(env.Data) != want {
				t.Fatalf("node %d: envelope %d has data %s, want %s", node, i, env.Data, want)
			}
			if i > 0 && env.Seq <= envs[i-1].Seq {
				t.Fatalf("node %d: seq %d after %d, want increasing", node, env.Seq, envs[i-1].Seq)
			}
		}
	}
}

func testConcurrent(t *testing.T, newBrokers Factory) {
	ctx := ctxT(t)
	bs := newBrokers(t, Options{Nodes: 2, HistorySize: 1000})
	c0, c1 := subscribe(t, ctx, bs[0]), subscribe(t, ctx, bs[1])
	const per, workers = 40, 4
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range per {
				// A batch of two, to check batches stay whole.
				if _, err := bs[w%2].Publish(ctx, msg(w*1000+i), msg(w*1000+i)); err != nil {
					t.Errorf("Publish: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	a, b := c0.wait(t, per*workers*2), c1.wait(t, per*workers*2)
	for i := range a {
		if a[i].ID != b[i].ID {
			t.Fatalf("envelope %d: node 0 saw %q, node 1 saw %q: want one order", i, a[i].ID, b[i].ID)
		}
	}
	seen := map[string]bool{}
	for _, env := range a {
		if seen[env.ID] {
			t.Fatalf("id %q delivered twice", env.ID)
		}
		seen[env.ID] = true
	}
}

func testRoundTrip(t *testing.T, newBrokers Factory) {
	ctx := ctxT(t)
	bs := newBrokers(t, Options{Nodes: 1, HistorySize: 100})
	c := subscribe(t, ctx, bs[0])
	want := broker.Message{
		Event: "chat:message", TenantID: "t9", Data: []byte("{\"text\":\"a\\nb ünï\"}"),
		Target:      broker.Target{Kind: broker.ToUsers, UserIDs: []string{"u1", "u2"}},
		ExcludeConn: "c-123",
	}
	bcast := broker.Message{Event: "system:announcement", Data: []byte(`{}`), Target: broker.Target{Kind: broker.ToBroadcast}}
	ch := broker.Message{Event: "x", TenantID: "t1", Data: []byte(`1`), Target: broker.Target{Kind: broker.ToChannel, Channel: "a/b@c"}}
	if _, err := bs[0].Publish(ctx, want, bcast, ch); err != nil {
		t.Fatalf("Publish: %v", err)
	}
	got := c.wait(t, 3)
	for i, w := range []broker.Message{want, bcast, ch} {
		g := got[i].Message
		if g.Event != w.Event || g.TenantID != w.TenantID || string(g.Data) != string(w.Data) ||
			g.Target.Kind != w.Target.Kind || g.Target.Channel != w.Target.Channel ||
			fmt.Sprint(g.Target.UserIDs) != fmt.Sprint(w.Target.UserIDs) || g.ExcludeConn != w.ExcludeConn {
			t.Fatalf("message %d: got %+v, want %+v", i, g, w)
		}
		if got[i].Time.IsZero() {
			t.Fatalf("message %d: zero Time", i)
		}
	}
}

func testReplay(t *testing.T, newBrokers Factory) {
	ctx := ctxT(t)
	bs := newBrokers(t, Options{Nodes: 2, HistorySize: 100})
	var ids []string
	for i := range 10 {
		got, err := bs[0].Publish(ctx, msg(i))
		if err != nil {
			t.Fatalf("Publish: %v", err)
		}
		ids = append(ids, got[0])
	}
	for _, b := range bs { // replay works from any node
		var got []string
		err := b.Replay(ctx, ids[3], func(env broker.Envelope) error {
			got = append(got, env.ID)
			return nil
		})
		if err != nil {
			t.Fatalf("Replay: %v", err)
		}
		if fmt.Sprint(got) != fmt.Sprint(ids[4:]) {
			t.Fatalf("Replay after %s: got %v, want %v", ids[3], got, ids[4:])
		}
		got = nil
		if err := b.Replay(ctx, ids[9], func(env broker.Envelope) error { got = append(got, env.ID); return nil }); err != nil || len(got) != 0 {
			t.Fatalf("Replay after the last id: got %v, %v; want nothing, nil", got, err)
		}
	}
	stop := errors.New("stop")
	n := 0
	err := bs[0].Replay(ctx, ids[0], func(broker.Envelope) error { n++; return stop })
	if !errors.Is(err, stop) || n != 1 {
		t.Fatalf("Replay with failing fn: got %v after %d calls, want stop after 1", err, n)
	}
}

func testTooOld(t *testing.T, newBrokers Factory) {
	ctx := ctxT(t)
	bs := newBrokers(t, Options{Nodes: 1, HistorySize: 5})
	var ids []string
	for i := range 20 {
		got, err := bs[0].Publish(ctx, msg(i))
		if err != nil {
			t.Fatalf("Publish: %v", err)
		}
		ids = append(ids, got[0])
	}
	err := bs[0].Replay(ctx, ids[0], func(broker.Envelope) error { return nil })
	if !errors.Is(err, broker.ErrTooOld) {
		t.Fatalf("Replay after a trimmed id: got %v, want ErrTooOld", err)
	}
	var got []string
	if err := bs[0].Replay(ctx, ids[17], func(env broker.Envelope) error { got = append(got, env.ID); return nil }); err != nil {
		t.Fatalf("Replay after a recent id: %v", err)
	}
	if fmt.Sprint(got) != fmt.Sprint(ids[18:]) {
		t.Fatalf("Replay after %s: got %v, want %v", ids[17], got, ids[18:])
	}
}

func testUnknownEpoch(t *testing.T, newBrokers Factory) {
	ctx := ctxT(t)
	bs := newBrokers(t, Options{Nodes: 1, HistorySize: 5})
	if _, err := bs[0].Publish(ctx, msg(1)); err != nil {
		t.Fatalf("Publish: %v", err)
	}
	for _, id := range []string{"", "garbage", "zzzzzzzz-1", bs[0].Epoch() + "-zzzzzzzzzz", "-", "\x00"} {
		err := bs[0].Replay(ctx, id, func(broker.Envelope) error { return nil })
		if !errors.Is(err, broker.ErrUnknownEpoch) {
			t.Errorf("Replay after %q: got %v, want ErrUnknownEpoch", id, err)
		}
	}
	other := newBrokers(t, Options{Nodes: 1, HistorySize: 5})[0]
	ids, err := other.Publish(ctx, msg(2))
	if err != nil {
		t.Fatalf("Publish: %v", err)
	}
	if err := bs[0].Replay(ctx, ids[0], func(broker.Envelope) error { return nil }); !errors.Is(err, broker.ErrUnknownEpoch) {
		t.Fatalf("Replay after another log's id: got %v, want ErrUnknownEpoch", err)
	}
}

func testSubscribeStops(t *testing.T, newBrokers Factory) {
	ctx := ctxT(t)
	bs := newBrokers(t, Options{Nodes: 1, HistorySize: 5})
	sctx, cancel := context.WithCancel(ctx)
	stopped, err := bs[0].Subscribe(sctx, func(broker.Envelope) {})
	if err != nil {
		t.Fatalf("Subscribe: %v", err)
	}
	cancel()
	select {
	case <-stopped:
	case <-time.After(10 * time.Second):
		t.Fatal("subscription did not stop after its context was cancelled")
	}
	// Publishing with a stopped subscriber must not block.
	done := make(chan error, 1)
	go func() { _, err := bs[0].Publish(ctx, msg(1)); done <- err }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Publish after a subscription stopped: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Publish blocked on a stopped subscription")
	}
}
