package metrics_test

import (
	"math"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/ssehub/ssehub/auth"
	"github.com/ssehub/ssehub/hub"
	"github.com/ssehub/ssehub/metrics"
	"github.com/ssehub/ssehub/ratelimit"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestCountersMatchWhatHappened connects streams, publishes, rate limits
// and disconnects through a real server, then scrapes /metrics and checks
// every counter against what happened, label by label.
func TestCountersMatchWhatHappened(t *testing.T) {
	s := newServer(t, hub.Config{
		NodeID:   "n1",
		MaxConns: 5,
		RateLimits: map[string]ratelimit.Rule{
			"bulk":   {Interval: time.Hour, Mode: ratelimit.Drop},
			"typing": {Interval: time.Hour, Mode: ratelimit.Coalesce},
		},
	}, metrics.Config{Tenants: []string{"t3"}, TopTenants: 1, MaxEvents: 2})

	// Five streams: three in t1, one in t2, one in t3; the sixth is over
	// the node's limit.
	conns := map[string]*stream{}
	for _, tu := range [][2]string{{"t1", "u1"}, {"t1", "u2"}, {"t1", "u3"}, {"t2", "v1"}, {"t3", "w1"}} {
		st, code := s.open(userToken(t, tu[0], tu[1]))
		if st == nil {
			t.Fatalf("open %v: got %d, want 200", tu, code)
		}
		conns[tu[1]] = st
	}
	if _, code := s.open(userToken(t, "t2", "v2")); code != 429 {
		t.Fatalf("sixth stream: got %d, want 429", code)
	}
	s.waitSeries(map[string]float64{
		// t3 is pinned, t1 is the busiest other, t2 folds into "other".
		series("ssehub_connections", "tenant", "t1"):                              3,
		series("ssehub_connections", "tenant", "t3"):                              1,
		series("ssehub_connections", "tenant", "other"):                           1,
		series("ssehub_connections", "tenant", "t2"):                              math.NaN(),
		"ssehub_connections_opened_total":                                         5,
		series("ssehub_connections_rejected_total", "scope", "total"):             1,
		series("ssehub_connections_rejected_total", "scope", "user"):              0,
		series("ssehub_connections_closed_total", "reason", "client_gone"):        0,
		series("ssehub_http_responses_total", "code", "429", "route", "/api/sse"): 1,
		series("ssehub_http_responses_total", "code", "200", "route", "/api/sse"): 5,
	})

	// Publish. The cap of two event names keeps "a" and "b", seen first;
	// "c", "bulk" and "typing" count as "other".
	pub := token(t, auth.Claims{Subject: "backend", Roles: []string{auth.RolePublisher}, Global: true})
	mustPublish := func(body any) {
		t.Helper()
		if code := s.publish(pub, body); code != 202 {
			t.Fatalf("publish %v: got %d, want 202", body, code)
		}
	}
	toT1 := map[string]any{"tenantId": "t1"}
	mustPublish([]any{event("a", "t1", toT1), event("a", "t1", toT1), event("a", "t1", toT1)}) // 3 × 3 copies
	mustPublish(event("a", "t1", toT1))                                                        // 3 copies
	mustPublish(event("b", "t1", map[string]any{"userId": "u1"}))                              // 1 copy
	mustPublish(event("b", "t1", map[string]any{"userIds": []string{"u1", "u9"}}))             // 1 copy
	mustPublish(event("c", "t2", map[string]any{"tenantId": "t2"}))                            // 1 copy
	mustPublish(event("bulk", "t3", map[string]any{"tenantId": "t3"}))                         // 1 copy
	if code := s.publish(pub, event("bulk", "t3", map[string]any{"tenantId": "t3"})); code != 429 {
		t.Fatalf("second bulk: got %d, want 429 (drop limit)", code)
	}
	mustPublish(event("typing", "t3", map[string]any{"userId": "w1"})) // passes: 1 copy
	mustPublish(event("typing", "t3", map[string]any{"userId": "w1"})) // held until the window ends

	want := map[string]int{"u1": 6, "u2": 4, "u3": 4, "v1": 1, "w1": 2}
	for u, n := range want {
		waitFor(t, u+"'s events", func() bool { return conns[u].count() == n })
	}
	s.waitSeries(map[string]float64{
		series("ssehub_events_published_total", "event", "a"):                        4,
		series("ssehub_events_published_total", "event", "b"):                        2,
		series("ssehub_events_published_total", "event", "other"):                    3,
		series("ssehub_events_published_total", "event", "c"):                        math.NaN(),
		series("ssehub_events_dispatched_total", "event", "a"):                       4,
		series("ssehub_events_dispatched_total", "event", "b"):                       2,
		series("ssehub_events_dispatched_total", "event", "other"):                   3,
		series("ssehub_events_queued_total", "event", "a"):                           12,
		series("ssehub_events_queued_total", "event", "b"):                           2,
		series("ssehub_events_queued_total", "event", "other"):                       3,
		series("ssehub_events_delivered_total", "event", "a"):                        12,
		series("ssehub_events_delivered_total", "event", "b"):                        2,
		series("ssehub_events_delivered_total", "event", "other"):                    3,
		series("ssehub_events_dropped_total", "event", "a"):                          0,
		series("ssehub_events_rate_limited_total", "event", "other"):                 1,
		series("ssehub_events_rate_limited_total", "event", "a"):                     0,
		series("ssehub_events_coalesced_total", "event", "other"):                    1,
		"ssehub_delivery_latency_seconds_count":                                      17,
		series("ssehub_http_responses_total", "code", "202", "route", "/api/events"): 8,
		series("ssehub_http_responses_total", "code", "429", "route", "/api/events"): 1,
		"ssehub_broker_up":                          1,
		"ssehub_broker_lag_events":                  0,
		"ssehub_broker_lag_seconds":                 0,
		series("ssehub_node_info", "node_id", "n1"): 1,
		"ssehub_connections_limit":                  5,
		"ssehub_streaming_disabled":                 0,
	})

	// Two clients leave.
	conns["u2"].close()
	conns["v1"].close()
	got := s.waitSeries(map[string]float64{
		series("ssehub_connections_closed_total", "reason", "client_gone"):        2,
		series("ssehub_connections", "tenant", "t1"):                              2,
		series("ssehub_connections", "tenant", "t3"):                              1,
		series("ssehub_connections", "tenant", "other"):                           0,
		"ssehub_connections_opened_total":                                         5,
		"ssehub_connection_duration_seconds_count":                                2,
		series("ssehub_http_responses_total", "code", "200", "route", "/api/sse"): 5, // counted at open
	})
	// Every write was timed and its queue measured.
	if w, q := got["ssehub_write_duration_seconds_count"], got["ssehub_queue_depth_count"]; w == 0 || w != q {
		t.Errorf("writes timed %v, queue depths observed %v: want the same, non-zero", w, q)
	}
	st := s.hub.Stats()
	if float64(st.EventsPublished) != got[series("ssehub_events_published_total", "event", "a")]+
		got[series("ssehub_events_published_total", "event", "b")]+got[series("ssehub_events_published_total", "event", "other")] {
		t.Errorf("hub stats published %d, metrics disagree", st.EventsPublished)
	}
}

// TestCloseReasons counts evictions and an admin disable by reason.
func TestCloseReasons(t *testing.T) {
	s := newServer(t, hub.Config{MaxConnsPerUser: 1}, metrics.Config{})
	tok := userToken(t, "t1", "u1")
	first, _ := s.open(tok)
	s.open(tok) // evicts the first
	<-first.done
	s.open(userToken(t, "t2", "u2"))
	s.waitSeries(map[string]float64{
		series("ssehub_connections_closed_total", "reason", "evicted"): 1,
		series("ssehub_connections", "tenant", "t1"):                   1,
		series("ssehub_connections", "tenant", "t2"):                   1,
	})
	admin := token(t, auth.Claims{Subject: "root", Roles: []string{auth.RoleAdmin}, Global: true})
	if code := s.post("/api/admin/sse/disable", admin); code != 200 {
		t.Fatalf("disable: got %d", code)
	}
	s.waitSeries(map[string]float64{
		series("ssehub_connections_closed_total", "reason", "disabled"): 2,
		series("ssehub_connections_closed_total", "reason", "evicted"):  1,
		series("ssehub_connections", "tenant", "t1"):                    math.NaN(),
		series("ssehub_connections", "tenant", "other"):                 0,
		"ssehub_streaming_disabled":                                     1,
		"ssehub_connections_opened_total":                               3,
	})
	if code := s.post("/api/admin/sse/enable", admin); code != 200 {
		t.Fatalf("enable: got %d", code)
	}
}
