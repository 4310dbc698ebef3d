package hub_test

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ssehub/ssehub/broker"
	"github.com/ssehub/ssehub/hub"
)

// countWriter discards what it is given and counts events.
type countWriter struct{ n *atomic.Int64 }

func (w countWriter) Write(p []byte) (int, error) {
	w.n.Add(int64(bytes.Count(p, []byte("id: "))))
	return len(p), nil
}
func (countWriter) Flush() error                     { return nil }
func (countWriter) SetWriteDeadline(time.Time) error { return nil }

// BenchmarkFanOut publishes one ~100-byte broadcast per iteration to N
// connections and waits until every connection has written it, so the
// time per op covers encoding, fan-out, queueing and the writers.
//
// mode=serve runs each connection on its own goroutine (Conn.Serve); mode=
// pool hands them to the hub's writers (Conn.Start), as the HTTP layer
// does for plain HTTP/1.1 streams.
func BenchmarkFanOut(b *testing.B) {
	for _, mode := range []string{"serve", "pool"} {
		for _, n := range []int{1, 100, 1000, 10000} {
			b.Run(fmt.Sprintf("mode=%s/subs=%d", mode, n), func(b *testing.B) { benchFanOut(b, mode, n) })
		}
	}
}

func benchFanOut(b *testing.B, mode string, n int) {
	{
		{
			h, err := hub.New(hub.Config{MaxConns: -1, MaxConnsPerUser: -1, Heartbeat: time.Hour})
			if err != nil {
				b.Fatal(err)
			}
			var written atomic.Int64
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{}, n)
			for i := range n {
				c, err := h.Connect(hub.ConnInfo{TenantID: "t1", UserID: fmt.Sprintf("u%d", i)})
				if err != nil {
					b.Fatal(err)
				}
				if mode == "pool" {
					c.Start(ctx, countWriter{&written}, func(string) { done <- struct{}{} })
				} else {
					go func() { c.Serve(ctx, countWriter{&written}); done <- struct{}{} }()
				}
			}
			msg := broker.Message{
				Event: "bench:event", TenantID: "t1", Target: broker.Target{Kind: broker.ToTenant},
				Data: []byte(`{"id":"0123456789","title":"a benchmark event","body":"about one hundred bytes of payload"}`),
			}
			b.ReportAllocs()
			want := int64(0)
			for b.Loop() {
				if _, err := h.Publish(ctx, msg); err != nil {
					b.Fatal(err)
				}
				want += int64(n)
				for written.Load() < want {
					runtime.Gosched()
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(want), "ns/delivery")
			cancel()
			_ = h.Shutdown(context.Background())
			for range n {
				<-done
			}
		}
	}
}
