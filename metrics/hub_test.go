package metrics_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ssehub/ssehub/auth"
	"github.com/ssehub/ssehub/broker"
	"github.com/ssehub/ssehub/hub"
	"github.com/ssehub/ssehub/metrics"
)

// gated is a memory broker whose deliveries to the hub wait while the gate
// is shut, so the node falls behind the log.
type gated struct {
	*broker.Memory
	mu   sync.Mutex
	open chan struct{}
}

func (g *gated) Subscribe(ctx context.Context, deliver func(broker.Envelope)) (<-chan struct{}, error) {
	return g.Memory.Subscribe(ctx, func(env broker.Envelope) {
		g.mu.Lock()
		ch := g.open
		g.mu.Unlock()
		<-ch
		deliver(env)
	})
}

func (g *gated) shut() {
	g.mu.Lock()
	g.open = make(chan struct{})
	g.mu.Unlock()
}

func (g *gated) release() {
	g.mu.Lock()
	close(g.open)
	g.mu.Unlock()
}

// pinger makes the broker report itself unreachable on demand.
type pinger struct {
	*gated
	mu   sync.Mutex
	fail bool
}

func (p *pinger) Ping(context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.fail {
		return errors.New("down")
	}
	return nil
}

func TestBrokerLagAndHealth(t *testing.T) {
	mem := broker.NewMemory(broker.MemoryConfig{})
	t.Cleanup(func() { _ = mem.Close() })
	g := &gated{Memory: mem, open: make(chan struct{})}
	close(g.open)
	b := &pinger{gated: g}
	s := newServer(t, hub.Config{Broker: b}, metrics.Config{})
	s.open(userToken(t, "t1", "u1"))
	pub := token(t, auth.Claims{Subject: "backend", TenantID: "t1", Roles: []string{auth.RolePublisher}})

	s.waitSeries(map[string]float64{"ssehub_broker_up": 1, "ssehub_broker_lag_events": 0, "ssehub_broker_lag_seconds": 0})

	g.shut()
	for i := range 3 {
		if code := s.publish(pub, event("tick", "t1", map[string]any{"tenantId": "t1"})); code != 202 {
			t.Fatalf("publish %d: got %d", i, code)
		}
	}
	time.Sleep(20 * time.Millisecond)
	got := s.waitSeries(map[string]float64{"ssehub_broker_lag_events": 3})
	if lag := got["ssehub_broker_lag_seconds"]; lag < 0.02 || lag > 5 {
		t.Errorf("lag seconds: got %v, want the age of the oldest undelivered event (≥ 20ms)", lag)
	}
	g.release()
	s.waitSeries(map[string]float64{"ssehub_broker_lag_events": 0, "ssehub_broker_lag_seconds": 0,
		`ssehub_events_dispatched_total{event="tick"}`: 3})

	b.mu.Lock()
	b.fail = true
	b.mu.Unlock()
	got = s.waitSeries(map[string]float64{"ssehub_broker_up": 0})
	if _, ok := got["ssehub_broker_lag_events"]; ok {
		t.Errorf("lag reported while the broker is down")
	}
	if _, ok := got["ssehub_broker_ping_seconds"]; !ok {
		t.Errorf("ssehub_broker_ping_seconds missing")
	}
}

// TestSlowConsumerDrops fills the queue of a client that stops reading and
// checks the drop and the close are counted as the hub counted them.
func TestSlowConsumerDrops(t *testing.T) {
	s := newServer(t, hub.Config{QueueSize: 2, WriteTimeout: 30 * time.Second}, metrics.Config{})
	// A raw client that reads the headers and sse:ready, then nothing.
	conn, err := net.Dial("tcp", strings.TrimPrefix(s.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetReadBuffer(4096)
	}
	fmt.Fprintf(conn, "GET /api/sse HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n\r\n", userToken(t, "t1", "slow"))
	br := bufio.NewReader(conn)
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(line, "event: sse:ready") {
			break
		}
	}
	pub := token(t, auth.Claims{Subject: "backend", TenantID: "t1", Roles: []string{auth.RolePublisher}})
	big := map[string]string{"pad": strings.Repeat("x", 60<<10)}
	batch := make([]any, 15) // under the 1 MiB body limit
	for i := range batch {
		batch[i] = map[string]any{"event": "big", "target": map[string]any{"userId": "slow"}, "data": big}
	}
	waitFor(t, "the slow consumer to be closed", func() bool {
		if code := s.publish(pub, batch); code != 202 {
			t.Fatalf("publish: got %d", code)
		}
		return s.hub.Stats().EventsDropped > 0
	})
	s.waitSeries(map[string]float64{
		`ssehub_connections_closed_total{reason="slow_consumer"}`: 1,
	})
	// The connection is gone, so the drops stop (a fan-out under way may
	// still count one): the metric converges on the hub's count.
	var d, want float64
	waitFor(t, "the dropped counter to match the hub's", func() bool {
		want = float64(s.hub.Stats().EventsDropped)
		d = s.scrape()[`ssehub_events_dropped_total{event="big"}`]
		return d == want && d > 0
	})
}
