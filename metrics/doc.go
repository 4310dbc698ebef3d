// Package metrics exports ssehub's metrics to Prometheus.
//
// [Observer] is a [hub.Observer]: the hub calls it as connections open and
// close, events are published, fanned out, dropped or rate limited, and
// streams are written. [NewHubCollector] reads a hub's state at scrape
// time, including the broker's health and this node's lag behind the log.
// [HTTP] counts responses by route and status code. All three are
// prometheus.Collectors; register them on one registry and serve it with
// promhttp.
//
// # Cardinality
//
// Labels are bounded whatever clients and publishers do. The tenant label
// of ssehub_connections holds the pinned tenants ([Config.Tenants]), the
// [Config.TopTenants] others with the most connections at scrape time, and
// "other" for the rest, so it sums to the node's total. The event label
// holds the pinned names ([Config.Events]) and the first [Config.MaxEvents]
// other names seen; later names are counted as "other". Reasons, scopes,
// routes and codes are fixed sets.
//
// # Metrics
//
//	ssehub_connections{tenant}                 gauge
//	ssehub_connections_opened_total            counter
//	ssehub_connections_closed_total{reason}    counter (client_gone, evicted, slow_consumer, inactive, shutdown, disabled, token_expired, max_age, write_error)
//	ssehub_connections_rejected_total{scope}   counter (user, total)
//	ssehub_connection_duration_seconds         histogram
//	ssehub_events_published_total{event}       counter: appended to the log by this node
//	ssehub_events_dispatched_total{event}      counter: fanned out by this node
//	ssehub_events_queued_total{event}          counter: copies queued for connections
//	ssehub_events_delivered_total{event}       counter: copies written to connections
//	ssehub_events_dropped_total{event}         counter: copies refused by a full queue
//	ssehub_events_rate_limited_total{event}    counter
//	ssehub_events_coalesced_total{event}       counter
//	ssehub_queue_depth                         histogram: events queued after each write
//	ssehub_write_duration_seconds              histogram
//	ssehub_written_bytes_total                 counter
//	ssehub_delivery_latency_seconds            histogram: append to the log → write
//	ssehub_node_info{node_id}, ssehub_streaming_disabled, ssehub_connections_limit
//	ssehub_broker_up, ssehub_broker_ping_seconds
//	ssehub_broker_lag_events, ssehub_broker_lag_seconds
//	ssehub_http_responses_total{route,code}    counter
//
// # Example
//
//	obs := metrics.New(metrics.Config{})
//	h, _ := hub.New(hub.Config{Observer: obs})
//	reg := prometheus.NewRegistry()
//	reg.MustRegister(obs, metrics.NewHubCollector(h, 0))
//	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
package metrics
