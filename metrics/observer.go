package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ssehub/ssehub/hub"
)

// Config configures an Observer. The zero value works.
type Config struct {
	// Tenants always get their own value of the tenant label of
	// ssehub_connections, even at zero connections.
	Tenants []string
	// TopTenants is how many other tenants, those with the most
	// connections at scrape time, get their own value; the rest are summed
	// as "other". Zero means 10; negative means none.
	TopTenants int
	// Events always get their own value of the event label, outside the
	// MaxEvents cap (for example the event catalog's names).
	Events []string
	// MaxEvents caps the other event names with a label value of their
	// own: the first MaxEvents names seen keep theirs for the life of the
	// process, later ones are counted as "other". Zero means 100; negative
	// means none.
	MaxEvents int
}

// Observer is a [hub.Observer] that exports what the hub reports as
// Prometheus metrics, and a [prometheus.Collector] to register them with.
// It is safe for concurrent use; its hook methods do no label hashing and
// take no lock but on a connection's open and close.
type Observer struct {
	events  *eventLabels
	tenants *tenantCounts

	eventVecs   []*prometheus.CounterVec
	published   *prometheus.CounterVec
	dispatched  *prometheus.CounterVec
	queued      *prometheus.CounterVec
	delivered   *prometheus.CounterVec
	dropped     *prometheus.CounterVec
	rateLimited *prometheus.CounterVec
	coalesced   *prometheus.CounterVec

	connections *prometheus.Desc
	opened      prometheus.Counter
	closed      *prometheus.CounterVec
	rejected    *prometheus.CounterVec
	lifetime    prometheus.Histogram

	queueDepth   prometheus.Histogram
	writeSeconds prometheus.Histogram
	writeBytes   prometheus.Counter
	latency      prometheus.Histogram
}

var _ hub.Observer = (*Observer)(nil)

// New returns an Observer. Pass it as hub.Config.Observer and register it
// with a prometheus.Registerer.
func New(cfg Config) *Observer {
	if cfg.TopTenants == 0 {
		cfg.TopTenants = 10
	}
	if cfg.MaxEvents == 0 {
		cfg.MaxEvents = 100
	}
	counter := func(name, help string, labels ...string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "ssehub", Name: name, Help: help}, labels)
	}
	o := &Observer{
		published:   counter("events_published_total", "Events this node appended to the log.", "event"),
		dispatched:  counter("events_dispatched_total", "Events this node fanned out to its connections (published by any node).", "event"),
		queued:      counter("events_queued_total", "Event copies handed to connections' queues.", "event"),
		delivered:   counter("events_delivered_total", "Event copies written to connections (live events, not replays).", "event"),
		dropped:     counter("events_dropped_total", "Event copies refused by a full queue; the connection was closed as a slow consumer.", "event"),
		rateLimited: counter("events_rate_limited_total", "Events refused by a drop-mode rate limit.", "event"),
		coalesced:   counter("events_coalesced_total", "Events held by a coalescing rate limit (the last of a window is published at its end).", "event"),

		connections: prometheus.NewDesc("ssehub_connections", "Live connections of this node by tenant: pinned tenants, the busiest others, and \"other\" for the rest.", []string{"tenant"}, nil),
		opened: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "ssehub", Name: "connections_opened_total",
			Help: "Connections registered."}),
		closed:   counter("connections_closed_total", "Connections released, by reason.", "reason"),
		rejected: counter("connections_rejected_total", "Connections refused by a limit, by scope (user or total).", "scope"),
		lifetime: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: "ssehub", Name: "connection_duration_seconds",
			Help:    "How long connections lived.",
			Buckets: []float64{1, 5, 30, 60, 300, 900, 1800, 3600, 4 * 3600, 12 * 3600, 24 * 3600}}),

		queueDepth: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: "ssehub", Name: "queue_depth",
			Help:    "Events still queued for a connection after each write to it.",
			Buckets: []float64{0, 1, 4, 16, 64, 256, 1024, 4096}}),
		writeSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: "ssehub", Name: "write_duration_seconds",
			Help:    "Time of each write and flush to a connection.",
			Buckets: []float64{.0001, .0005, .001, .005, .01, .05, .1, .5, 1, 5, 10}}),
		writeBytes: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "ssehub", Name: "written_bytes_total",
			Help: "Bytes written to connections."}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: "ssehub", Name: "delivery_latency_seconds",
			Help:    "From an event's append to the log to its write to a connection.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}}),
	}
	o.eventVecs = []*prometheus.CounterVec{o.published, o.dispatched, o.queued, o.delivered, o.dropped, o.rateLimited, o.coalesced}
	for _, r := range []string{hub.ReasonClientGone, hub.ReasonEvicted, hub.ReasonSlowConsumer, hub.ReasonInactive,
		hub.ReasonShutdown, hub.ReasonDisabled, hub.ReasonTokenExpired, hub.ReasonMaxAge, hub.ReasonWriteError} {
		o.closed.WithLabelValues(r)
	}
	o.rejected.WithLabelValues("user")
	o.rejected.WithLabelValues("total")
	o.events = newEventLabels(o, cfg.Events, cfg.MaxEvents)
	o.tenants = newTenantCounts(cfg.Tenants, max(0, cfg.TopTenants))
	return o
}

func (o *Observer) newEventSeries(name string) *eventSeries {
	return &eventSeries{
		published:   o.published.WithLabelValues(name),
		dispatched:  o.dispatched.WithLabelValues(name),
		queued:      o.queued.WithLabelValues(name),
		delivered:   o.delivered.WithLabelValues(name),
		dropped:     o.dropped.WithLabelValues(name),
		rateLimited: o.rateLimited.WithLabelValues(name),
		coalesced:   o.coalesced.WithLabelValues(name),
	}
}

// Describe implements [prometheus.Collector].
func (o *Observer) Describe(ch chan<- *prometheus.Desc) {
	for _, v := range o.eventVecs {
		v.Describe(ch)
	}
	ch <- o.connections
	for _, c := range o.collectors() {
		c.Describe(ch)
	}
}

// Collect implements [prometheus.Collector].
func (o *Observer) Collect(ch chan<- prometheus.Metric) {
	for _, v := range o.eventVecs {
		v.Collect(ch)
	}
	for tenant, n := range o.tenants.labelled() {
		ch <- prometheus.MustNewConstMetric(o.connections, prometheus.GaugeValue, float64(n), tenant)
	}
	for _, c := range o.collectors() {
		c.Collect(ch)
	}
}

func (o *Observer) collectors() []prometheus.Collector {
	return []prometheus.Collector{o.opened, o.closed, o.rejected, o.lifetime, o.queueDepth, o.writeSeconds, o.writeBytes, o.latency}
}

// ConnOpened implements [hub.Observer].
func (o *Observer) ConnOpened(tenant string) {
	o.opened.Inc()
	o.tenants.add(tenant, 1)
}

// ConnClosed implements [hub.Observer].
func (o *Observer) ConnClosed(tenant, reason string, age time.Duration) {
	o.tenants.add(tenant, -1)
	o.closed.WithLabelValues(reason).Inc()
	o.lifetime.Observe(age.Seconds())
}

// ConnRejected implements [hub.Observer].
func (o *Observer) ConnRejected(scope string) { o.rejected.WithLabelValues(scope).Inc() }

// Published implements [hub.Observer].
func (o *Observer) Published(event string) { o.events.series(event).published.Inc() }

// RateLimited implements [hub.Observer].
func (o *Observer) RateLimited(event string) { o.events.series(event).rateLimited.Inc() }

// Coalesced implements [hub.Observer].
func (o *Observer) Coalesced(event string) { o.events.series(event).coalesced.Inc() }

// Dispatched implements [hub.Observer].
func (o *Observer) Dispatched(event string, recipients int) {
	s := o.events.series(event)
	s.dispatched.Inc()
	s.queued.Add(float64(recipients))
}

// Dropped implements [hub.Observer].
func (o *Observer) Dropped(event string) { o.events.series(event).dropped.Inc() }

// Delivered implements [hub.Observer].
func (o *Observer) Delivered(event string, sinceEmit time.Duration) {
	o.events.series(event).delivered.Inc()
	o.latency.Observe(max(0, sinceEmit.Seconds()))
}

// Wrote implements [hub.Observer].
func (o *Observer) Wrote(bytes int, took time.Duration, queued int) {
	o.writeBytes.Add(float64(bytes))
	o.writeSeconds.Observe(took.Seconds())
	o.queueDepth.Observe(float64(queued))
}
