package metrics_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/ssehub/ssehub/metrics"
)

// TestLabelsAreBounded feeds thousands of tenants and event names and
// checks the number of series stays within the configured bounds.
func TestLabelsAreBounded(t *testing.T) {
	o := metrics.New(metrics.Config{Tenants: []string{"pinned"}, TopTenants: 3, Events: []string{"catalog:event"}, MaxEvents: 5})
	for i := range 2000 {
		tenant := fmt.Sprintf("t%04d", i)
		for range i % 7 {
			o.ConnOpened(tenant)
		}
		o.Published(fmt.Sprintf("ev%d", i))
		o.Delivered(fmt.Sprintf("ev%d", i), time.Millisecond)
	}
	o.Published("catalog:event")
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(o)

	// pinned (0), the three busiest (6 connections each, first by name), other.
	if n := testutil.CollectAndCount(o, "ssehub_connections"); n != 5 {
		t.Errorf("ssehub_connections: %d series, want 5 (pinned, top 3, other)", n)
	}
	const want = `
# HELP ssehub_connections Live connections of this node by tenant: pinned tenants, the busiest others, and "other" for the rest.
# TYPE ssehub_connections gauge
ssehub_connections{tenant="other"} 5977
ssehub_connections{tenant="pinned"} 0
ssehub_connections{tenant="t0006"} 6
ssehub_connections{tenant="t0013"} 6
ssehub_connections{tenant="t0020"} 6
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "ssehub_connections"); err != nil {
		t.Error(err)
	}
	// The pinned name, the first five seen, and other.
	if n := testutil.CollectAndCount(o, "ssehub_events_published_total"); n != 7 {
		t.Errorf("ssehub_events_published_total: %d series, want 7", n)
	}
	const wantPub = `
# HELP ssehub_events_published_total Events this node appended to the log.
# TYPE ssehub_events_published_total counter
ssehub_events_published_total{event="catalog:event"} 1
ssehub_events_published_total{event="ev0"} 1
ssehub_events_published_total{event="ev1"} 1
ssehub_events_published_total{event="ev2"} 1
ssehub_events_published_total{event="ev3"} 1
ssehub_events_published_total{event="ev4"} 1
ssehub_events_published_total{event="other"} 1995
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(wantPub), "ssehub_events_published_total"); err != nil {
		t.Error(err)
	}
	// Connections closing take their tenant out of the ranking.
	for range 6 {
		o.ConnClosed("t0006", "client_gone", time.Second)
	}
	const after = `
# HELP ssehub_connections Live connections of this node by tenant: pinned tenants, the busiest others, and "other" for the rest.
# TYPE ssehub_connections gauge
ssehub_connections{tenant="other"} 5971
ssehub_connections{tenant="pinned"} 0
ssehub_connections{tenant="t0013"} 6
ssehub_connections{tenant="t0020"} 6
ssehub_connections{tenant="t0027"} 6
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(after), "ssehub_connections"); err != nil {
		t.Error(err)
	}
}

func TestNoEventLabels(t *testing.T) {
	o := metrics.New(metrics.Config{MaxEvents: -1, TopTenants: -1})
	o.Published("a")
	o.ConnOpened("t1")
	if n := testutil.CollectAndCount(o, "ssehub_events_published_total"); n != 1 {
		t.Errorf("MaxEvents -1: %d series, want only other", n)
	}
	if n := testutil.CollectAndCount(o, "ssehub_connections"); n != 1 {
		t.Errorf("TopTenants -1: %d series, want only other", n)
	}
}

// TestHTTPWrapKeepsResponseController checks that flushes and write
// deadlines reach the real connection through the counting wrapper, which
// the streams depend on.
func TestHTTPWrapKeepsResponseController(t *testing.T) {
	m := metrics.NewHTTP()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /stream", func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		if err := rc.SetWriteDeadline(time.Now().Add(time.Second)); err != nil {
			http.Error(w, "deadline: "+err.Error(), 500)
			return
		}
		w.WriteHeader(201)
		if err := rc.Flush(); err != nil {
			http.Error(w, "flush: "+err.Error(), 500)
		}
	})
	srv := httptest.NewServer(m.Wrap(mux))
	defer srv.Close()
	for _, path := range []string{"/stream", "/nope"} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	const want = `
# HELP ssehub_http_responses_total HTTP responses by route (the ServeMux pattern; "none" when nothing matched) and status code, counted when the status is sent (a stream when it opens).
# TYPE ssehub_http_responses_total counter
ssehub_http_responses_total{code="201",route="GET /stream"} 1
ssehub_http_responses_total{code="404",route="none"} 1
`
	if err := testutil.CollectAndCompare(m, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
}
