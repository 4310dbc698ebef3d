package brokertest

import (
	"errors"
	"testing"
	"time"

	"github.com/ssehub/ssehub/broker"
)

// Restart describes the restart test of one engine (see RunRestart).
type Restart struct {
	// Name names the server in messages: "Redis", "NATS".
	Name string
	// Durable and Volatile name the subtests in which the server keeps the
	// log across a crash and in which it loses it.
	Durable, Volatile string
	// Start starts a server of the test's own (see StartServer) that keeps
	// the log across a crash when durable is true, and returns it with a
	// node connected to it with a Timeout of 1 second, closed at cleanup.
	Start func(t *testing.T, durable bool) (*Server, Node)
	// AwaitDown makes the test wait, after the crash, for Ping to fail
	// before it expects Publish to: for a client that notices a dead
	// server only once its connection drops.
	AwaitDown bool
}

// RunRestart crashes and restarts a server under a subscribed node. When
// the server keeps the log, the log and its epoch survive and delivery
// resumes with no gap or repeat; when it loses it, a new epoch starts.
// While the server is down, Publish and Ping fail with
// broker.ErrUnavailable.
func RunRestart(t *testing.T, r Restart) {
	for _, durable := range []bool{true, false} {
		t.Run(map[bool]string{true: r.Durable, false: r.Volatile}[durable], func(t *testing.T) {
			ctx := ctxFor(t, 30*time.Second)
			srv, b := r.Start(t, durable)
			var c collector
			if _, err := b.Subscribe(ctx, c.add); err != nil {
				t.Fatalf("Subscribe: %v", err)
			}
			before, err := b.Publish(ctx, msg(0), msg(1), msg(2))
			if err != nil {
				t.Fatalf("Publish: %v", err)
			}
			waitFor(t, 5*time.Second, "3 deliveries", func() bool { return c.len() == 3 })
			epoch := b.Epoch()

			srv.Kill()
			if r.AwaitDown {
				waitFor(t, 5*time.Second, "Ping to fail", func() bool { return b.Ping(ctx) != nil })
			}
			start := time.Now()
			if _, err := b.Publish(ctx, msg(3)); !errors.Is(err, broker.ErrUnavailable) {
				t.Fatalf("Publish while %s is down: got %v, want ErrUnavailable", r.Name, err)
			}
			if d := time.Since(start); d > 1500*time.Millisecond {
				t.Errorf("Publish took %v to fail while %s is down", d, r.Name)
			}
			if err := b.Ping(ctx); !errors.Is(err, broker.ErrUnavailable) {
				t.Fatalf("Ping while %s is down: got %v, want ErrUnavailable", r.Name, err)
			}
			time.Sleep(300 * time.Millisecond) // the subscription retries meanwhile
			srv.Start()

			waitFor(t, 15*time.Second, "Ping to succeed", func() bool { return b.Ping(ctx) == nil })
			after, err := b.Publish(ctx, msg(4), msg(5))
			if err != nil {
				t.Fatalf("Publish after the restart: %v", err)
			}
			waitFor(t, 15*time.Second, "5 deliveries", func() bool { return c.len() >= 5 })
			time.Sleep(100 * time.Millisecond)
			envs := c.all()
			want := append(append([]string(nil), before...), after...)
			if len(envs) != len(want) {
				t.Fatalf("got %d envelopes, want %d", len(envs), len(want))
			}
			for i, env := range envs {
				if env.ID != want[i] {
					t.Fatalf("envelope %d: got %q, want %q", i, env.ID, want[i])
				}
			}
			err = b.Replay(ctx, before[0], func(broker.Envelope) error { return nil })
			if durable {
				if b.Epoch() != epoch || after[0] != broker.FormatID(epoch, 4) {
					t.Fatalf("after a restart (%s): epoch %q, first id %q; want epoch %q, seq 4", r.Durable, b.Epoch(), after[0], epoch)
				}
				if err != nil {
					t.Fatalf("Replay after the restart: %v", err)
				}
			} else {
				if b.Epoch() == epoch || after[0] != broker.FormatID(b.Epoch(), 1) {
					t.Fatalf("after a restart (%s): epoch %q, first id %q; want a new epoch, seq 1", r.Volatile, b.Epoch(), after[0])
				}
				if !errors.Is(err, broker.ErrUnknownEpoch) {
					t.Fatalf("Replay of an id of the lost log: got %v, want ErrUnknownEpoch", err)
				}
			}
		})
	}
}
