package clustertest

import (
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkCrossNode measures what crossing nodes costs, on each engine,
// in a cluster of three nodes: events are published over HTTP on n1 and
// received by a client on n2.
//
//   - latency: one event at a time; the time from sending the publish
//     request on n1 to the event's arrival on n2's stream. Reports p50,
//     p99 and max in milliseconds.
//   - throughput: back-to-back publishes from 4 × GOMAXPROCS concurrent
//     HTTP publishers on n1; events/s is the number of events divided by
//     the time from the first publish to the last arrival on n2, and
//     published/s the rate of 202 answers. throughput-batch10 sends
//     arrays of 10 events per request.
//
// Run it with a fixed count so that the percentiles rest on enough events:
//
//	go test -run '^$' -bench CrossNode -benchtime 2000x ./internal/clustertest/
func BenchmarkCrossNode(b *testing.B) {
	for _, eng := range []struct {
		name string
		open func(testing.TB) engine
	}{{"redis", sharedRedis}, {"nats", sharedNATS}} {
		b.Run(eng.name+"/latency", func(b *testing.B) {
			c, p, nodes := benchCluster(b, eng.open(b))
			tg := target{kind: "user", users: []string{c.user}}
			lat := make([]time.Duration, 0, b.N)
			for b.Loop() {
				start := time.Now()
				id := p.mustPublish(nodes[0], "t1", tg)
				for a := range c.arrivals {
					if a.id == id {
						lat = append(lat, a.at.Sub(start))
						break
					}
				}
			}
			slices.Sort(lat)
			b.ReportMetric(ms(percentile(lat, 0.50)), "p50-ms")
			b.ReportMetric(ms(percentile(lat, 0.99)), "p99-ms")
			b.ReportMetric(ms(lat[len(lat)-1]), "max-ms")
		})
		for _, batch := range []int{1, batchSize} {
			name := eng.name + "/throughput"
			if batch > 1 {
				name += fmt.Sprintf("-batch%d", batch)
			}
			b.Run(name, func(b *testing.B) { benchThroughput(b, eng.open(b), batch) })
		}
	}
}

// batchSize is the size of the batches of the throughput-batch variant.
const batchSize = 10

// benchThroughput publishes b.N requests of batch events each, back to
// back from 4 × GOMAXPROCS publishers on n1, and waits until the client on
// n2 has them all.
func benchThroughput(b *testing.B, e engine, batch int) {
	c, p, nodes := benchCluster(b, e)
	tg := target{kind: "user", users: []string{c.user}}
	var failed atomic.Int64
	start := time.Now()
	b.SetParallelism(4)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			var err error
			if batch == 1 {
				_, err = p.publish(nodes[0], "t1", tg, "")
			} else {
				err = p.publishBatch(nodes[0], "t1", tg, batch)
			}
			if err != nil {
				failed.Add(1)
			}
		}
	})
	published := time.Since(start)
	want := p.count()
	for n := 0; n < want; n++ {
		select {
		case <-c.arrivals:
		case <-time.After(30 * time.Second):
			b.Fatalf("received %d of %d events on n2", n, want)
		}
	}
	elapsed := time.Since(start)
	if f := failed.Load(); f > 0 {
		b.Fatalf("%d publish requests failed", f)
	}
	b.ReportMetric(float64(want)/elapsed.Seconds(), "events/s")
	b.ReportMetric(float64(want)/published.Seconds(), "published/s")
}

// benchCluster starts three nodes on e and a client on n2 that reports
// arrivals.
func benchCluster(b *testing.B, e engine) (*client, *publisher, []*node) {
	nodes := startNodes(b, e, 3)
	c := newClient(b, httpClient(b), "t1", "u1")
	c.arrivals = make(chan arrival, 1<<20)
	c.mustConnect(nodes[1])
	return c, newPublisher(b, "t1"), nodes
}

func percentile(sorted []time.Duration, q float64) time.Duration {
	return sorted[min(len(sorted)-1, int(q*float64(len(sorted))))]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
