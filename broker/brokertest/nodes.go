package brokertest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/ssehub/ssehub/broker"
)

// RunBus checks that a control message sent by one of three nodes reaches
// every node, the sender included, once.
func RunBus(t *testing.T, e Engine) {
	ctx := ctxFor(t, 20*time.Second)
	log := e.NewLog(t)
	const nodes = 3
	var (
		mu  sync.Mutex
		got = map[int][]broker.Control{}
	)
	arrived := make(chan struct{}, 16)
	var bs []Node
	for i := range nodes {
		b := e.Open(t, NodeConfig{Log: log, NodeID: string(rune('a' + i))})
		bs = append(bs, b)
		if _, err := b.Listen(ctx, func(c broker.Control) {
			mu.Lock()
			got[i] = append(got[i], c)
			mu.Unlock()
			arrived <- struct{}{}
		}); err != nil {
			t.Fatalf("Listen: %v", err)
		}
	}
	want := broker.Control{Kind: "evict", From: "a", To: "b", Body: []byte(`{"conn":"c1"}`)}
	if err := bs[0].Send(ctx, want); err != nil {
		t.Fatalf("Send: %v", err)
	}
	for range nodes {
		select {
		case <-arrived:
		case <-ctx.Done():
			t.Fatalf("control message reached %d of %d nodes", len(got), nodes)
		}
	}
	time.Sleep(100 * time.Millisecond) // a duplicate would show up now
	mu.Lock()
	defer mu.Unlock()
	for i := range nodes {
		if len(got[i]) != 1 {
			t.Fatalf("node %d got %d control messages, want 1", i, len(got[i]))
		}
		c := got[i][0]
		if c.Kind != want.Kind || c.From != want.From || c.To != want.To || string(c.Body) != string(want.Body) {
			t.Fatalf("node %d got %+v, want %+v", i, c, want)
		}
	}
}

// RunListenStops checks that Listen stops when its context is cancelled.
func RunListenStops(t *testing.T, e Engine) {
	b := e.Open(t, NodeConfig{Log: e.NewLog(t)})
	ctx, cancel := context.WithCancel(ctxFor(t, 10*time.Second))
	stopped, err := b.Listen(ctx, func(broker.Control) {})
	if err != nil {
		t.Fatalf("Listen: %v", err)
	}
	cancel()
	select {
	case <-stopped:
	case <-time.After(5 * time.Second):
		t.Fatal("Listen did not stop after its context was cancelled")
	}
}

// RunPing checks that Ping answers, that Close is idempotent, and that
// every method fails with broker.ErrClosed after Close.
func RunPing(t *testing.T, e Engine) {
	ctx := ctxFor(t, 10*time.Second)
	b := e.Open(t, NodeConfig{Log: e.NewLog(t)})
	if err := b.Ping(ctx); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	if err := b.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := b.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	for name, err := range map[string]error{
		"Ping":    b.Ping(ctx),
		"Send":    b.Send(ctx, broker.Control{Kind: "x"}),
		"Replay":  b.Replay(ctx, b.Epoch()+"-0", func(broker.Envelope) error { return nil }),
		"Publish": func() error { _, err := b.Publish(ctx, msg(1)); return err }(),
		"Subscribe": func() error {
			_, err := b.Subscribe(ctx, func(broker.Envelope) {})
			return err
		}(),
		"Listen": func() error { _, err := b.Listen(ctx, func(broker.Control) {}); return err }(),
	} {
		if !errors.Is(err, broker.ErrClosed) {
			t.Errorf("%s after Close: got %v, want ErrClosed", name, err)
		}
	}
}

// RunNewUnreachable checks that connecting to an address nobody listens
// on, which connect does, fails with broker.ErrUnavailable within 3
// seconds.
func RunNewUnreachable(t *testing.T, connect func(ctx context.Context) error) {
	ctx := ctxFor(t, 10*time.Second)
	start := time.Now()
	if err := connect(ctx); !errors.Is(err, broker.ErrUnavailable) {
		t.Fatalf("New with nothing listening: got %v, want ErrUnavailable", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("New took %v to fail, want under 3s", d)
	}
}

// RunReplayLong replays more than one page, and more than a replay of one
// request per message handles.
func RunReplayLong(t *testing.T, e Engine) {
	ctx := ctxFor(t, 20*time.Second)
	b := e.Open(t, NodeConfig{Log: e.NewLog(t), HistorySize: 1000})
	var ids []string
	for i := range 6 {
		batch := make([]broker.Message, 100)
		for j := range batch {
			batch[j] = msg(i*100 + j)
		}
		got, err := b.Publish(ctx, batch...)
		if err != nil {
			t.Fatalf("Publish: %v", err)
		}
		ids = append(ids, got...)
	}
	var got []broker.Envelope
	if err := b.Replay(ctx, ids[10], func(env broker.Envelope) error {
		got = append(got, env)
		return nil
	}); err != nil {
		t.Fatalf("Replay: %v", err)
	}
	if len(got) != len(ids)-11 {
		t.Fatalf("Replay returned %d envelopes, want %d", len(got), len(ids)-11)
	}
	for i, env := range got {
		if env.ID != ids[11+i] || string(env.Data) != string(msg(11+i).Data) {
			t.Fatalf("envelope %d: got %s %s, want %s %s", i, env.ID, env.Data, ids[11+i], msg(11+i).Data)
		}
	}
	stop := errors.New("stop")
	n := 0
	err := b.Replay(ctx, ids[0], func(broker.Envelope) error {
		if n++; n == 300 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 300 {
		t.Fatalf("Replay with fn failing at 300: got %v after %d calls", err, n)
	}
}
