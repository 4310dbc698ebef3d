package redisbroker_test

import (
	"context"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ssehub/ssehub/broker/brokertest"
)

// dialFailures is a slog.Handler that counts go-redis's lines about failed
// dials, at Warn.
type dialFailures struct{ n atomic.Int32 }

func (h *dialFailures) Enabled(context.Context, slog.Level) bool { return true }
func (h *dialFailures) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *dialFailures) WithGroup(string) slog.Handler            { return h }

func (h *dialFailures) Handle(_ context.Context, r slog.Record) error {
	fromGoRedis := false
	r.Attrs(func(a slog.Attr) bool {
		fromGoRedis = fromGoRedis || (a.Key == "source" && a.Value.String() == "go-redis")
		return true
	})
	if fromGoRedis && r.Level == slog.LevelWarn && strings.Contains(r.Message, "failed to dial") {
		h.n.Add(1)
	}
	return nil
}

// TestGoRedisLogger checks that go-redis's own lines (here, failed dials)
// go to the Logger of the newest open Broker, at Warn, and nowhere while
// that Broker's Logger is nil.
func TestGoRedisLogger(t *testing.T) {
	e := engine(t)
	log := e.NewLog(t)
	p := brokertest.NewProxy(t, e.Addr)
	var h dialFailures
	a := brokertest.Open(t, func(ctx context.Context) (brokertest.Node, error) {
		return e.New(ctx, brokertest.NodeConfig{Log: log, Addr: p.Addr(), Logger: slog.New(&h)})
	})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	p.Stop()
	// pingFails pings a through the stopped proxy three times; the first
	// ping may fail on a pooled connection that the proxy cut, without a
	// dial.
	pingFails := func() {
		t.Helper()
		for range 3 {
			if err := a.Ping(ctx); err == nil {
				t.Fatal("Ping through a stopped proxy succeeded")
			}
		}
	}

	pingFails()
	if h.n.Load() == 0 {
		t.Fatal("no go-redis line about the failed dials in the Logger")
	}

	silent := brokertest.Open(t, func(ctx context.Context) (brokertest.Node, error) {
		return e.New(ctx, brokertest.NodeConfig{Log: log}) // nil Logger
	})
	n := h.n.Load()
	pingFails()
	if got := h.n.Load(); got != n {
		t.Fatalf("%d go-redis lines reached an older Broker's Logger while the newest one's is nil", got-n)
	}

	if err := silent.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	pingFails()
	if h.n.Load() == n {
		t.Fatal("no go-redis line once the newer Broker closed")
	}
}
