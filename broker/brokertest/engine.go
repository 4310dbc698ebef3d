package brokertest

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/ssehub/ssehub/broker"
)

// Node is a broker of an engine that connects several nodes: a log, a bus
// and a readiness check.
type Node interface {
	broker.Broker
	broker.Bus
	broker.Pinger
}

// Engine describes a broker implementation backed by a server (Redis,
// NATS) to the tests and benchmarks of this package beyond [Run]: the
// Run* functions (bus, faults, history, goroutines) and the Bench*
// functions. Each of the implementation's tests is then one call:
//
//	func TestUnavailable(t *testing.T) { brokertest.RunUnavailable(t, engine(t)) }
type Engine struct {
	// Addr is the host:port of the server the tests share, which a
	// [Proxy] forwards to.
	Addr string
	// NewLog returns the name of a fresh log on the server, and deletes
	// the log at cleanup.
	NewLog func(t testing.TB) string
	// DeleteLog deletes a log now, as the server losing it would (a flush,
	// a restart without persistence, an operator).
	DeleteLog func(t testing.TB, log string)
	// New connects a node as c says. The caller closes it; when New fails,
	// the Node it returns is not used.
	New func(ctx context.Context, c NodeConfig) (Node, error)
}

// NodeConfig is what the tests set on a node; Engine.New maps it to the
// implementation's Config. A zero field means the implementation's default.
type NodeConfig struct {
	// Log names the log (a key prefix, a stream).
	Log string
	// Addr, when not empty, is the host:port to dial instead of
	// Engine.Addr: a Proxy's.
	Addr        string
	NodeID      string
	HistorySize int
	HistoryAge  time.Duration
	Timeout     time.Duration
	// Logger is nil for a silent node. Engine.Open makes it Logger(t).
	Logger *slog.Logger
}

// Factory returns the factory with which [Run] runs the conformance suite
// against e: o.Nodes nodes of a fresh log.
func (e Engine) Factory() Factory {
	return func(t *testing.T, o Options) []broker.Broker {
		log := e.NewLog(t)
		bs := make([]broker.Broker, o.Nodes)
		for i := range bs {
			bs[i] = e.Open(t, NodeConfig{Log: log, HistorySize: o.HistorySize})
		}
		return bs
	}
}

// Open connects a node as c says, with Logger(t) when c.Logger is nil,
// and closes it at cleanup. It fails the test if the node cannot connect
// within 5 seconds.
func (e Engine) Open(t testing.TB, c NodeConfig) Node {
	t.Helper()
	if c.Logger == nil {
		c.Logger = Logger(t)
	}
	return Open(t, func(ctx context.Context) (Node, error) { return e.New(ctx, c) })
}

// Open connects a node with connect, which gets a context of 5 seconds,
// and closes the node at cleanup. It fails the test if connect fails.
func Open[N Node](t testing.TB, connect func(ctx context.Context) (N, error)) N {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	n, err := connect(ctx)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = n.Close() })
	return n
}

// Logger returns a logger that writes everything, Debug included, to the
// test's output.
func Logger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// quiet returns a logger that drops everything, for benchmarks.
func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

// ctxFor returns a context that ends after d or at cleanup.
func ctxFor(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// waitFor polls cond until it holds, failing the test after d.
func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// add records env; it is a deliver function.
func (c *collector) add(env broker.Envelope) {
	c.mu.Lock()
	c.envs = append(c.envs, env)
	c.mu.Unlock()
	select {
	case c.more <- struct{}{}:
	default:
	}
}

func (c *collector) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.envs)
}

func (c *collector) all() []broker.Envelope {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]broker.Envelope(nil), c.envs...)
}
