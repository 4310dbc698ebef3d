package brokertest

import (
	"context"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/ssehub/ssehub/broker"
)

// BenchPublish measures the latency of one Publish of one message, or of a
// batch of ten, as seen by the publishing node.
func BenchPublish(b *testing.B, e Engine) {
	for _, size := range []int{1, 10} {
		b.Run(map[int]string{1: "one", 10: "batch10"}[size], func(b *testing.B) {
			node := e.Open(b, NodeConfig{Log: e.NewLog(b), Logger: quiet()})
			ctx := context.Background()
			batch := make([]broker.Message, size)
			for i := range batch {
				batch[i] = msg(i)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := node.Publish(ctx, batch...); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchEndToEnd measures the time from Publish on one node to delivery on
// another, one message at a time, and reports its median and 99th
// percentile.
func BenchEndToEnd(b *testing.B, e Engine) {
	log := e.NewLog(b)
	pub := e.Open(b, NodeConfig{Log: log, Logger: quiet()})
	sub := e.Open(b, NodeConfig{Log: log, Logger: quiet()})
	ctx := context.Background()
	got := make(chan struct{}, 1)
	if _, err := sub.Subscribe(ctx, func(broker.Envelope) { got <- struct{}{} }); err != nil {
		b.Fatal(err)
	}
	var lat []time.Duration
	b.ReportAllocs()
	for b.Loop() {
		start := time.Now()
		if _, err := pub.Publish(ctx, msg(1)); err != nil {
			b.Fatal(err)
		}
		<-got
		lat = append(lat, time.Since(start))
	}
	reportPercentiles(b, lat)
}

func reportPercentiles(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}

// BenchReplay measures a Replay of the last 1, 10 and 100 messages.
func BenchReplay(b *testing.B, e Engine) {
	node := e.Open(b, NodeConfig{Log: e.NewLog(b), Logger: quiet()})
	ctx := context.Background()
	batch := make([]broker.Message, 200)
	for i := range batch {
		batch[i] = msg(i)
	}
	ids, err := node.Publish(ctx, batch...)
	if err != nil {
		b.Fatal(err)
	}
	for _, n := range []int{1, 10, 100} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				got := 0
				if err := node.Replay(ctx, ids[len(ids)-1-n], func(broker.Envelope) error { got++; return nil }); err != nil || got != n {
					b.Fatalf("Replay: %v, %d envelopes", err, got)
				}
			}
		})
	}
}
