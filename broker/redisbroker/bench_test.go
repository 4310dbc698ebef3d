package redisbroker_test

import (
	"context"
	"log/slog"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ssehub/ssehub/broker"
	"github.com/ssehub/ssehub/broker/brokertest"
	"github.com/ssehub/ssehub/hub"
	"github.com/ssehub/ssehub/ratelimit"
)

// BenchmarkPublish measures the latency of one Publish of one message, or
// of a batch, as seen by the publishing node.
func BenchmarkPublish(b *testing.B) { brokertest.BenchPublish(b, engine(b)) }

// BenchmarkEndToEnd measures the time from Publish on one node to delivery
// on another, one message at a time.
func BenchmarkEndToEnd(b *testing.B) { brokertest.BenchEndToEnd(b, engine(b)) }

// BenchmarkReplay measures a Replay of the last n messages.
func BenchmarkReplay(b *testing.B) { brokertest.BenchReplay(b, engine(b)) }

// BenchmarkHubPublishParallel publishes through a hub on Redis from 16
// goroutines at once, one event per call to a random user of 1,000, with
// and without an idempotency key on every event (as @ssehub/node sends):
// the keyed case must not be much slower. Run with -cpu 2 as on the
// reference machine; see docs/benchmarks.md.
func BenchmarkHubPublishParallel(b *testing.B) {
	for _, keyed := range []bool{false, true} {
		b.Run(map[bool]string{false: "nokey", true: "keyed"}[keyed], func(b *testing.B) {
			e := engine(b)
			node := e.Open(b, brokertest.NodeConfig{Log: e.NewLog(b), Logger: slog.New(slog.DiscardHandler)})
			h, err := hub.New(hub.Config{Broker: node, RateLimits: map[string]ratelimit.Rule{}, Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _ = h.Shutdown(context.Background()) })
			var n atomic.Int64
			run := strconv.FormatInt(time.Now().UnixNano(), 36)
			b.SetParallelism(8) // 16 goroutines with -cpu 2
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				ctx := context.Background()
				for pb.Next() {
					i := n.Add(1)
					m := broker.Message{Event: "bench:e", TenantID: "t1", Data: []byte(`{"n":1}`),
						Target: broker.Target{Kind: broker.ToUser, UserIDs: []string{"u" + strconv.FormatInt(i%1000, 10)}}}
					if keyed {
						m.IdempotencyKey = run + "-" + strconv.FormatInt(i, 10)
					}
					if _, err := h.Publish(ctx, m); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
