package metrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ssehub/ssehub/hub"
)

// MaxLagEvents caps ssehub_broker_lag_events: counting further would read
// the whole backlog at every scrape.
const MaxLagEvents = 1000

// hubCollector reads a hub's state at scrape time: the node, whether
// streaming is disabled, the connection limit, and the broker's health and
// the node's lag behind the log.
type hubCollector struct {
	h       *hub.Hub
	timeout time.Duration

	node, disabled, limit *prometheus.Desc
	up, ping              *prometheus.Desc
	lagEvents, lagSeconds *prometheus.Desc
}

// NewHubCollector returns a collector of h's state, read at each scrape:
//
//   - ssehub_node_info{node_id} 1
//   - ssehub_streaming_disabled 1 while an admin has disabled streaming
//   - ssehub_connections_limit, the node's connection limit (absent when
//     there is none)
//   - ssehub_broker_up 1 while the broker answers a ping (brokers that
//     cannot be unreachable, like the in-memory one, are up while the hub
//     runs), and ssehub_broker_ping_seconds, how long the ping took
//   - ssehub_broker_lag_events and ssehub_broker_lag_seconds: the events
//     appended to the log that this node has not fanned out yet (counted up
//     to MaxLagEvents) and the age of the oldest of them, 0 when it is
//     caught up. They are absent until the node knows its place in the log
//     (with Redis and NATS, after the first event) and while the broker
//     cannot answer.
//
// Each scrape pings the broker and replays the log after the node's
// position, each bounded by timeout (zero means 2 seconds).
func NewHubCollector(h *hub.Hub, timeout time.Duration) prometheus.Collector {
	if timeout <= 0 {
		timeout = 2 * time.Second
	}
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("ssehub_"+name, help, labels, nil)
	}
	return &hubCollector{
		h: h, timeout: timeout,
		node:       d("node_info", "This node's id.", "node_id"),
		disabled:   d("streaming_disabled", "1 while an admin has disabled streaming on this node."),
		limit:      d("connections_limit", "The node's connection limit (--max-conns)."),
		up:         d("broker_up", "1 while the broker answers."),
		ping:       d("broker_ping_seconds", "How long the broker took to answer the last ping."),
		lagEvents:  d("broker_lag_events", "Events in the log this node has not fanned out yet (capped)."),
		lagSeconds: d("broker_lag_seconds", "Age of the oldest event in the log this node has not fanned out yet; 0 when caught up."),
	}
}

func (c *hubCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.node, c.disabled, c.limit, c.up, c.ping, c.lagEvents, c.lagSeconds} {
		ch <- d
	}
}

func gauge(ch chan<- prometheus.Metric, d *prometheus.Desc, v float64, labels ...string) {
	ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func (c *hubCollector) Collect(ch chan<- prometheus.Metric) {
	h := c.h
	gauge(ch, c.node, 1, h.NodeID())
	gauge(ch, c.disabled, b2f(h.Disabled()))
	if n := h.Config().MaxConns; n > 0 {
		gauge(ch, c.limit, float64(n))
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	hl := h.Health(ctx, MaxLagEvents)
	if hl.Ping > 0 {
		gauge(ch, c.ping, hl.Ping.Seconds())
	}
	gauge(ch, c.up, b2f(hl.Err == nil))
	if hl.Err != nil || h.DispatchHead() == "" || hl.LagEvents < 0 {
		return
	}
	n, lag := hl.LagEvents, hl.Lag.Seconds()
	gauge(ch, c.lagEvents, float64(n))
	gauge(ch, c.lagSeconds, lag)
}
