package brokertest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/ssehub/ssehub/broker"
)

// Fault interrupts the connections of the node named nodeID, which
// reaches the server through p.
type Fault struct {
	Name string
	Do   func(t *testing.T, p *Proxy, nodeID string)
}

// RunReconnect interrupts a subscriber's connections twice mid-stream, with
// each of the faults ProxyCut (connections closed), ProxyDown (dials
// refused for a while) and then extra, and checks that it resumes with no
// gap and no duplicate.
func RunReconnect(t *testing.T, e Engine, extra ...Fault) {
	faults := append([]Fault{
		{"ProxyCut", func(t *testing.T, p *Proxy, _ string) { p.Cut() }},
		{"ProxyDown", func(t *testing.T, p *Proxy, _ string) {
			p.Stop()
			time.Sleep(700 * time.Millisecond)
			p.Start()
		}},
	}, extra...)
	for _, f := range faults {
		t.Run(f.Name, func(t *testing.T) {
			ctx := ctxFor(t, 30*time.Second)
			log := e.NewLog(t)
			p := NewProxy(t, e.Addr)
			sub := e.Open(t, NodeConfig{Log: log, Addr: p.Addr(), NodeID: "sub-" + log})
			pub := e.Open(t, NodeConfig{Log: log})
			var c collector
			if _, err := sub.Subscribe(ctx, c.add); err != nil {
				t.Fatalf("Subscribe: %v", err)
			}
			const n = 300
			ids := make([]string, 0, n)
			pubDone := make(chan error, 1)
			go func() {
				for i := range n {
					got, err := pub.Publish(ctx, msg(i))
					if err != nil {
						pubDone <- err
						return
					}
					ids = append(ids, got[0])
					time.Sleep(2 * time.Millisecond)
				}
				pubDone <- nil
			}()
			for _, at := range []int{50, 150} {
				waitFor(t, 10*time.Second, fmt.Sprintf("%d deliveries", at), func() bool { return c.len() >= at })
				f.Do(t, p, "sub-"+log)
			}
			if err := <-pubDone; err != nil {
				t.Fatalf("Publish: %v", err)
			}
			waitFor(t, 15*time.Second, "every delivery", func() bool { return c.len() >= n })
			time.Sleep(100 * time.Millisecond) // a duplicate would show up now
			envs := c.all()
			if len(envs) != n {
				t.Fatalf("got %d envelopes, want %d", len(envs), n)
			}
			for i, env := range envs {
				if env.ID != ids[i] {
					t.Fatalf("envelope %d: got id %q, want %q", i, env.ID, ids[i])
				}
			}
		})
	}
}

// RunUnavailable checks that Publish, Send and Ping fail fast with
// broker.ErrUnavailable while the server cannot be reached (dials refused,
// or connections silent), and that the node works again once it can.
func RunUnavailable(t *testing.T, e Engine) {
	ctx := ctxFor(t, 30*time.Second)
	log := e.NewLog(t)
	p := NewProxy(t, e.Addr)
	b := e.Open(t, NodeConfig{Log: log, Addr: p.Addr(), Timeout: time.Second})
	var c collector
	if _, err := b.Subscribe(ctx, c.add); err != nil {
		t.Fatalf("Subscribe: %v", err)
	}
	for _, fault := range []struct {
		name      string
		on, off   func()
		failAfter time.Duration
	}{
		{"refused", p.Stop, p.Start, 1500 * time.Millisecond},
		{"silent", func() { p.Hang(true) }, func() { p.Hang(false) }, 1500 * time.Millisecond},
	} {
		fault.on()
		for name, op := range map[string]func() error{
			"Publish": func() error { _, err := b.Publish(ctx, msg(0)); return err },
			"Send":    func() error { return b.Send(ctx, broker.Control{Kind: "x"}) },
			"Ping":    func() error { return b.Ping(ctx) },
		} {
			start := time.Now()
			err := op()
			if !errors.Is(err, broker.ErrUnavailable) {
				t.Errorf("%s: %s: got %v, want ErrUnavailable", fault.name, name, err)
			}
			if d := time.Since(start); d > fault.failAfter {
				t.Errorf("%s: %s took %v to fail, want under %v", fault.name, name, d, fault.failAfter)
			}
		}
		fault.off()
		waitFor(t, 10*time.Second, "Ping to succeed again", func() bool { return b.Ping(ctx) == nil })
	}
	if _, err := b.Publish(ctx, msg(1)); err != nil {
		t.Fatalf("Publish after recovery: %v", err)
	}
	waitFor(t, 10*time.Second, "the delivery after recovery", func() bool { return c.len() >= 1 })
	if got := c.all(); len(got) != 1 || string(got[0].Data) != `{"i":1}` {
		t.Fatalf("got %d envelopes (%v), want only the one published after recovery", len(got), got)
	}
}

// RunNewEpoch deletes the log (Engine.DeleteLog) and checks that nodes
// move to a new epoch: the next Publish starts the new log at seq 1, the
// subscriber delivers it, and ids of the old log are refused.
func RunNewEpoch(t *testing.T, e Engine) {
	ctx := ctxFor(t, 20*time.Second)
	log := e.NewLog(t)
	sub := e.Open(t, NodeConfig{Log: log})
	pub := e.Open(t, NodeConfig{Log: log})
	old := pub.Epoch()
	if sub.Epoch() != old {
		t.Fatalf("nodes disagree on the epoch: %q and %q", sub.Epoch(), old)
	}
	var c collector
	if _, err := sub.Subscribe(ctx, c.add); err != nil {
		t.Fatalf("Subscribe: %v", err)
	}
	oldIDs, err := pub.Publish(ctx, msg(0), msg(1))
	if err != nil {
		t.Fatalf("Publish: %v", err)
	}
	waitFor(t, 5*time.Second, "2 deliveries", func() bool { return c.len() >= 2 })

	e.DeleteLog(t, log)

	ids, err := pub.Publish(ctx, msg(2))
	if err != nil {
		t.Fatalf("Publish after the log was lost: %v", err)
	}
	epoch := pub.Epoch()
	if epoch == old {
		t.Fatalf("epoch is still %q after the log was lost", old)
	}
	if want := broker.FormatID(epoch, 1); ids[0] != want {
		t.Fatalf("first id of the new log: got %q, want %q", ids[0], want)
	}
	waitFor(t, 5*time.Second, "the delivery from the new log", func() bool { return c.len() >= 3 })
	if got := c.all()[2]; got.ID != ids[0] || got.Seq != 1 {
		t.Fatalf("got %q seq %d, want %q seq 1", got.ID, got.Seq, ids[0])
	}
	if sub.Epoch() != epoch {
		t.Fatalf("subscriber's epoch: got %q, want %q", sub.Epoch(), epoch)
	}
	err = sub.Replay(ctx, oldIDs[0], func(broker.Envelope) error { return nil })
	if !errors.Is(err, broker.ErrUnknownEpoch) {
		t.Fatalf("Replay after an id of the lost log: got %v, want ErrUnknownEpoch", err)
	}
}

// RunHistoryAge checks that Replay refuses with broker.ErrTooOld an id
// whose successor is older than HistoryAge.
func RunHistoryAge(t *testing.T, e Engine) {
	ctx := ctxFor(t, 20*time.Second)
	b := e.Open(t, NodeConfig{Log: e.NewLog(t), HistoryAge: time.Second})
	ids, err := b.Publish(ctx, msg(0), msg(1), msg(2))
	if err != nil {
		t.Fatalf("Publish: %v", err)
	}
	if got := replayIDs(t, b, ids[0]); fmt.Sprint(got) != fmt.Sprint(ids[1:]) {
		t.Fatalf("Replay after %s: got %v, want %v", ids[0], got, ids[1:])
	}
	time.Sleep(1200 * time.Millisecond)
	next, err := b.Publish(ctx, msg(3))
	if err != nil {
		t.Fatalf("Publish: %v", err)
	}
	if err := b.Replay(ctx, ids[0], func(broker.Envelope) error { return nil }); !errors.Is(err, broker.ErrTooOld) {
		t.Fatalf("Replay after an expired id: got %v, want ErrTooOld", err)
	}
	// The message right after ids[2] is retained: that is enough.
	if got := replayIDs(t, b, ids[2]); fmt.Sprint(got) != fmt.Sprint(next) {
		t.Fatalf("Replay after %s: got %v, want %v", ids[2], got, next)
	}
}

// RunHistoryNone checks that with a negative HistorySize Replay serves
// only the end of the log.
func RunHistoryNone(t *testing.T, e Engine) {
	ctx := ctxFor(t, 10*time.Second)
	b := e.Open(t, NodeConfig{Log: e.NewLog(t), HistorySize: -1})
	ids, err := b.Publish(ctx, msg(0), msg(1))
	if err != nil {
		t.Fatalf("Publish: %v", err)
	}
	if got := replayIDs(t, b, ids[1]); len(got) != 0 {
		t.Fatalf("Replay after the last id: got %v, want nothing", got)
	}
	if err := b.Replay(ctx, ids[0], func(broker.Envelope) error { return nil }); !errors.Is(err, broker.ErrTooOld) {
		t.Fatalf("Replay with no history: got %v, want ErrTooOld", err)
	}
}

func replayIDs(t *testing.T, b broker.Broker, after string) []string {
	t.Helper()
	var got []string
	if err := b.Replay(ctxFor(t, 5*time.Second), after, func(env broker.Envelope) error {
		got = append(got, env.ID)
		return nil
	}); err != nil {
		t.Fatalf("Replay after %s: %v", after, err)
	}
	return got
}

// RunCloseStopsGoroutines checks that Close ends every goroutine the
// broker started, with subscriptions and listeners still running.
func RunCloseStopsGoroutines(t *testing.T, e Engine) {
	log := e.NewLog(t)
	ignore := goleak.IgnoreCurrent()
	ctx := context.Background()
	b, err := e.New(ctx, NodeConfig{Log: log})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	var c collector
	subDone, err := b.Subscribe(ctx, c.add)
	if err != nil {
		t.Fatalf("Subscribe: %v", err)
	}
	listenDone, err := b.Listen(ctx, func(broker.Control) {})
	if err != nil {
		t.Fatalf("Listen: %v", err)
	}
	if _, err := b.Publish(ctx, msg(0)); err != nil {
		t.Fatalf("Publish: %v", err)
	}
	waitFor(t, 5*time.Second, "a delivery", func() bool { return c.len() == 1 })
	start := time.Now()
	if err := b.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Close took %v, want it prompt", d)
	}
	for name, ch := range map[string]<-chan struct{}{"Subscribe": subDone, "Listen": listenDone} {
		select {
		case <-ch:
		default:
			t.Errorf("%s's channel is open after Close", name)
		}
	}
	goleak.VerifyNone(t, ignore)
}
